// SPDX-License-Identifier: GPL-2.0
/*
 * Attaches the sched_process_fork tp_btf program, then, followed by it, forks
 * N_FORKS children from the main thread and starts N_THREADS threads, one
 * after the other, the first of which forks N_THREAD_FORKS children; prints
 * the program's counts:
 *
 *     tp_btf [N_FORKS [N_THREADS [N_THREAD_FORKS]]]    (default 3 2 1)
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader.h"
#include "tp_btf.h"
#include "tp_btf.skel.h"

static int fork_children(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t child = fork();
		int status;

		if (child < 0)
			return -1;
		if (child == 0)
			_exit(0);
		if (waitpid(child, &status, 0) != child)
			return -1;
	}
	return 0;
}

static void *thread_main(void *forks)
{
	return (void *)(long)fork_children((long)forks);
}

int main(int argc, char **argv)
{
	long n[3] = {3, 2, 1};
	struct tp_btf_bpf *skel;
	int i, err = 0;

	for (i = 0; i < 3 && i + 1 < argc; i++)
		n[i] = atol(argv[i + 1]);

	skel = tp_btf_bpf__open_and_load();
	if (!skel)
		return refused("tp_btf", "load tp_btf", errno);
	if (tp_btf_bpf__attach(skel)) {
		int status = refused("tp_btf", "attach tp_btf", errno);

		tp_btf_bpf__destroy(skel);
		return status;
	}

	__atomic_store_n(&skel->bss->target_pid, (unsigned int)getpid(), __ATOMIC_SEQ_CST);
	err |= fork_children(n[0]);
	for (i = 0; i < n[1] && !err; i++) {
		pthread_t thread;
		void *result;

		if (pthread_create(&thread, NULL, thread_main, (void *)(i == 0 ? n[2] : 0L)) ||
		    pthread_join(thread, &result))
			err = -1;
		else
			err |= (int)(long)result;
	}
	__atomic_store_n(&skel->bss->target_pid, 0, __ATOMIC_SEQ_CST);

	if (err)
		fprintf(stderr, "tp_btf: cannot fork or start a thread\n");
	else
		printf("by_main %llu threads %llu by_threads %llu\n", skel->bss->counts.by_main,
		       skel->bss->counts.threads, skel->bss->counts.by_threads);
	tp_btf_bpf__destroy(skel);
	return err ? 1 : 0;
}
