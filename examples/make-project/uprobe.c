// SPDX-License-Identifier: GPL-2.0
/*
 * Attaches the uprobe to bpfcov_target() in this very program, for this
 * process only, calls it once per argument and prints the program's counts:
 *
 *     uprobe [X...]    (default: 1 12 13 40)
 */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "loader.h"
#include "uprobe.skel.h"

/* Probed by name: neither inlined nor specialised nor dropped by the compiler. */
#ifdef __clang__
#define PROBED __attribute__((noinline, used))
#else
#define PROBED __attribute__((noipa, used))
#endif

PROBED int bpfcov_target(int x)
{
	__asm__ volatile("" : "+r"(x) : : "memory");
	return x;
}

int main(int argc, char **argv)
{
	static const int defaults[] = {1, 12, 13, 40};
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = "bpfcov_target");
	struct uprobe_bpf *skel;
	char self[PATH_MAX];
	ssize_t len;
	int i;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0) {
		perror("uprobe: /proc/self/exe");
		return 1;
	}
	self[len] = '\0';

	skel = uprobe_bpf__open_and_load();
	if (!skel)
		return refused("uprobe", "load uprobe", errno);
	skel->links.on_target = bpf_program__attach_uprobe_opts(skel->progs.on_target, getpid(),
								 self, 0, &opts);
	if (!skel->links.on_target) {
		int status = refused("uprobe", "attach uprobe", errno);

		uprobe_bpf__destroy(skel);
		return status;
	}

	if (argc > 1)
		for (i = 1; i < argc; i++)
			bpfcov_target(atoi(argv[i]));
	else
		for (i = 0; i < (int)(sizeof(defaults) / sizeof(defaults[0])); i++)
			bpfcov_target(defaults[i]);

	printf("big_even %llu other %llu\n", (unsigned long long)skel->bss->big_even,
	       (unsigned long long)skel->bss->other);
	uprobe_bpf__destroy(skel);
	return 0;
}
