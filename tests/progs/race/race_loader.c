// SPDX-License-Identifier: GPL-2.0
/*
 * Loads race.bpf.o, attaches it to sys_enter with the kernel's run statistics
 * on (BPF_ENABLE_STATS), keeps every CPU busy making system calls, then
 * detaches and prints how often the kernel ran the program:
 *
 *     race_loader SECONDS [READY_FILE]
 *
 * prints "run_cnt N" on stdout after detaching, so nothing runs the program
 * after N was read. With READY_FILE, creates it once the load is running (a
 * test takes snapshots from then on).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf_version.h>

#include "race.skel.h"

static volatile int stop;

static void *busy(void *arg)
{
	long cpu = (long)arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		syscall(SYS_getppid);
	return NULL;
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), i;
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	pthread_t *threads;
	struct timespec nap;
	struct race *skel;
	int stats;

	skel = race__open_and_load();
	if (!skel) {
		fprintf(stderr, "race_loader: cannot load: %s\n", strerror(errno));
		return 1;
	}
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0) {
		fprintf(stderr, "race_loader: BPF_ENABLE_STATS: %s\n", strerror(-stats));
		return 1;
	}
	if (race__attach(skel)) {
		fprintf(stderr, "race_loader: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	threads = calloc(cpus, sizeof(*threads));
	for (i = 0; i < cpus; i++)
		pthread_create(&threads[i], NULL, busy, (void *)i);
	if (argc > 2)
		close(open(argv[2], O_CREAT | O_WRONLY, 0600));
	nap.tv_sec = (time_t)seconds;
	nap.tv_nsec = (long)((seconds - (double)nap.tv_sec) * 1e9);
	nanosleep(&nap, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < cpus; i++)
		pthread_join(threads[i], NULL);
	race__detach(skel); /* waits for runs in flight: the counts are final */

	memset(&info, 0, sizeof(info));
#if LIBBPF_MAJOR_VERSION > 1 || LIBBPF_MINOR_VERSION >= 2
	if (bpf_prog_get_info_by_fd(bpf_program__fd(skel->progs.race), &info, &len)) {
#else
	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.race), &info, &len)) {
#endif
		fprintf(stderr, "race_loader: prog info: %s\n", strerror(errno));
		return 1;
	}
	printf("run_cnt %llu\n", (unsigned long long)info.run_cnt);
	close(stats);
	race__destroy(skel);
	return 0;
}
