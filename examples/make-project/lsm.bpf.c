// SPDX-License-Identifier: GPL-2.0
/*
 * A BPF LSM program on file_mprotect: refuses to make the stack executable,
 * for one process (the loader's). The stack is the mapping that holds the
 * process's initial stack pointer, mm->start_stack.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1
#define PROT_EXEC 0x4

__u32 target_pid = 0; /* 0: follow nobody */
__u64 denied = 0;
__u64 allowed = 0;

SEC("lsm/file_mprotect")
int BPF_PROG(no_exec_stack, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (ret != 0) /* an earlier LSM has decided */
		return ret;
	if (pid != target_pid)
		return 0;

	if (prot & PROT_EXEC && vma->vm_start <= vma->vm_mm->start_stack &&
	    vma->vm_end >= vma->vm_mm->start_stack) {
		__sync_fetch_and_add(&denied, 1);
		return -EPERM;
	}
	__sync_fetch_and_add(&allowed, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
