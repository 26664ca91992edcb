/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpfcov/save.h: a loader saves the coverage of its own BPF programs.
 *
 *     #include <bpfcov/save.h>      // cc -I"$(bpfcov skel --include-dir)" ...
 *
 *     skel = prog__open_and_load();
 *     bpfcov_save(skel->obj, getenv("BPFCOV_DIR"));   // once, after loading
 *
 * pins the coverage maps of the object (built with bpfcov-cc) under DIR, in a
 * directory of their own, as `bpfcov run` would: `bpfcov gen DIR` reads them,
 * also after the loader has exited. The programs keep counting into the pinned
 * maps for as long as they stay loaded. For an object built without coverage,
 * or a NULL or empty DIR, it does nothing and returns 0, so one loader source
 * builds against the plain and the instrumented skeleton alike.
 *
 * Returns 0, or a negative errno.
 */
#ifndef BPFCOV_SAVE_H
#define BPFCOV_SAVE_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The sections bpfcov-cc gives an object, one map each (contract.def, beside
 * this file, declares them for the pass and the runtime too). */
static const char *const bpfcov__sections[] = {
#define BPFCOV_SECTION(Id, Name) Name,
#include "contract.def"
};

/* The infix of an object's directory of pins: "<n>" infix "<btf id>". */
static inline const char *bpfcov__group_infix(void)
{
#define BPFCOV_STRING(Id, Value) if (strcmp(#Id, "GroupInfix") == 0) return Value;
#include "contract.def"
	return "";
}

static inline int bpfcov__is_coverage_map(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(bpfcov__sections) / sizeof(bpfcov__sections[0]); i++)
		if (strcmp(name, bpfcov__sections[i]) == 0)
			return 1;
	return 0;
}

/* The first group number not used under dir ("<n>-btf<id>" directories). */
static inline unsigned bpfcov__next_group(const char *dir)
{
	const char *infix = bpfcov__group_infix();
	unsigned long n, next = 1;
	struct dirent *entry;
	DIR *d = opendir(dir);
	char *end;

	if (!d)
		return next;
	while ((entry = readdir(d))) {
		if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
			continue;
		n = strtoul(entry->d_name, &end, 10);
		if (strncmp(end, infix, strlen(infix)) == 0 && n >= next)
			next = n + 1;
	}
	closedir(d);
	return next;
}

static inline int bpfcov_save(const struct bpf_object *obj, const char *dir)
{
	char group[PATH_MAX], pin[PATH_MAX], file[32];
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct bpf_map *map;
	int grouped = 0, n;
	size_t i;

	if (!obj || !dir || !*dir)
		return 0;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);

		if (!bpfcov__is_coverage_map(name))
			continue;
		if (!grouped) {
			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len))
				return -errno;
			if (mkdir(dir, 0700) && errno != EEXIST)
				return -errno;
			n = snprintf(group, sizeof(group), "%s/%u%s%u", dir,
				     bpfcov__next_group(dir), bpfcov__group_infix(),
				     info.btf_id);
			if (n < 0 || (size_t)n >= sizeof(group))
				return -ENAMETOOLONG;
			if (mkdir(group, 0700))
				return -errno;
			grouped = 1;
		}
		/* the file name bpftool's pinmaps would use: '.' becomes '_' */
		snprintf(file, sizeof(file), "%s", name);
		for (i = 0; file[i]; i++)
			if (file[i] == '.')
				file[i] = '_';
		n = snprintf(pin, sizeof(pin), "%s/%s", group, file);
		if (n < 0 || (size_t)n >= sizeof(pin))
			return -ENAMETOOLONG;
		if (bpf_obj_pin(bpf_map__fd(map), pin))
			return -errno;
	}
	return 0;
}

#endif /* BPFCOV_SAVE_H */
