// SPDX-License-Identifier: GPL-2.0
/* read_counters PACKET.bin N: runs the packet N times, then prints the function-entry
 * counter of xdp_parser read through the skeleton's typed coverage members. */
#include <stdio.h>
#include <stdlib.h>

#include "xdp_parser.skel.h"

int main(int argc, char **argv)
{
	struct xdp_parser *skel = xdp_parser__open_and_load();
	char packet[2048];
	FILE *f;
	size_t len;

	if (!skel || argc != 3 || !(f = fopen(argv[1], "rb")))
		return 1;
	len = fread(packet, 1, sizeof(packet), f);
	fclose(f);
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = (__u32)len,
		    .repeat = atoi(argv[2]));
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_parser), &run))
		return 1;
	printf("%llu %u\n", skel->data_profc->__profc_xdp_parser[0],
	       skel->rodata_profd->__profd_xdp_parser_NumCounters);
	xdp_parser__destroy(skel);
	return 0;
}
