/* FILE: iter.bpf.c
 * DESCRIPTION: a task iterator for tests/test_program_types.py. It writes one line
 *   per task, "L" for a thread-group leader and "T" for another thread, so the
 *   test knows every count from what it reads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	char line[2] = { 'T', '\n' };

	if (!task) /* once, after the last task */
		return 0;
	if (task->pid == task->tgid)
		line[0] = 'L';
	bpf_seq_write(ctx->meta->seq, line, sizeof(line));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
