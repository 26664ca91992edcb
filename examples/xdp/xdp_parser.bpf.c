// SPDX-License-Identifier: GPL-2.0
/*
 * A small XDP packet parser, the example bpfcov's tests run in the kernel.
 *
 * Ethernet, up to MAX_VLAN_DEPTH stacked VLAN tags (a bounded loop), IPv4,
 * then UDP. It drops what is truncated and UDP to privileged ports other
 * than DNS; it passes everything else. Its branches, the loop, the &&
 * short circuit, the ?: and the static helper each get their own counter.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_VLAN_DEPTH 2
#define DNS_PORT 53

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* The verdict for a UDP packet to `port`. */
static __attribute__((noinline)) int port_verdict(__u16 port)
{
	if (port == DNS_PORT)
		return XDP_PASS;
	if (port < 1024)
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xdp_parser(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;
	data = eth + 1;

	for (i = 0; i < MAX_VLAN_DEPTH; i++) {
		struct vlan_hdr *vlan = data;

		if (proto != bpf_htons(ETH_P_8021Q))
			break;
		if ((void *)(vlan + 1) > data_end)
			return XDP_DROP;
		proto = vlan->proto;
		data = vlan + 1;
	}

	if (proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	ip = data;
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;

	if (ip->protocol == IPPROTO_UDP && ip->ihl == 5) {
		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		return port_verdict(bpf_ntohs(udp->dest));
	}

	return ip->ttl > 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
