// SPDX-License-Identifier: GPL-2.0
/*
 * A uprobe on bpfcov_target(int x), a function of the loader: sorts each
 * argument into "big and even" or "other". The && short-circuits: x % 2 is
 * only looked at for x > 10.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 big_even = 0;
__u64 other = 0;

SEC("uprobe")
int on_target(struct pt_regs *ctx)
{
	int x = (int)PT_REGS_PARM1(ctx);

	if (x > 10 && x % 2 == 0)
		__sync_fetch_and_add(&big_even, 1);
	else
		__sync_fetch_and_add(&other, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
