/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpfcov, the native front: `bpfcov run` without starting Python.
 *
 * `bpfcov run -- PROG` traces PROG and pins every coverage map it creates the
 * moment it is created, so that none is lost when PROG exits. In Python
 * (bpfcov_build/tracer.py, spawn.py, pin_dir.py, cmd_run.py, installed as
 * bpfcov-py) the interpreter and the modules the tracer needs take 20-90 ms
 * to start, on every run. This program does the same run itself:
 *
 *   1. check what the run needs (root, bpffs, a free pin directory);
 *   2. fork PROG, which waits until it is seized (PTRACE_SEIZE), installs a
 *      seccomp filter that traps bpf(BPF_MAP_CREATE) and bpf(BPF_PROG_LOAD)
 *      under every ABI of the machine (nothing else ever stops it), and execs;
 *   3. follow PROG, its forks, threads and exec'd programs: at a
 *      BPF_MAP_CREATE of a map named after a coverage section, step to the
 *      call's exit, take the new fd (pidfd_getfd) and pin the map under its
 *      object's directory (<n>-btf<id>); at a BPF_PROG_LOAD after that, mark
 *      the objects whose maps the program uses as loaded;
 *   4. pass SIGINT, SIGTERM, SIGHUP and SIGQUIT on to PROG (not those the
 *      terminal already sent it), keep job control working, and exit with
 *      PROG's status once PROG and every descendant are done;
 *   5. mark and name each object none of whose programs loaded, and say what
 *      was pinned, in the words cmd_run.py uses.
 *
 * Everything else goes to bpfcov-py with the same arguments: every other
 * subcommand, any option but --pin-dir and --require-coverage (-v, --help),
 * and every check that fails, whose message the Python side words (no bpffs,
 * a pin directory in use or off bpffs, a program not found, a tracer that
 * cannot seize). So this program never has to be right about a case it does
 * not know. Only "needs root" is said here: a user may not reach the Python
 * side's interpreter. BPFCOV_VERBOSE=1 says when it hands over, and why.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define LAUNCHER_PROG "bpfcov"
#define LAUNCHER_REFERENCE "bpfcov-py" /* the Python CLI, beside this program */
#include "common.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* linux/pidfd.h, Linux 6.9 */
#endif

/* --- The facts this program shares with the Python side. ----------------- */

#define UNUSED __attribute__((unused))
#define BPFCOV_STRING(Id, Text) UNUSED static const char Contract##Id[] = Text;
#define BPFCOV_VALUE(Id, N) UNUSED static const unsigned long long Contract##Id = (N);
#include "bpfcov/contract.def"

enum section {
#define BPFCOV_SECTION(Id, Name) Section##Id,
#include "bpfcov/contract.def"
  SectionCount
};

static const char *const SectionName[] = {
#define BPFCOV_SECTION(Id, Name) Name,
#include "bpfcov/contract.def"
};

enum trailer_field {
#define BPFCOV_TRAILER(Id) Trailer##Id,
#include "bpfcov/contract.def"
  TrailerFields
};

/* The signals passed on to the program instead of ending this one
 * (spawn.FORWARDED_SIGNALS). */
static const int Forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define FORWARDED_COUNT (sizeof Forwarded / sizeof Forwarded[0])

/* (seccomp_data.arch, seccomp_data.nr) of bpf() under each ABI of this machine:
 * the native one, x32, and i386 (abi_compat.c reads asm/unistd_32.h). */
struct abi_call {
  uint32_t arch;
  uint32_t nr;
};
extern const uint32_t BpfcovI386Bpf;

#define SI_KERNEL_CODE 0x80 /* si_code of a signal the kernel sent (the terminal's) */
#define CHILD_FAILED 127

/* --- Small helpers. ------------------------------------------------------- */

static const char *Command0; /* the program, as the user named it */
static char *PinDir;         /* as pathlib spells it */

static void *checked(void *p) {
  if (p == NULL) {
    fprintf(stderr, "%s: error: out of memory\n", LAUNCHER_PROG);
    exit(1);
  }
  return p;
}

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static bool is_bpffs(const char *path) {
  struct statfs st;
  return statfs(path, &st) == 0 && (uint32_t)st.f_type == BPF_FS_MAGIC;
}

/* The kernel's name of a section's map, and bpftool's name of its pin. */
static void map_name_of(enum section s, char *out) {
  snprintf(out, ContractMapNameLen + 1, "%s", SectionName[s]);
}

/* bpffs takes no name with a dot: '.' becomes '_'. */
static void undot(char *name) {
  for (char *c = name; *c != '\0'; c++)
    if (*c == '.')
      *c = '_';
}

static void pin_name_of(enum section s, char *out) {
  map_name_of(s, out);
  undot(out);
}

static int section_of_map(const char *name) {
  char mine[ContractMapNameLen + 1];
  for (int s = 0; s < SectionCount; s++) {
    map_name_of((enum section)s, mine);
    if (strcmp(mine, name) == 0)
      return s;
  }
  return -1;
}

/* --- 1. What the run needs, checked before anything is run. -------------- */

/* shutil.which: whether the shell would find the program. */
static bool findable(const char *command) {
  if (strchr(command, '/') != NULL)
    return access(command, X_OK) == 0 && !is_dir(command);
  const char *path = getenv("PATH");
  if (path == NULL)
    return false;
  for (const char *p = path; *p != '\0';) {
    const char *end = strchrnul(p, ':');
    char *file = joined("%.*s/%s", (int)(end - p), p, command);
    bool found = access(file, X_OK) == 0 && !is_dir(file);
    free(file);
    if (found)
      return true;
    p = *end == '\0' ? end : end + 1;
  }
  return false;
}

/* cmd_run's default: <RunRoot>/<program's name>-<stamp>-<pid>. */
static char *default_pin_dir(const char *command) {
  char *name = checked(strdup(name_of(normalized(command) ?: command)));
  undot(name);
  char stamp[32];
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
  return joined("%s/%s-%s-%d", ContractRunRoot, name, stamp, (int)getpid());
}

static bool has_dotted_part(const char *path) {
  for (const char *p = path; *p != '\0';) {
    const char *end = strchrnul(p, '/');
    size_t n = (size_t)(end - p);
    bool dots_only = (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
    if (!dots_only && memchr(p, '.', n) != NULL)
      return true;
    p = *end == '\0' ? end : end + 1;
  }
  return false;
}

/* pin_dir.check_pin_dir: the nearest existing directory is on bpffs. */
static bool on_bpffs(const char *path) {
  char *existing = checked(strdup(path));
  struct stat st;
  while (stat(existing, &st) != 0) {
    char *slash = strrchr(existing, '/');
    if (slash == NULL) {
      strcpy(existing, ".");
    } else if (slash == existing) {
      existing[1] = '\0';
    } else {
      *slash = '\0';
    }
  }
  bool ok = is_bpffs(existing);
  free(existing);
  return ok;
}

static bool empty_or_missing(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return errno == ENOENT;
  DIR *dir = opendir(path);
  if (dir == NULL)
    return false;
  bool empty = true;
  for (struct dirent *e; empty && (e = readdir(dir)) != NULL;)
    empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
  closedir(dir);
  return empty;
}

/* mkdir, where a directory already there is as good as one made. */
static bool made_dir(const char *path, mode_t mode) {
  return mkdir(path, mode) == 0 || (errno == EEXIST && is_dir(path));
}

/* mkdir -p, the last part 0700 (pathlib's mkdir(mode=0o700, parents=True)). */
static bool make_dirs(const char *path, mode_t mode) {
  if (made_dir(path, mode))
    return true;
  if (errno != ENOENT)
    return false;
  char *parent = checked(strdup(path));
  char *slash = strrchr(parent, '/');
  bool ok = slash != NULL && slash != parent;
  if (ok) {
    *slash = '\0';
    ok = make_dirs(parent, 0777);
  }
  free(parent);
  return ok && made_dir(path, mode);
}

/* The first group number free in the pin directory (pin_dir.prepare_pin_dir). */
static int first_free_group(const char *path) {
  int highest = 0;
  char fmt[32]; /* <n><infix><btf id>, and where it ends */
  snprintf(fmt, sizeof fmt, "%%d%s%%u%%n", ContractGroupInfix);
  DIR *dir = opendir(path);
  for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;) {
    int n = 0, used = 0;
    unsigned btf = 0;
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
        sscanf(e->d_name, fmt, &n, &btf, &used) == 2 && e->d_name[used] == '\0' && n > highest)
      highest = n;
  }
  if (dir != NULL)
    closedir(dir);
  return highest + 1;
}

/* --- 2. Starting the program, seized before it runs anything. ------------ */

static size_t abi_calls(struct abi_call *out) {
  size_t n = 0;
#if defined(__x86_64__)
  out[n++] = (struct abi_call){AUDIT_ARCH_X86_64, __NR_bpf};
  out[n++] = (struct abi_call){AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | __NR_bpf};
  out[n++] = (struct abi_call){AUDIT_ARCH_I386, BpfcovI386Bpf};
#endif
  return n;
}

/* The filter of ptrace.bpf_trap_filter: per ABI, bpf() with a traced command
 * returns SECCOMP_RET_TRACE; everything else is allowed. */
static size_t trap_filter(struct sock_filter *prog) {
  static const uint32_t commands[] = {BPF_MAP_CREATE, BPF_PROG_LOAD};
  const size_t ncommands = sizeof commands / sizeof commands[0];
  struct abi_call calls[8];
  size_t ncalls = abi_calls(calls);
  size_t k = 0;
  prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                           offsetof(struct seccomp_data, arch));
  for (size_t i = 0; i < ncalls; i++) {
    bool seen = false;
    for (size_t j = 0; j < i; j++)
      seen = seen || calls[j].arch == calls[i].arch;
    if (seen)
      continue;
    uint32_t numbers[8];
    size_t nnumbers = 0;
    for (size_t j = i; j < ncalls; j++)
      if (calls[j].arch == calls[i].arch)
        numbers[nnumbers++] = calls[j].nr;
    size_t block = 1 + nnumbers + 2 + ncommands + 2;
    prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, calls[i].arch, 0,
                                             (uint8_t)block);
    prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, nr));
    for (size_t j = 0; j < nnumbers; j++)
      prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, numbers[j],
                                               (uint8_t)(nnumbers - j), 0);
    prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    /* the command: the low half of the first argument (little-endian ABIs) */
    prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, args[0]));
    for (size_t j = 0; j < ncommands; j++)
      prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, commands[j],
                                               (uint8_t)(ncommands - j), 0);
    prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
  }
  prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  return k;
}

static struct sigaction Original[FORWARDED_COUNT]; /* as this program started */

/* In the child: wait to be seized, then the filter, then exec. What fails is
 * written to `failure` as "stage\0errno\0text", as spawn._child does. */
static _Noreturn void child(char **command, int go, int failure, const sigset_t *mask) {
  char byte = 0;
  if (read(go, &byte, 1) != 1 || byte != 'g')
    _exit(CHILD_FAILED); /* the tracer gave up */
  for (size_t i = 0; i < FORWARDED_COUNT; i++)
    sigaction(Forwarded[i], &Original[i], NULL); /* default or ignored, as it came */
  sigprocmask(SIG_SETMASK, mask, NULL);
  struct sock_filter insns[64];
  struct sock_fprog prog = {(unsigned short)trap_filter(insns), insns};
  const char *stage = "trace";
  /* SPEC_ALLOW: a filter that only watches must not slow the program's own code */
  if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog) != 0 &&
      (errno != EINVAL || syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)) {
    dprintf(failure, "%s%c%d%cseccomp(SECCOMP_SET_MODE_FILTER) failed: %s", stage, 0, errno, 0,
            strerror(errno));
    _exit(CHILD_FAILED);
  }
  stage = "exec";
  execvp(command[0], command);
  dprintf(failure, "%s%c%d%c%s", stage, 0, errno, 0, strerror(errno));
  _exit(CHILD_FAILED);
}

static volatile sig_atomic_t Main; /* the program's pid while it lives */

/* spawn.Relay: a signal sent to this program goes on to the program, unless it
 * is the terminal's and reached the program's process group already. */
static void relay(int sig, siginfo_t *info, void *context) {
  (void)context;
  int saved = errno;
  pid_t pid = Main;
  if (pid > 0 && !(info->si_code == SI_KERNEL_CODE && getpgid(pid) == getpgrp()))
    kill(pid, sig);
  errno = saved;
}

/* --- 3. Following the program. -------------------------------------------- */

struct tracee {
  pid_t tid, tgid;
  bool fresh;         /* auto-attached, its first stop not seen yet */
  bool in_map_create; /* resume with PTRACE_SYSCALL to see the call's exit */
  bool in_prog_load;
};

struct group {
  int number;
  uint32_t btf_id;
  unsigned sections; /* bit per enum section */
  uint32_t *map_ids;
  size_t nmaps;
  bool loaded; /* a program that uses one of its maps loaded */
};

static struct tracee **Tracees;
static size_t NTracees;
static struct group *Groups;
static size_t NGroups;
static int NextGroup = 1;
static pid_t MainPid;
static int MainStatus = -1;
static bool MainExeced;

static struct tracee *find_tracee(pid_t tid) {
  for (size_t i = 0; i < NTracees; i++)
    if (Tracees[i]->tid == tid)
      return Tracees[i];
  return NULL;
}

static struct tracee *add_tracee(pid_t tid, pid_t tgid, bool fresh) {
  struct tracee *t = checked(calloc(1, sizeof *t));
  *t = (struct tracee){.tid = tid, .tgid = tgid, .fresh = fresh};
  Tracees = checked(realloc(Tracees, (NTracees + 1) * sizeof *Tracees));
  Tracees[NTracees++] = t;
  return t;
}

static void remove_tracee(pid_t tid) {
  for (size_t i = 0; i < NTracees; i++)
    if (Tracees[i]->tid == tid) {
      free(Tracees[i]);
      memmove(Tracees + i, Tracees + i + 1, (NTracees - i - 1) * sizeof *Tracees);
      NTracees--;
      return;
    }
}

static void release(void);

static _Noreturn void fatal(const char *call, pid_t pid) {
  int err = errno;
  release();
  fprintf(stderr, "%s: error: %s failed for pid %d: %s\n", LAUNCHER_PROG, call, (int)pid,
          strerror(err));
  exit(1);
}

static pid_t tgid_of(pid_t tid) {
  char *path = joined("/proc/%d/status", (int)tid);
  FILE *f = fopen(path, "re");
  free(path);
  pid_t tgid = tid;
  char line[256];
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "Tgid: %d", &tgid) == 1)
      break;
  if (f != NULL)
    fclose(f);
  return tgid;
}

static int shell_status(int wait_status) {
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

/* Restart (or detach) a tracee; false if it was killed meanwhile. */
static bool resume(int request, pid_t tid, int sig) {
  long rc = request == PTRACE_INTERRUPT ? ptrace(PTRACE_INTERRUPT, tid, 0, 0)
                                        : ptrace(request, tid, 0, (void *)(long)sig);
  if (rc == 0)
    return true;
  if (errno == ESRCH)
    return false;
  fatal(request == PTRACE_SYSCALL  ? "ptrace(PTRACE_SYSCALL)"
        : request == PTRACE_CONT   ? "ptrace(PTRACE_CONT)"
        : request == PTRACE_LISTEN ? "ptrace(PTRACE_LISTEN)"
        : request == PTRACE_DETACH ? "ptrace(PTRACE_DETACH)"
                                   : "ptrace(PTRACE_INTERRUPT)",
        tid);
}

/* What a ptrace-stop asks of the tracer. `gone`: the tracee was SIGKILLed in
 * its stop, and its exit comes next. */
struct action {
  int request;
  int sig;
  bool gone;
};

static struct action go(const struct tracee *t, int sig) {
  return (struct action){t->in_map_create || t->in_prog_load ? PTRACE_SYSCALL : PTRACE_CONT, sig,
                         false};
}

static const struct action Gone = {0, 0, true};

/* A ptrace or pidfd call in a stop: on ESRCH the tracee is gone, on anything
 * else the run cannot go on. */
#define OR_GONE(expr, call, tid)                                                                \
  do {                                                                                         \
    if ((expr) < 0) {                                                                          \
      if (errno == ESRCH)                                                                      \
        return Gone;                                                                           \
      fatal(call, tid);                                                                        \
    }                                                                                          \
  } while (0)

/* tracer._may_be_coverage_map: false only when the name the program gave the
 * map is not a coverage section's; a name that cannot be read counts as maybe. */
static bool may_be_coverage_map(pid_t tid, uint64_t attr, uint64_t size) {
  const size_t at = offsetof(union bpf_attr, map_name);
  const size_t len = sizeof(((union bpf_attr *)0)->map_name);
  if ((size & 0xFFFFFFFFu) < at + len)
    return false; /* no name given: the kernel names the map "" */
  if (attr + at > (uint64_t)INT64_MAX)
    return true;
  char *path = joined("/proc/%d/mem", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  free(path);
  if (fd < 0)
    return true;
  char name[sizeof(((union bpf_attr *)0)->map_name) + 1] = {0};
  ssize_t n = pread(fd, name, len, (off_t)(attr + at));
  close(fd);
  if (n < (ssize_t)len)
    return true;
  return section_of_map(name) >= 0;
}

/* A duplicate in this process of the tracee's fd; -1 if gone (ESRCH, EBADF). */
static int fd_of(const struct tracee *t, int fd) {
  int pidfd = (int)syscall(SYS_pidfd_open, t->tid, PIDFD_THREAD);
  if (pidfd < 0 && errno == EINVAL) /* before Linux 6.9: the process's */
    pidfd = (int)syscall(SYS_pidfd_open, t->tgid, 0);
  if (pidfd < 0) {
    if (errno == ESRCH)
      return -1;
    fatal("pidfd_open", t->tid);
  }
  int mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
  int err = errno;
  close(pidfd);
  if (mine < 0) {
    errno = err;
    if (err == ESRCH || err == EBADF)
      return -1;
    fatal("pidfd_getfd", t->tid);
  }
  return mine;
}

static int obj_info(int fd, void *info, uint32_t len) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = (uint32_t)fd;
  attr.info.info_len = len;
  attr.info.info = (uint64_t)(uintptr_t)info;
  return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr);
}

/* pin_dir.Groups.place: the latest group of the BTF id, unless it has the
 * section already. */
static struct group *place(uint32_t btf_id, enum section s) {
  struct group *g = NULL;
  for (size_t i = NGroups; i-- > 0 && g == NULL;)
    if (Groups[i].btf_id == btf_id)
      g = &Groups[i];
  if (g == NULL || (g->sections & (1u << s)) != 0) {
    Groups = checked(realloc(Groups, (NGroups + 1) * sizeof *Groups));
    g = &Groups[NGroups++];
    *g = (struct group){.number = NextGroup++, .btf_id = btf_id};
  }
  g->sections |= 1u << s;
  return g;
}

static char *group_dir(const struct group *g) {
  return joined("%s/%d%s%u", PinDir, g->number, ContractGroupInfix, g->btf_id);
}

static void pin(const struct tracee *t, int fd, const struct bpf_map_info *info, enum section s) {
  struct group *g = place(info->btf_id, s);
  char *dir = group_dir(g);
  char name[ContractMapNameLen + 1];
  pin_name_of(s, name);
  char *path = joined("%s/%s", dir, name);
  char *reason = NULL;
  if (!made_dir(dir, 0700)) {
    reason = joined("[Errno %d] %s: '%s'", errno, strerror(errno), dir);
  } else {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.pathname = (uint64_t)(uintptr_t)path;
    attr.bpf_fd = (uint32_t)fd;
    if (sys_bpf(BPF_OBJ_PIN, &attr) != 0)
      reason = joined("bpf(BPF_OBJ_PIN) failed for %s: %s", path, strerror(errno));
  }
  if (reason != NULL) {
    fprintf(stderr, "%s: warning: could not pin %s of pid %d at %s: %s\n", LAUNCHER_PROG,
            info->name, (int)t->tgid, path, reason);
    free(reason);
  } else {
    g->map_ids = checked(realloc(g->map_ids, (g->nmaps + 1) * sizeof *g->map_ids));
    g->map_ids[g->nmaps++] = info->id;
  }
  free(path);
  free(dir);
}

/* A map was created: pin it if it holds coverage. */
static void take(const struct tracee *t, int fd) {
  int mine = fd_of(t, fd);
  if (mine < 0)
    return;
  struct bpf_map_info info;
  memset(&info, 0, sizeof info);
  int s = -1;
  if (obj_info(mine, &info, sizeof info) == 0) /* else the fd was reused meanwhile */
    s = section_of_map(info.name);
  if (s >= 0)
    pin(t, mine, &info, (enum section)s);
  close(mine);
}

/* A program loaded: the objects whose maps it uses are loaded. */
static void loaded(const struct tracee *t, int fd) {
  int mine = fd_of(t, fd);
  if (mine < 0)
    return;
  struct bpf_prog_info info;
  uint32_t *ids = NULL;
  uint32_t nids = 0;
  memset(&info, 0, sizeof info);
  bool ok = obj_info(mine, &info, sizeof info) == 0;
  while (ok && info.nr_map_ids > 0) {
    uint32_t wanted = info.nr_map_ids;
    ids = checked(realloc(ids, wanted * sizeof *ids));
    memset(&info, 0, sizeof info);
    info.nr_map_ids = wanted;
    info.map_ids = (uint64_t)(uintptr_t)ids;
    ok = obj_info(mine, &info, sizeof info) == 0;
    if (ok && info.nr_map_ids <= wanted) { /* BPF_PROG_BIND_MAP may add maps between */
      nids = info.nr_map_ids;
      break;
    }
  }
  close(mine);
  for (size_t g = 0; g < NGroups; g++)
    for (size_t i = 0; i < Groups[g].nmaps; i++)
      for (uint32_t j = 0; j < nids; j++)
        if (Groups[g].map_ids[i] == ids[j])
          Groups[g].loaded = true;
  free(ids);
}

static bool any_group_unloaded(void) {
  for (size_t g = 0; g < NGroups; g++)
    if (!Groups[g].loaded)
      return true;
  return false;
}

static struct action seccomp_stop(struct tracee *t) {
  struct __ptrace_syscall_info info;
  OR_GONE(ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof info, &info),
          "ptrace(PTRACE_GET_SYSCALL_INFO)", t->tid);
  bool bpf_call = false;
  struct abi_call calls[8];
  size_t ncalls = abi_calls(calls);
  for (size_t i = 0; i < ncalls; i++)
    bpf_call = bpf_call || (calls[i].arch == info.arch && calls[i].nr == info.seccomp.nr);
  if (info.op == PTRACE_SYSCALL_INFO_SECCOMP && bpf_call) {
    uint32_t command = (uint32_t)info.seccomp.args[0];
    if (command == BPF_MAP_CREATE)
      t->in_map_create = may_be_coverage_map(t->tid, info.seccomp.args[1], info.seccomp.args[2]);
    else if (command == BPF_PROG_LOAD) /* until a coverage map, no object can be marked */
      t->in_prog_load = any_group_unloaded();
  }
  return go(t, 0);
}

static struct action syscall_stop(struct tracee *t) {
  if (t->in_map_create || t->in_prog_load) {
    struct __ptrace_syscall_info info;
    OR_GONE(ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof info, &info),
            "ptrace(PTRACE_GET_SYSCALL_INFO)", t->tid);
    if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
      bool map = t->in_map_create;
      t->in_map_create = t->in_prog_load = false;
      if (!info.exit.is_error && info.exit.rval >= 0)
        (map ? take : loaded)(t, (int)info.exit.rval);
    }
  }
  return go(t, 0);
}

static struct action decide(pid_t tid, int status) {
  struct tracee *t = find_tracee(tid);
  if (t == NULL) /* stopped before its creator's fork/clone event was seen */
    t = add_tracee(tid, tgid_of(tid), false);
  int sig = WSTOPSIG(status);
  int event = status >> 16;
  if (sig == (SIGTRAP | 0x80))
    return syscall_stop(t);
  if (event == PTRACE_EVENT_SECCOMP)
    return seccomp_stop(t);
  if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
    unsigned long new_tid = 0;
    OR_GONE(ptrace(PTRACE_GETEVENTMSG, tid, 0, &new_tid), "ptrace(PTRACE_GETEVENTMSG)", tid);
    if (find_tracee((pid_t)new_tid) == NULL) { /* else its first stop came first */
      pid_t tgid = event == PTRACE_EVENT_CLONE ? tgid_of((pid_t)new_tid) : (pid_t)new_tid;
      add_tracee((pid_t)new_tid, tgid, true);
    }
    return go(t, 0);
  }
  if (event == PTRACE_EVENT_EXEC) {
    unsigned long former = 0;
    OR_GONE(ptrace(PTRACE_GETEVENTMSG, tid, 0, &former), "ptrace(PTRACE_GETEVENTMSG)", tid);
    if ((pid_t)former != tid) /* a thread exec'd: it took the leader's tid */
      remove_tracee((pid_t)former);
    t = find_tracee(tid);
    t->tgid = tid;
    t->in_map_create = t->in_prog_load = false;
    if (tid == MainPid)
      MainExeced = true;
    return go(t, 0);
  }
  if (event == PTRACE_EVENT_STOP) {
    /* a seized tracee's first stop, PTRACE_INTERRUPT, or a group-stop */
    bool stop_signal = sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
    if (stop_signal && !t->fresh)
      return (struct action){PTRACE_LISTEN, 0, false}; /* stay stopped until SIGCONT */
    t->fresh = false;
    return go(t, 0);
  }
  if (event != 0)
    return go(t, 0);
  return go(t, sig); /* signal-delivery-stop: deliver it */
}

static void gone(pid_t tid, int status) {
  struct tracee *t = find_tracee(tid);
  if (t == NULL && tid != MainPid)
    return; /* some other child of this process */
  remove_tracee(tid);
  if (tid == MainPid) {
    MainStatus = shell_status(status);
    Main = 0;
  }
}

/* Follow every tracee until all have exited (descendants that outlive the
 * program too, as strace -f does: detached, their bpf() calls would fail). */
static void follow(void) {
  while (MainStatus < 0 || NTracees > 0) {
    int status;
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR)
        continue;
      if (errno == ECHILD && MainStatus >= 0)
        break;
      release();
      fprintf(stderr, "%s: error: lost track of process %d: no child left to wait for\n",
              LAUNCHER_PROG, (int)MainPid);
      exit(1);
    }
    if (!WIFSTOPPED(status)) {
      gone(tid, status);
      continue;
    }
    struct action a = decide(tid, status);
    if (!a.gone)
      resume(a.request, tid, a.sig);
  }
}

/* Detach every tracee left, so that none stays stopped (tracer._release). */
static void detach(pid_t tid) {
  if (!resume(PTRACE_INTERRUPT, tid, 0)) {
    /* exiting, or a zombie leader waiting for its threads: reap it if we can */
    int status;
    if (waitpid(tid, &status, __WALL | WNOHANG) > 0)
      gone(tid, status);
    remove_tracee(tid);
    return;
  }
  for (;;) {
    int status;
    if (waitpid(tid, &status, __WALL) < 0) {
      if (errno == EINTR)
        continue;
      remove_tracee(tid);
      return;
    }
    if (!WIFSTOPPED(status)) {
      gone(tid, status);
      return;
    }
    struct action a = decide(tid, status); /* may pin, or add a task to detach */
    if (a.gone)
      continue;
    if (a.request == PTRACE_SYSCALL) { /* finish the BPF_MAP_CREATE first */
      if (resume(PTRACE_SYSCALL, tid, a.sig))
        continue;
    } else {
      resume(PTRACE_DETACH, tid, a.request == PTRACE_CONT ? a.sig : 0);
    }
    remove_tracee(tid);
    return;
  }
}

static void release(void) {
  static bool releasing;
  if (releasing)
    return;
  releasing = true;
  while (NTracees > 0)
    detach(Tracees[0]->tid);
}

/* --- 5. What the run ends with. ------------------------------------------- */

static uint64_t u64_at(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v; /* little-endian, as every machine this runs on */
}

/* The mapping objects an object's counters name (layout.parse_counters_parts,
 * read from the end); NULL when unreadable. */
static char *objects_named(const unsigned char *value, size_t len) {
  const size_t head = TrailerFields * 8, tail = 16;
  char *names = NULL;
  for (size_t end = len; end > 0;) {
    if (end < tail + head)
      goto bad;
    uint64_t size = u64_at(value + end - tail), magic = u64_at(value + end - 8);
    if (magic != ContractTrailerMagic || size > end || size < head + tail)
      goto bad;
    size_t trailer = end - (size_t)size;
    uint64_t counters = u64_at(value + trailer + TrailerCountersSize * 8);
    if (counters > trailer)
      goto bad;
    const char *text = (const char *)value + trailer + head;
    int n = (int)strnlen(text, end - tail - trailer - head);
    char *more = names == NULL ? joined("%.*s", n, text) : joined("%.*s, %s", n, text, names);
    free(names);
    names = more;
    end = trailer - (size_t)counters;
  }
  return names;
bad:
  free(names);
  return NULL;
}

static char *object_of(const char *group_path) {
  char name[ContractMapNameLen + 1];
  pin_name_of(SectionCounters, name);
  char *pin_path = joined("%s/%s", group_path, name);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.pathname = (uint64_t)(uintptr_t)pin_path;
  attr.file_flags = BPF_F_RDONLY;
  int fd = sys_bpf(BPF_OBJ_GET, &attr);
  free(pin_path);
  if (fd < 0)
    return NULL;
  struct bpf_map_info info;
  memset(&info, 0, sizeof info);
  char *names = NULL;
  if (obj_info(fd, &info, sizeof info) == 0 && info.key_size == 4 && info.max_entries >= 1) {
    unsigned char *value = checked(calloc(1, info.value_size + 8));
    uint32_t key = 0;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)fd;
    attr.key = (uint64_t)(uintptr_t)&key;
    attr.value = (uint64_t)(uintptr_t)value;
    if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0)
      names = objects_named(value, info.value_size);
    free(value);
  }
  close(fd);
  return names;
}

static size_t objects_pinned(void) {
  size_t n = 0;
  DIR *dir = opendir(PinDir);
  for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char *path = joined("%s/%s", PinDir, e->d_name);
    n += is_dir(path);
    free(path);
  }
  if (dir != NULL)
    closedir(dir);
  return n;
}

/* cmd_run.main's ending: what was pinned, and the exit status. */
static int finish(bool require) {
  const char *kind = require ? "error" : "warning";
  if (objects_pinned() == 0) {
    rmdir(PinDir);
    fprintf(stderr, "%s: %s: %s created no coverage map; was it built with bpfcov-cc?\n",
            LAUNCHER_PROG, kind, Command0);
    return require && MainStatus == 0 ? 1 : MainStatus;
  }
  bool unloaded = false;
  for (size_t g = 0; g < NGroups; g++) {
    /* only groups with counters: a loader that gives each map a BTF object of
     * its own leaves the read-only maps in groups no program uses */
    if (Groups[g].loaded || Groups[g].nmaps == 0 ||
        (Groups[g].sections & (1u << SectionCounters)) == 0)
      continue;
    unloaded = true;
    char *dir = group_dir(&Groups[g]);
    char *mark = joined("%s/%s", dir, ContractNoProgramLoaded);
    mkdir(mark, 0700);
    char *named = object_of(dir);
    fprintf(stderr,
            "%s: %s: %s%s%s%s: its maps were created but none of its programs loaded (see the "
            "program's errors above)\n",
            LAUNCHER_PROG, kind, dir, named != NULL ? " (" : "", named != NULL ? named : "",
            named != NULL ? ")" : "");
    free(named);
    free(mark);
    free(dir);
  }
  fprintf(stderr,
          "%s: %zu object(s) pinned, kept in kernel memory until bpfcov clean %s; next: bpfcov gen "
          "%s\n",
          LAUNCHER_PROG, objects_pinned(), PinDir, PinDir);
  return require && unloaded && MainStatus == 0 ? 1 : MainStatus;
}

/* The child could not exec: spawn.spawn_error's words. */
static int spawn_failed(const char *report, size_t len) {
  const char *stage = report;
  const char *num = memchr(report, '\0', len);
  const char *text = num != NULL ? memchr(num + 1, '\0', len - (size_t)(num + 1 - report)) : NULL;
  if (text == NULL)
    text = num = "";
  else
    num++, text++;
  if (strcmp(stage, "trace") == 0)
    fprintf(stderr, "%s: error: cannot trace %s: %s\n", LAUNCHER_PROG, Command0, text);
  else if (atoi(num) == ENOENT)
    fprintf(stderr, "%s: error: %s: command not found\n", LAUNCHER_PROG, Command0);
  else
    fprintf(stderr, "%s: error: cannot run %s: %s\n", LAUNCHER_PROG, Command0, text);
  return 1;
}

/* --- The run. ------------------------------------------------------------- */

static int run(char **command, bool require) {
  int first = first_free_group(PinDir);
  NextGroup = first;
  int go_pipe[2], fail_pipe[2];
  if (pipe2(go_pipe, O_CLOEXEC) != 0 || pipe2(fail_pipe, O_CLOEXEC) != 0)
    hand_over("no pipe");

  /* The forwarded signals: caught here, as they came in the program. Blocked
   * around the fork, so that none reaches the child before it has them back. */
  sigset_t forwarded, mask;
  sigemptyset(&forwarded);
  struct sigaction catch = {.sa_sigaction = relay, .sa_flags = SA_SIGINFO | SA_RESTART};
  sigemptyset(&catch.sa_mask);
  for (size_t i = 0; i < FORWARDED_COUNT; i++)
    sigaddset(&forwarded, Forwarded[i]);
  sigprocmask(SIG_BLOCK, &forwarded, &mask);
  for (size_t i = 0; i < FORWARDED_COUNT; i++)
    sigaction(Forwarded[i], &catch, &Original[i]);

  pid_t pid = fork();
  if (pid < 0)
    hand_over("cannot fork");
  if (pid == 0) {
    close(go_pipe[1]);
    close(fail_pipe[0]);
    child(command, go_pipe[0], fail_pipe[1], &mask);
  }
  close(go_pipe[0]);
  close(fail_pipe[1]);
  const long options = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                       PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;
  if (ptrace(PTRACE_SEIZE, pid, 0, (void *)options) != 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    for (size_t i = 0; i < FORWARDED_COUNT; i++)
      sigaction(Forwarded[i], &Original[i], NULL);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    hand_over("cannot seize the program");
  }
  MainPid = pid;
  Main = pid;
  add_tracee(pid, pid, false);
  fprintf(stderr, "%s: pinning coverage maps under %s\n", LAUNCHER_PROG, PinDir);
  sigprocmask(SIG_SETMASK, &mask, NULL);
  if (write(go_pipe[1], "g", 1) != 1)
    fatal("write", pid);
  close(go_pipe[1]);

  follow();
  if (!MainExeced) {
    char report[4096];
    ssize_t n = read(fail_pipe[0], report, sizeof report - 1);
    if (n > 0) {
      report[n] = '\0';
      return spawn_failed(report, (size_t)n);
    }
  }
  close(fail_pipe[0]);
  return finish(require);
}

int main(int argc, char **argv) {
  if (!find_self_dir(argc, argv))
    return 1;
  if (argc < 3 || strcmp(argv[1], "run") != 0)
    hand_over("not bpfcov run");
  struct abi_call calls[8];
  if (abi_calls(calls) == 0)
    hand_over("this machine's system call ABIs are the Python side's");

  const char *pin_dir = NULL;
  bool require = false;
  int i = 2;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (strcmp(argv[i], "--require-coverage") == 0)
      require = true;
    else if (strcmp(argv[i], "--pin-dir") == 0 && i + 1 < argc)
      pin_dir = argv[++i];
    else if (starts_with(argv[i], "--pin-dir="))
      pin_dir = argv[i] + strlen("--pin-dir=");
    else
      hand_over("an option to explain");
  }
  if (i >= argc || argv[i][0] == '-' || argv[i][0] == '\0')
    hand_over("no program, or one to explain");
  if (pin_dir != NULL && (pin_dir[0] == '\0' || pin_dir[0] == '-'))
    hand_over("a --pin-dir to explain");
  Command0 = argv[i];
  if (!findable(Command0))
    hand_over("a program not found");
  if (geteuid() != 0) {
    fprintf(stderr, "%s: error: bpfcov run needs root: it traces the program and pins its maps in "
                    "bpffs\n", LAUNCHER_PROG);
    return 1;
  }
  if (!is_bpffs("/sys/fs/bpf"))
    hand_over("no bpffs at /sys/fs/bpf");
  PinDir = pin_dir != NULL ? normalized(pin_dir) : default_pin_dir(Command0);
  if (PinDir == NULL || has_dotted_part(PinDir) || !on_bpffs(PinDir))
    hand_over("a --pin-dir to explain");
  if (!empty_or_missing(PinDir))
    hand_over("a pin directory in use");
  if (!make_dirs(PinDir, 0700))
    hand_over("a pin directory that cannot be made");
  return run(argv + i, require);
}
