// SPDX-License-Identifier: GPL-2.0
/*
 * Loads the XDP parser through its libbpf skeleton and runs packets through it
 * in the kernel (BPF_PROG_TEST_RUN), as a test harness would:
 *
 *     xdp_loader [-r REPEAT] [-p] PACKET.bin...
 *
 * Prints each packet's verdict. With -p it then prints "ready" and keeps the
 * program loaded until SIGINT or SIGTERM, like a daemon would. Built against the skeleton of a plain or of an
 * instrumented xdp_parser.bpf.o alike: the source does not change.
 */
#include <errno.h>
#include <signal.h>
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

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const char *verdicts[] = {"aborted", "drop", "pass", "tx", "redirect"};
	struct xdp_parser *skel;
	int repeat = 1, opt, i, err = 0, pause_after = 0;
	char packet[2048];

	while ((opt = getopt(argc, argv, "r:p")) != -1) {
		if (opt == 'r') {
			repeat = atoi(optarg);
		} else if (opt == 'p') {
			pause_after = 1;
		} else {
			fprintf(stderr, "usage: %s [-r REPEAT] [-p] PACKET.bin...\n", argv[0]);
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

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

	if (pause_after && !err) {
		sigset_t block, old;

		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigprocmask(SIG_BLOCK, &block, &old);
		printf("ready\n");
		fflush(stdout);
		while (!stop)
			sigsuspend(&old);
	}
	xdp_parser__destroy(skel);
	return err ? 1 : 0;
}
