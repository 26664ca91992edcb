// SPDX-License-Identifier: GPL-2.0
/*
 * Loads minimal.bpf.o through its skeleton, names this process, attaches the
 * tracepoint and writes argv[1] times to /dev/null: each write runs the
 * program's printing path once. A child writes once too: another process, whose
 * write the program lets go at once.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "minimal.skel.h"

int main(int argc, char **argv)
{
	int writes = argc > 1 ? atoi(argv[1]) : 1;
	struct minimal *skel = minimal__open_and_load();
	int fd, i, status;
	pid_t child;

	if (!skel) {
		fprintf(stderr, "minimal: cannot load the BPF object\n");
		return 1;
	}
	skel->bss->watched_pid = getpid();
	if (minimal__attach(skel)) {
		fprintf(stderr, "minimal: cannot attach the tracepoint\n");
		minimal__destroy(skel);
		return 1;
	}
	fd = open("/dev/null", O_WRONLY);
	for (i = 0; i < writes; i++)
		if (write(fd, "x", 1) != 1)
			return 1;
	child = fork();
	if (child == 0)
		_exit(write(fd, "y", 1) == 1 ? 0 : 1);
	if (child < 0 || waitpid(child, &status, 0) != child || status != 0)
		return 1;
	close(fd);
	minimal__destroy(skel);
	return 0;
}
