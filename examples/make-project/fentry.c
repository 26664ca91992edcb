// SPDX-License-Identifier: GPL-2.0
/*
 * Attaches the do_unlinkat fentry program, creates files in a new temporary
 * directory, then, followed by it, removes N_UNLINK of them with unlink() and
 * N_UNLINKAT with unlinkat() relative to the directory; prints the counts:
 *
 *     fentry [N_UNLINK [N_UNLINKAT]]    (default 3 2)
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fentry.skel.h"
#include "loader.h"

int main(int argc, char **argv)
{
	long n[2] = {3, 2}, i;
	char dir[] = "/tmp/bpfcov-fentry.XXXXXX", path[64];
	struct fentry_bpf *skel;
	int dirfd, status = 0;

	for (i = 0; i < 2 && i + 1 < argc; i++)
		n[i] = atol(argv[i + 1]);

	skel = fentry_bpf__open_and_load();
	if (!skel)
		return refused("fentry", "load fentry", errno);
	if (fentry_bpf__attach(skel)) {
		status = refused("fentry", "attach fentry", errno);
		fentry_bpf__destroy(skel);
		return status;
	}
	if (!mkdtemp(dir) || (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror("fentry: temporary directory");
		fentry_bpf__destroy(skel);
		return 1;
	}
	for (i = 0; i < n[0] + n[1]; i++) {
		int fd = openat(dirfd, (snprintf(path, sizeof(path), "%ld", i), path),
				O_CREAT | O_WRONLY, 0600);

		if (fd < 0 || close(fd)) {
			perror("fentry: create");
			status = 1;
		}
	}

	__atomic_store_n(&skel->bss->target_pid, (unsigned int)getpid(), __ATOMIC_SEQ_CST);
	for (i = 0; i < n[0] + n[1] && !status; i++) {
		char full[128];

		snprintf(path, sizeof(path), "%ld", i);
		snprintf(full, sizeof(full), "%s/%s", dir, path);
		if (i < n[0] ? unlink(full) : unlinkat(dirfd, path, 0)) {
			perror("fentry: unlink");
			status = 1;
		}
	}
	__atomic_store_n(&skel->bss->target_pid, 0, __ATOMIC_SEQ_CST);
	close(dirfd);
	rmdir(dir);

	if (!status)
		printf("from_cwd %llu from_dirfd %llu\n", (unsigned long long)skel->bss->from_cwd,
		       (unsigned long long)skel->bss->from_dirfd);
	fentry_bpf__destroy(skel);
	return status;
}
