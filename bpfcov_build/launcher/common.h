/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * launcher/common.h: what the two native launchers (bpfcov_cc.c, bpfcov_run.c)
 * share: finding where they are installed, handing a call over to the Python
 * reference beside them, and the small string and path helpers both use.
 *
 * The includer defines LAUNCHER_PROG (its name, for messages) and
 * LAUNCHER_REFERENCE (the Python program it hands over to) first. Every
 * function is static inline: each launcher uses only some of them.
 */
#ifndef BPFCOV_LAUNCHER_COMMON_H
#define BPFCOV_LAUNCHER_COMMON_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *const *Argv; /* our own argv, handed over whole */
static char SelfDir[PATH_MAX];

static inline bool verbose(void) {
  const char *v = getenv("BPFCOV_VERBOSE");
  return v != NULL && *v != '\0';
}

static inline bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline char *joined(const char *fmt, ...) {
  va_list ap;
  char *out = NULL;
  va_start(ap, fmt);
  if (vasprintf(&out, fmt, ap) < 0) {
    fprintf(stderr, "%s: error: out of memory\n", LAUNCHER_PROG);
    exit(1);
  }
  va_end(ap);
  return out;
}

static inline bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static inline bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The Python reference does the call: the launcher's answer for every case
 * it does not take itself. */
static inline _Noreturn void hand_over(const char *why) {
  char *reference = joined("%s/%s", SelfDir, LAUNCHER_REFERENCE);
  if (verbose())
    fprintf(stderr, "%s: handing over to %s (%s)\n", LAUNCHER_PROG, reference, why);
  execv(reference, Argv);
  fprintf(stderr, "%s: error: cannot run %s (%s); reinstall bpfcov\n", LAUNCHER_PROG, reference,
          strerror(errno));
  exit(1);
}

/* A path as pathlib spells it: no empty or "." components; NULL when pathlib
 * would keep something this does not ("//x"). */
static inline char *normalized(const char *path) {
  if (path[0] == '/' && path[1] == '/' && path[2] != '/')
    return NULL;
  size_t n = strlen(path);
  char *out = malloc(n + 2);
  size_t len = 0;
  if (out == NULL)
    return NULL;
  if (path[0] == '/')
    out[len++] = '/';
  const char *p = path;
  while (*p != '\0') {
    while (*p == '/')
      p++;
    const char *end = strchrnul(p, '/');
    size_t part = (size_t)(end - p);
    if (part > 0 && !(part == 1 && p[0] == '.')) {
      if (len > 0 && out[len - 1] != '/')
        out[len++] = '/';
      memcpy(out + len, p, part);
      len += part;
    }
    p = end;
  }
  if (len == 0)
    out[len++] = '.';
  out[len] = '\0';
  return out;
}

/* pathlib's name: what follows the last slash. */
static inline const char *name_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

/* Where this program is installed: /proc/self/exe, else (no /proc, as in some build
 * chroots) argv[0] as the shell found it. */
static inline bool find_self(const char *argv0, char *self) {
  ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 1);
  if (n > 0) {
    self[n] = '\0';
    return true;
  }
  if (strchr(argv0, '/') != NULL)
    return realpath(argv0, self) != NULL;
  const char *path = getenv("PATH");
  for (const char *p = path != NULL ? path : ""; *p != '\0';) {
    const char *end = strchrnul(p, ':');
    char *file = joined("%.*s/%s", (int)(end - p), p, argv0);
    bool found = access(file, X_OK) == 0 && realpath(file, self) != NULL;
    free(file);
    if (found)
      return true;
    p = *end == '\0' ? end : end + 1;
  }
  return false;
}

/* Sets SelfDir from where this program is installed; false if that is unknown. */
static inline bool find_self_dir(int argc, char **argv) {
  char self[PATH_MAX];
  Argv = argv;
  if (argc < 1 || !find_self(argv[0], self)) {
    fprintf(stderr, "%s: error: cannot find where it is installed (no /proc/self/exe)\n",
            LAUNCHER_PROG);
    return false;
  }
  snprintf(SelfDir, sizeof SelfDir, "%.*s", (int)(strrchr(self, '/') - self), self);
  return true;
}

#endif /* BPFCOV_LAUNCHER_COMMON_H */
