// SPDX-License-Identifier: GPL-2.0
/*
 * Counts the system calls one process makes, by kind: a raw tracepoint on
 * sys_enter. The loader writes the process id to follow and the syscall
 * numbers to watch (they differ between architectures) into .bss after
 * loading; calls of other processes are ignored, so counts are exact.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NWATCH 3

__u32 target_pid = 0;      /* 0: follow nobody */
__s64 watched[NWATCH] = {}; /* syscall numbers, e.g. getpid, read, write */
__u64 counts[NWATCH + 1] = {}; /* one per watched call, then "other" */

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__s64 id = ctx->args[1];
	int i;

	if (pid != target_pid)
		return 0;

	for (i = 0; i < NWATCH; i++) {
		if (watched[i] == id) {
			__sync_fetch_and_add(&counts[i], 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&counts[NWATCH], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
