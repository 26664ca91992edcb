// SPDX-License-Identifier: GPL-2.0
/*
 * save_loader DIR PACKET.bin...: loads the XDP parser through its skeleton (from
 * `bpfcov skel`), saves its coverage under DIR, runs each packet file once.
 * The same source builds against the plain and the instrumented skeleton.
 */
#include <stdio.h>
#include <string.h>

#include "xdp_parser.skel.h"

int main(int argc, char **argv)
{
	struct xdp_parser *skel = xdp_parser__open_and_load();
	char packet[2048];
	int i, err;

	if (!skel || argc < 2)
		return 1;
	err = xdp_parser__bpfcov_save(skel, argv[1]);
	if (err) {
		fprintf(stderr, "save_loader: bpfcov_save: %s\n", strerror(-err));
		return 1;
	}
	for (i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t len = f ? fread(packet, 1, sizeof(packet), f) : 0;
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = (__u32)len);

		if (f)
			fclose(f);
		if (!len || bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_parser), &run))
			return 1;
	}
	xdp_parser__destroy(skel);
	return 0;
}
