// SPDX-License-Identifier: GPL-2.0
/*
 * A tracepoint program laid out as libbpf-bootstrap lays out its "minimal"
 * example: libbpf's headers come from the project's own output directory
 * (-I.output, .output/bpf/bpf_helpers.h), not from the system. It prints one
 * trace line per write(2) of the process the loader names; every other
 * process's writes return at once. One write of that process runs every line.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int watched_pid = 0;

SEC("tp/syscalls/sys_enter_write")
int on_write(void *ctx)
{
	int pid = bpf_get_current_pid_tgid() >> 32;

	if (pid != watched_pid)
		return 0;
	bpf_printk("write from pid %d", pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
