// SPDX-License-Identifier: GPL-2.0
/*
 * Attaches the file_mprotect LSM program, then, followed by it, asks
 * mprotect() to make a stack page read-write-executable N_STACK_EXEC times, an
 * anonymous mapping read-write-executable N_MAP_EXEC times and a stack page
 * read-write N_STACK_RW times; prints the program's counts and how many of the
 * calls failed with EPERM:
 *
 *     lsm [N_STACK_EXEC [N_MAP_EXEC [N_STACK_RW]]]    (default 2 3 1)
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loader.h"
#include "lsm.skel.h"

int main(int argc, char **argv)
{
	long n[3] = {2, 3, 1};
	struct lsm_bpf *skel;
	long page = sysconf(_SC_PAGESIZE), i;
	char on_stack = 0;
	void *stack = (void *)((uintptr_t)&on_stack & ~(uintptr_t)(page - 1));
	void *map;
	int status, eperm = 0, made_exec = 0;

	for (i = 0; i < 3 && i + 1 < argc; i++)
		n[i] = atol(argv[i + 1]);
	map = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		perror("lsm: mmap");
		return 1;
	}

	skel = lsm_bpf__open_and_load();
	if (!skel)
		return refused("lsm", "load lsm", errno);
	if (lsm_bpf__attach(skel)) {
		status = refused("lsm", "attach lsm", errno);
		lsm_bpf__destroy(skel);
		return status;
	}

	__atomic_store_n(&skel->bss->target_pid, (unsigned int)getpid(), __ATOMIC_SEQ_CST);
	for (i = 0; i < n[0]; i++) {
		if (mprotect(stack, (size_t)page, PROT_READ | PROT_WRITE | PROT_EXEC) == 0)
			made_exec = 1;
		else if (errno == EPERM)
			eperm++;
	}
	for (i = 0; i < n[1]; i++)
		if (mprotect(map, (size_t)page, PROT_READ | PROT_WRITE | PROT_EXEC) && errno == EPERM)
			eperm++;
	for (i = 0; i < n[2]; i++)
		if (mprotect(stack, (size_t)page, PROT_READ | PROT_WRITE) && errno == EPERM)
			eperm++;
	__atomic_store_n(&skel->bss->target_pid, 0, __ATOMIC_SEQ_CST);
	if (made_exec) /* not refused after all: put the stack back */
		mprotect(stack, (size_t)page, PROT_READ | PROT_WRITE);

	printf("denied %llu allowed %llu eperm %d\n", (unsigned long long)skel->bss->denied,
	       (unsigned long long)skel->bss->allowed, eperm);
	lsm_bpf__destroy(skel);
	munmap(map, (size_t)page);
	return 0;
}
