// SPDX-License-Identifier: GPL-2.0
/*
 * A raw tracepoint on sys_enter that every CPU runs at once: each system call
 * of every task runs it. It follows nobody (target_pid stays 0, which no task
 * making system calls has), so the code after the check never runs, and the
 * counts of its regions are known exactly: the entry count is the kernel's own
 * run count of the program, the check returns as often, "hits" is 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 target_pid = 0;
__u64 hits = 0;
__u64 odd = 0;

SEC("raw_tracepoint/sys_enter")
int race(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (ctx->args[1] & 1)
		__sync_fetch_and_add(&odd, 1);
	if (pid != target_pid)
		return 0;
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
