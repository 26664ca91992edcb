// SPDX-License-Identifier: GPL-2.0
/*
 * Runs the XDP parser of ../xdp in the kernel (BPF_PROG_TEST_RUN) on packets
 * it builds itself, each kind a given number of times:
 *
 *     xdp_parser [N_DNS [N_SSH [N_HTTP [N_TCP [N_IPV6 [N_IPOPT [N_VLAN]]]]]]]
 *
 * (1 of each by default) and prints one line per kind: its name, the
 * program's verdict and how many times it ran.
 */
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "xdp_parser.skel.h"

enum kind { DNS, SSH, HTTP, TCP, IPV6, IPOPT, VLAN, NKINDS };

static const char *const kind_names[NKINDS] = {
	"dns", "ssh", "http", "tcp", "ipv6", "ipopt", "vlan",
};

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/*
 * The packet of one kind into buf (zeroed, 128 bytes); returns its length.
 * dns/ssh/http: IPv4 UDP to port 53/22/8080; tcp: IPv4 TCP; ipv6: an IPv6
 * header; ipopt: IPv4 UDP with a 24-byte header and TTL 1; vlan: one 802.1Q
 * tag, then IPv4 UDP to port 53.
 */
static int build_packet(enum kind kind, unsigned char *buf)
{
	static const unsigned int ports[] = {[DNS] = 53, [SSH] = 22, [HTTP] = 8080, [VLAN] = 53};
	int off = 12, ihl = kind == IPOPT ? 6 : 5;

	memset(buf, 0, 128);
	if (kind == VLAN) {
		put16(buf + off, 0x8100);
		put16(buf + off + 2, 7); /* TCI */
		off += 4;
	}
	put16(buf + off, kind == IPV6 ? 0x86dd : 0x0800);
	off += 2;
	if (kind == IPV6)
		return off + 40;
	buf[off] = (unsigned char)(0x40 | ihl);
	buf[off + 8] = kind == IPOPT ? 1 : 64;  /* TTL */
	buf[off + 9] = kind == TCP ? 6 : 17;    /* protocol */
	off += 4 * ihl;
	if (kind == TCP)
		return off + 20;
	put16(buf + off, 4000);
	put16(buf + off + 2, ports[kind]);
	return off + 8;
}

int main(int argc, char **argv)
{
	static const char *const verdicts[] = {"aborted", "drop", "pass", "tx", "redirect"};
	struct xdp_parser_bpf *skel;
	unsigned char packet[128];
	int kind, status = 0;

	skel = xdp_parser_bpf__open_and_load();
	if (!skel)
		return refused("xdp_parser", "load xdp_parser", errno);

	for (kind = 0; kind < NKINDS && !status; kind++) {
		int times = kind + 1 < argc ? atoi(argv[kind + 1]) : 1;
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .repeat = times);

		if (times <= 0)
			continue;
		run.data_size_in = (__u32)build_packet(kind, packet);
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_parser), &run)) {
			status = refused("xdp_parser", "test-run xdp_parser", errno);
			break;
		}
		printf("%s %s %d\n", kind_names[kind],
		       run.retval < 5 ? verdicts[run.retval] : "?", times);
	}
	xdp_parser_bpf__destroy(skel);
	return status;
}
