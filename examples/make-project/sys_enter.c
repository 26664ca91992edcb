// SPDX-License-Identifier: GPL-2.0
/*
 * Attaches the sys_enter raw tracepoint of ../tracepoint, follows this process
 * while it makes a known number of system calls, and prints the program's
 * counts:
 *
 *     sys_enter [N_GETPPID [N_GETUID [N_GETGID]]]    (default 3 2 1)
 *
 * The pid is written to .bss after attaching and cleared before detaching, so
 * exactly the calls of the loop are followed: "other" stays 0.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loader.h"
#include "sys_enter.skel.h"

int main(int argc, char **argv)
{
	static const long calls[3] = {SYS_getppid, SYS_getuid, SYS_getgid};
	long times[3] = {3, 2, 1};
	struct sys_enter_bpf *skel;
	int i, n, status;

	for (i = 0; i < 3 && i + 1 < argc; i++)
		times[i] = atol(argv[i + 1]);

	skel = sys_enter_bpf__open_and_load();
	if (!skel)
		return refused("sys_enter", "load sys_enter", errno);
	if (sys_enter_bpf__attach(skel)) {
		status = refused("sys_enter", "attach sys_enter", errno);
		sys_enter_bpf__destroy(skel);
		return status;
	}
	for (i = 0; i < 3; i++)
		skel->bss->watched[i] = calls[i];
	__atomic_store_n(&skel->bss->target_pid, (unsigned int)getpid(), __ATOMIC_SEQ_CST);
	for (i = 0; i < 3; i++)
		for (n = 0; n < times[i]; n++)
			syscall(calls[i]);
	__atomic_store_n(&skel->bss->target_pid, 0, __ATOMIC_SEQ_CST);

	printf("getppid %llu getuid %llu getgid %llu other %llu\n",
	       (unsigned long long)skel->bss->counts[0], (unsigned long long)skel->bss->counts[1],
	       (unsigned long long)skel->bss->counts[2], (unsigned long long)skel->bss->counts[3]);
	sys_enter_bpf__destroy(skel);
	return 0;
}
