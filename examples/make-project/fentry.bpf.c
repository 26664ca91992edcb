// SPDX-License-Identifier: GPL-2.0
/*
 * An fentry program on the kernel's do_unlinkat(int dfd, struct filename *),
 * which unlink() and unlinkat() both reach: counts one process's (the
 * loader's) calls, relative to the working directory or to a directory fd.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define AT_FDCWD -100

__u32 target_pid = 0; /* 0: follow nobody */
__u64 from_cwd = 0;
__u64 from_dirfd = 0;

SEC("fentry/do_unlinkat")
int BPF_PROG(on_unlinkat, int dfd, struct filename *name)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (pid != target_pid)
		return 0;
	if (dfd == AT_FDCWD)
		__sync_fetch_and_add(&from_cwd, 1);
	else
		__sync_fetch_and_add(&from_dirfd, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
