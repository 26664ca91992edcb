// SPDX-License-Identifier: GPL-2.0
/*
 * An XDP access list with one three-condition decision, for MC/DC coverage:
 * remote logins (TCP to port 22 or 23) are dropped unless the loader allowed
 * them. Build with `bpfcov-cc ... -fcoverage-mcdc` (LLVM 18 or newer) and
 * `bpfcov out -f html` shows each condition's independence pair.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

__u32 allow_remote_login = 0; /* set by the loader */

SEC("xdp")
int xdp_acl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	__u16 port;

	if ((void *)(tcp + 1) > data_end || eth->h_proto != __constant_htons(ETH_P_IP))
		return XDP_PASS;
	port = __builtin_bswap16(tcp->dest);

	if (ip->protocol == IPPROTO_TCP && (port == 22 || port == 23) && !allow_remote_login)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
