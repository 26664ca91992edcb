// SPDX-License-Identifier: GPL-2.0
/*
 * Loads the XDP parser through its libbpf skeleton and runs packets through it
 * in the kernel (BPF_PROG_TEST_RUN), as a test harness would:
 *
 *     xdp_loader [-r REPEAT] PACKET.bin...
 *
 * Prints each packet's verdict. Built against the skeleton of a plain or of an
 * instrumented xdp_parser.bpf.o alike: the source does not change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_parser.skel.h"

static int read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size, f);
	fclose(f);
	return (int)n;
}

int main(int argc, char **argv)
{
	static const char *verdicts[] = {"aborted", "drop", "pass", "tx", "redirect"};
	struct xdp_parser *skel;
	int repeat = 1, opt, i, err = 0;
	char packet[2048];

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r') {
			fprintf(stderr, "usage: %s [-r REPEAT] PACKET.bin...\n", argv[0]);
			return 2;
		}
		repeat = atoi(optarg);
	}

	skel = xdp_parser__open_and_load();
	if (!skel) {
		fprintf(stderr, "xdp_loader: cannot load the XDP program: %s\n", strerror(errno));
		return 1;
	}

	for (i = optind; i < argc && !err; i++) {
		int len = read_file(argv[i], packet, sizeof(packet));
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .repeat = repeat);

		if (len < 0) {
			fprintf(stderr, "xdp_loader: %s: %s\n", argv[i], strerror(-len));
			err = 1;
			break;
		}
		run.data_size_in = (__u32)len;
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_parser), &run);
		if (err) {
			fprintf(stderr, "xdp_loader: test run: %s\n", strerror(errno));
			break;
		}
		printf("%s: %s\n", argv[i], run.retval < 5 ? verdicts[run.retval] : "?");
	}

	xdp_parser__destroy(skel);
	return err ? 1 : 0;
}
