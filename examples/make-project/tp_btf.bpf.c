// SPDX-License-Identifier: GPL-2.0
/*
 * A BTF-enabled tracepoint: sched_process_fork, whose arguments are the
 * kernel's own task_structs, read directly. Sorts the new tasks of one process
 * (the loader's) into processes forked by its main thread, threads, and
 * processes forked by other threads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tp_btf.h"

__u32 target_pid = 0; /* 0: follow nobody */
struct fork_counts counts = {};

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	if (parent->tgid != target_pid)
		return 0;

	if (child->tgid != parent->tgid && parent->pid == parent->tgid)
		__sync_fetch_and_add(&counts.by_main, 1);
	else if (child->tgid == parent->tgid)
		__sync_fetch_and_add(&counts.threads, 1);
	else
		__sync_fetch_and_add(&counts.by_threads, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
