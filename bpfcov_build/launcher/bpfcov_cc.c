/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpfcov-cc, the native launcher: the compiler calls of a build without
 * starting Python.
 *
 * A build calls its compiler hundreds of times; the Python wrapper
 * (bpfcov_build/cc_wrapper.py, installed as bpfcov-cc-py) spends 20-25 ms of
 * each starting up. This program does what that wrapper does for the calls a
 * build makes every day, with the same table of clang's options (driver.def)
 * and the same contract (contract.def):
 *
 *   1. pick the LLVM major and its clang and plugin, as toolchain.py does;
 *   2. classify the call, as cc_wrapper.classify does;
 *   3. pass it through (exec clang untouched), or compile its one C source
 *      with coverage and the plugin (run clang, watch its messages for a jump
 *      out of range, and remove the mapping object a failed compile wrote).
 *
 * Anything else is handed to the Python wrapper with the same arguments, which
 * then does all of it, so the launcher never has to be right about a case it
 * does not know: a response file, several sources, an input or option it cannot
 * place, an error to explain, a jump to diagnose, BPFCOV_CLANG (whose major only
 * clang --version tells), LLVM 14 (whose back end needs the object read back),
 * or a package it cannot find. BPFCOV_VERBOSE=1 says when it hands over, and why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BPFCOV_PLATLIB_FROM_SCRIPTS
/* Where the package sits relative to the launcher, set by CMake from the
 * installing Python's scheme ("../lib/python3.11/site-packages"). */
#define BPFCOV_PLATLIB_FROM_SCRIPTS ""
#endif

/* --- The facts this program shares with the Python side. ----------------- */

#define UNUSED __attribute__((unused))
#define BPFCOV_STRING(Id, Text) UNUSED static const char Contract##Id[] = Text;
#define BPFCOV_VALUE(Id, N) UNUSED static const long long Contract##Id = (N);
#include "bpfcov/contract.def"

#define BPFCOV_CC_STRING(Id, Text) UNUSED static const char Driver##Id[] = Text;
#define BPFCOV_CC_VALUE(Id, N) UNUSED static const int Driver##Id = (N);
#include "bpfcov/driver.def"

static const char *const Separate[] = {
#define BPFCOV_CC_SEPARATE(Option) Option,
#include "bpfcov/driver.def"
    NULL};

static const char *const Aliases[][2] = {
#define BPFCOV_CC_ALIAS(Long, Short) {Long, Short},
#include "bpfcov/driver.def"
    {NULL, NULL}};

static const char *const NoObject[] = {
#define BPFCOV_CC_NO_OBJECT(Option) Option,
#include "bpfcov/driver.def"
    NULL};

static const char *const NoObjectPrefixes[] = {
#define BPFCOV_CC_NO_OBJECT_PREFIX(Prefix) Prefix,
#include "bpfcov/driver.def"
    NULL};

static const char *const BpfArches[] = {
#define BPFCOV_CC_BPF_ARCH(Arch) Arch,
#include "bpfcov/driver.def"
    NULL};

static const char *const CoverageFlags[] = {
#define BPFCOV_CC_COVERAGE_FLAG(Flag) Flag,
#include "bpfcov/driver.def"
    NULL};

/* What an input is (driver.def's kinds), or Odd: a path whose name this
 * program does not read as pathlib does (trailing "/" or "/."). */
enum kind { KindC, KindAsm, KindIR, KindLinker, KindUnknown, KindOdd };

struct kind_entry {
  const char *key;
  enum kind kind;
};

static const struct kind_entry Suffixes[] = {
#define BPFCOV_CC_SUFFIX(Suffix, K) {Suffix, Kind##K},
#include "bpfcov/driver.def"
    {NULL, KindUnknown}};

static const struct kind_entry Languages[] = {
#define BPFCOV_CC_LANGUAGE(Language, K) {Language, Kind##K},
#include "bpfcov/driver.def"
    {NULL, KindUnknown}};

#define LAUNCHER_PROG DriverProg
#define LAUNCHER_REFERENCE DriverReference
#include "common.h"

/* --- Small helpers. ------------------------------------------------------- */

static bool in_list(const char *s, const char *const *list) {
  for (; *list != NULL; list++)
    if (strcmp(s, *list) == 0)
      return true;
  return false;
}

static bool all_digits(const char *s) {
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static const char *suffix_of(const char *name) {
  const char *dot = strrchr(name, '.');
  if (dot == NULL || dot == name || dot[1] == '\0')
    return "";
  return dot;
}

/* shlex.quote, for the -v lines both wrappers print alike. */
static void print_quoted(const char *s) {
  bool safe = *s != '\0';
  for (const char *p = s; *p != '\0' && safe; p++)
    safe = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_",
                  *p) != NULL;
  if (safe) {
    fputs(s, stderr);
    return;
  }
  fputc('\'', stderr);
  for (const char *p = s; *p != '\0'; p++) {
    if (*p == '\'')
      fputs("'\"'\"'", stderr);
    else
      fputc(*p, stderr);
  }
  fputc('\'', stderr);
}

static void print_command(const char *env_name, const char *env_value, char *const *cmd) {
  if (!verbose())
    return;
  fprintf(stderr, "%s: + ", DriverProg);
  if (env_name != NULL) {
    fprintf(stderr, "%s=", env_name);
    print_quoted(env_value);
    fputc(' ', stderr);
  }
  for (size_t i = 0; cmd[i] != NULL; i++) {
    if (i > 0)
      fputc(' ', stderr);
    print_quoted(cmd[i]);
  }
  fputc('\n', stderr);
  fflush(stderr);
}

/* --- Step 1: the toolchain (toolchain.py's rules). ------------------------ */

/* clang of LLVM `major`: Debian's /usr/lib/llvm-N/bin, else clang-N on PATH. */
static char *find_clang(int major) {
  char *candidate = joined("/usr/lib/llvm-%d/bin/clang", major);
  if (is_file(candidate) && access(candidate, X_OK) == 0)
    return candidate;
  free(candidate);
  const char *path = getenv("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin";
  char *name = joined("clang-%d", major);
  for (const char *p = path;;) {
    const char *end = strchrnul(p, ':');
    char *dir = strndup(p, (size_t)(end - p));
    char *file = *dir == '\0' ? strdup(name)
                 : dir[strlen(dir) - 1] == '/' ? joined("%s%s", dir, name)
                                               : joined("%s/%s", dir, name);
    free(dir);
    if (access(file, X_OK) == 0 && !is_dir(file)) {
      char *clean = normalized(file);
      if (clean == NULL)
        hand_over("an unusual PATH entry");
      return clean;
    }
    free(file);
    if (*end == '\0')
      break;
    p = end + 1;
  }
  return NULL;
}

/* The directory holding llvm-N/libBPFCov.so: BPFCOV_PLUGIN_DIR, else the
 * installed package's plugins/, found from where the launcher is installed. */
static char *plugin_root(void) {
  const char *override = getenv("BPFCOV_PLUGIN_DIR");
  if (override != NULL && *override != '\0') {
    char *root = normalized(override);
    if (root == NULL)
      hand_over("an unusual BPFCOV_PLUGIN_DIR");
    return root;
  }
  if (BPFCOV_PLATLIB_FROM_SCRIPTS[0] == '\0')
    hand_over("built without the package's place");
  char *guess = joined("%s/%s/bpfcov_build/plugins", SelfDir, BPFCOV_PLATLIB_FROM_SCRIPTS);
  char *root = realpath(guess, NULL);
  if (root == NULL || !is_dir(root))
    hand_over("the package is not where it was installed");
  free(guess);
  return root;
}

struct toolchain {
  int major;
  char *clang;
  const char *root; /* of the plugins; NULL until asked for */
};

static char *plugin_of(struct toolchain *chain) {
  if (chain->root == NULL)
    chain->root = plugin_root();
  return joined("%s/llvm-%d/%s", chain->root, chain->major, DriverPluginFile);
}

static struct toolchain select_toolchain(int explicit_major) {
  struct toolchain chain = {.major = explicit_major, .clang = NULL, .root = NULL};
  if (chain.major < 0) {
    const char *clang = getenv("BPFCOV_CLANG");
    const char *llvm = getenv("BPFCOV_LLVM");
    if (clang != NULL && *clang != '\0')
      hand_over("BPFCOV_CLANG: only clang --version tells its major");
    if (llvm != NULL && *llvm != '\0') {
      if (!all_digits(llvm))
        hand_over("BPFCOV_LLVM is not a number");
      chain.major = atoi(llvm);
    }
  }
  if (chain.major >= 0) {
    if (chain.major < ContractMinLLVMMajor)
      hand_over("an LLVM too old");
    chain.clang = find_clang(chain.major);
    if (chain.clang == NULL)
      hand_over("no clang of that major");
    return chain;
  }
  for (int major = DriverMaxProbedMajor; major >= (int)ContractMinLLVMMajor; major--) {
    chain.major = major;
    char *plugin = plugin_of(&chain);
    bool built = is_file(plugin);
    free(plugin);
    if (built && (chain.clang = find_clang(major)) != NULL)
      return chain;
  }
  hand_over("no LLVM with both clang and a plugin");
}

/* --- Step 2: the call (cc_wrapper.classify's rules). ---------------------- */

enum verdict { PassThrough, Instrument };

struct call {
  const char *source; /* the one C source */
  const char *output; /* -o, or NULL */
};

static enum kind input_kind(const char *arg, const char *language) {
  const struct kind_entry *table = Languages;
  const char *key = language;
  if (*language == '\0' || strcmp(language, "none") == 0) {
    size_t n = strlen(arg);
    if (n == 0 || arg[n - 1] == '/' || strcmp(arg, ".") == 0 ||
        (n >= 2 && strcmp(arg + n - 2, "/.") == 0))
      return KindOdd;
    table = Suffixes;
    key = suffix_of(name_of(arg));
  }
  for (; table->key != NULL; table++)
    if (strcmp(table->key, key) == 0)
      return table->kind;
  return KindUnknown;
}

static const char *alias_of(const char *option) {
  for (size_t i = 0; Aliases[i][0] != NULL; i++)
    if (strcmp(option, Aliases[i][0]) == 0)
      return Aliases[i][1];
  return option;
}

/* Whether clang writes a file at `output`: not stdout, a device or a pipe. */
static bool is_object_path(const char *output) {
  struct stat st;
  if (strcmp(output, "-") == 0)
    return false;
  char *path = normalized(output);
  if (path == NULL)
    hand_over("an output path spelt unusually");
  bool exists = stat(path, &st) == 0;
  free(path);
  return exists ? S_ISREG(st.st_mode) : errno == ENOENT;
}

static enum verdict classify(char **args, struct call *call) {
  const char *triple = "", *language = "";
  bool compile_only = false, options_end = false;
  size_t sources = 0, unplaced = 0, ir = 0, asm_ = 0, odd = 0;
  call->source = call->output = NULL;
  for (size_t i = 0; args[i] != NULL; i++) {
    const char *arg = args[i];
    if (options_end || strcmp(arg, "-") == 0 || arg[0] != '-') {
      switch (input_kind(arg, language)) {
      case KindC:
        sources++;
        call->source = arg;
        break;
      case KindUnknown:
        unplaced++;
        break;
      case KindIR:
        ir++;
        break;
      case KindAsm:
        asm_++;
        break;
      case KindOdd:
        odd++;
        break;
      case KindLinker:
        break;
      }
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      options_end = true;
      continue;
    }
    if (in_list(arg, Separate)) {
      const char *value = args[i + 1];
      if (value == NULL)
        return PassThrough; /* clang reports the missing value */
      i++;
      const char *name = alias_of(arg);
      if (strcmp(name, "-o") == 0)
        call->output = value;
      else if (strcmp(name, "-target") == 0)
        triple = value;
      else if (strcmp(name, "-x") == 0)
        language = value;
      continue;
    }
    if (starts_with(arg, "--target="))
      triple = arg + strlen("--target=");
    else if (starts_with(arg, "--output="))
      call->output = arg + strlen("--output=");
    else if (starts_with(arg, "--language="))
      language = arg + strlen("--language=");
    else if (starts_with(arg, "-o") && arg[2] != '\0')
      call->output = arg + 2;
    else if (starts_with(arg, "-x") && arg[2] != '\0')
      language = arg + 2;
    else if (strcmp(arg, "-c") == 0)
      compile_only = true;
    else if (in_list(arg, NoObject))
      return PassThrough;
    else
      for (const char *const *p = NoObjectPrefixes; *p != NULL; p++)
        if (starts_with(arg, *p))
          return PassThrough;
  }
  size_t arch_len = strcspn(triple, "-");
  bool bpf = false;
  for (const char *const *p = BpfArches; *p != NULL; p++)
    bpf = bpf || (strlen(*p) == arch_len && strncmp(triple, *p, arch_len) == 0);
  if (!bpf || !compile_only)
    return PassThrough;
  if (call->output != NULL && !is_object_path(call->output))
    return PassThrough; /* -o /dev/null or -o -: a probe */
  if (unplaced > 0)
    hand_over("an argument only clang can place");
  if (ir > 0 || (asm_ > 0 && sources > 0))
    hand_over("an input that cannot be instrumented");
  if (odd > 0)
    hand_over("an input path spelt unusually");
  if (sources == 0)
    return PassThrough;
  if (sources > 1) {
    if (call->output != NULL)
      return PassThrough; /* clang reports -o with several outputs */
    hand_over("several sources");
  }
  return Instrument;
}

/* --- Step 3: the compile. ------------------------------------------------- */

/* The object clang writes and the mapping object beside it (absolute). */
static void objects_of(const struct call *call, char **obj, char **mapping) {
  if (call->output != NULL) {
    size_t n = strlen(call->output);
    *obj = normalized(call->output);
    if (*obj == NULL || n == 0 || call->output[n - 1] == '/' || call->output[n - 1] == '.')
      hand_over("an output path spelt unusually");
  } else {
    const char *name = name_of(call->source);
    const char *suffix = suffix_of(name);
    *obj = joined("%.*s.o", (int)(strlen(name) - strlen(suffix)), name);
  }
  char *slash = strrchr(*obj, '/');
  char *parent = slash == NULL    ? strdup(".")
                 : slash == *obj ? strdup("/")
                                 : strndup(*obj, (size_t)(slash - *obj));
  if (!is_dir(parent))
    hand_over("the output's directory does not exist");
  free(parent);
  char *with = strcmp(suffix_of(name_of(*obj)), ".o") == 0
                   ? joined("%.*sobj", (int)(strlen(*obj) - 1), *obj)
                   : joined("%s.obj", *obj);
  char cwd[PATH_MAX];
  if (with[0] == '/')
    *mapping = with;
  else if (getcwd(cwd, sizeof cwd) == NULL)
    hand_over("no current directory");
  else
    *mapping = strcmp(cwd, "/") == 0 ? joined("/%s", with) : joined("%s/%s", cwd, with);
}

static bool long_jumps(char **args) {
  const char *cpu = NULL;
  for (size_t i = 0; args[i] != NULL; i++)
    if (starts_with(args[i], "-mcpu="))
      cpu = args[i] + strlen("-mcpu=");
  return cpu != NULL && cpu[0] == 'v' && all_digits(cpu + 1) &&
         atoi(cpu + 1) >= DriverLongJumpsCpu;
}

static bool any_starts_with(char **args, const char *prefix) {
  for (size_t i = 0; args[i] != NULL; i++)
    if (starts_with(args[i], prefix))
      return true;
  return false;
}

static pid_t Child;

static void forward(int signum) {
  if (Child > 0)
    kill(Child, signum);
}

/* The files clang wrote for a bug report in the temporary directory, which a
 * jump out of range does not deserve. */
static void remove_reproducers(char *err) {
  const char *tmpdir = getenv("TMPDIR");
  char *tmp = realpath(tmpdir != NULL && *tmpdir != '\0' ? tmpdir : "/tmp", NULL);
  if (tmp == NULL)
    return;
  for (char *line = strtok(err, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char *at = strstr(line, "diagnostic msg: ");
    if (at == NULL)
      continue;
    char *path = at + strlen("diagnostic msg: ");
    const char *suffix = suffix_of(name_of(path));
    if (strchr(path, ' ') != NULL ||
        !(strcmp(suffix, ".c") == 0 || strcmp(suffix, ".i") == 0 || strcmp(suffix, ".sh") == 0))
      continue;
    char *dir = strndup(path, (size_t)(name_of(path) - path));
    char *real = realpath(*dir != '\0' ? dir : ".", NULL);
    if (real != NULL && strcmp(real, tmp) == 0)
      unlink(path);
    free(real);
    free(dir);
  }
  free(tmp);
}

/* A compile that fails leaves no mapping object of its own, as clang leaves no
 * object: the plugin writes it before the back end runs. One the compile did
 * not touch (before is what stood there, or NULL) stays. */
static void drop_if_written(const char *mapping, const struct stat *before) {
  struct stat now;
  if (stat(mapping, &now) != 0)
    return;
  if (before == NULL || now.st_dev != before->st_dev || now.st_ino != before->st_ino ||
      now.st_mtim.tv_sec != before->st_mtim.tv_sec ||
      now.st_mtim.tv_nsec != before->st_mtim.tv_nsec)
    unlink(mapping);
}

/* Runs the instrumented clang, holding its messages until it is done: a jump
 * out of range is handed over to be explained, anything else passed on. */
static int run_clang(char **cmd, const char *mapping) {
  struct stat before;
  bool existed = stat(mapping, &before) == 0;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    hand_over("no pipe");
  struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward};
  struct sigaction old_int, old_term, old_hup;
  sigaction(SIGTERM, &fwd, &old_term);
  sigaction(SIGHUP, &fwd, &old_hup);
  sigaction(SIGINT, &ign, &old_int);
  Child = fork();
  if (Child < 0)
    hand_over("cannot fork");
  if (Child == 0) {
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGINT, &old_int, NULL);
    dup2(fds[1], STDERR_FILENO);
    execv(cmd[0], cmd);
    _exit(127);
  }
  close(fds[1]);
  size_t len = 0, cap = 1 << 14;
  char *err = malloc(cap + 1);
  for (;;) {
    if (len == cap) {
      cap *= 2;
      err = realloc(err, cap + 1);
    }
    if (err == NULL)
      hand_over("out of memory");
    ssize_t got = read(fds[0], err + len, cap - len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    len += (size_t)got;
  }
  err[len] = '\0';
  close(fds[0]);
  int status;
  while (waitpid(Child, &status, 0) < 0 && errno == EINTR)
    ;
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGHUP, &old_hup, NULL);
  sigaction(SIGINT, &old_int, NULL);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    drop_if_written(mapping, existed ? &before : NULL);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
      memmem(err, len, DriverBackendMessage, strlen(DriverBackendMessage)) != NULL) {
    remove_reproducers(err);
    hand_over("a jump out of range, to be explained");
  }
  fwrite(err, 1, len, stderr);
  fflush(stderr);
  if (WIFSIGNALED(status)) { /* clang died of a signal: so do we */
    signal(WTERMSIG(status), SIG_DFL);
    kill(getpid(), WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

static int compile(struct toolchain *chain, char **args, const struct call *call) {
  char *obj, *mapping;
  objects_of(call, &obj, &mapping);
  char *plugin = plugin_of(chain);
  if (!is_file(plugin))
    hand_over("no plugin for that major");
  size_t n = 0;
  while (args[n] != NULL)
    n++;
  char **cmd = calloc(n + 8, sizeof *cmd);
  size_t k = 0;
  cmd[k++] = chain->clang;
  for (size_t i = 0; i < n; i++)
    cmd[k++] = args[i];
  for (const char *const *flag = CoverageFlags; *flag != NULL; flag++)
    cmd[k++] = (char *)*flag;
  cmd[k++] = joined("-fpass-plugin=%s", plugin);
  if (!any_starts_with(args, "-fprofile-update="))
    cmd[k++] = (char *)DriverDefaultProfileUpdate;
  if (in_list("-flegacy-pass-manager", (const char *const *)args))
    cmd[k++] = "-fno-legacy-pass-manager";
  if (setenv(ContractMappingObjectEnv, mapping, 1) != 0)
    hand_over("cannot set the environment");
  if (!long_jumps(args) && chain->major < DriverFirstRefusingMajor)
    hand_over("this LLVM's far jumps are found only in the object");
  print_command(ContractMappingObjectEnv, mapping, cmd);
  if (isatty(STDERR_FILENO) && !any_starts_with(cmd, "-fcolor-diagnostics") &&
      !any_starts_with(cmd, "-fno-color-diagnostics") &&
      !any_starts_with(cmd, "-fdiagnostics-color"))
    cmd[k++] = "-fcolor-diagnostics";
  return run_clang(cmd, mapping);
}

int main(int argc, char **argv) {
  if (!find_self_dir(argc, argv))
    return 1;

  /* Our own flag out, the rest as clang will see it. */
  char **args = calloc((size_t)argc + 1, sizeof *args);
  int major = -1;
  size_t k = 0;
  for (int i = 1; i < argc; i++) {
    if (starts_with(argv[i], DriverOwnLLVMFlag)) {
      const char *value = argv[i] + strlen(DriverOwnLLVMFlag);
      if (!all_digits(value) || strlen(value) > 4)
        hand_over("a --bpfcov-llvm to explain");
      major = atoi(value);
    } else {
      args[k++] = argv[i];
    }
  }
  for (size_t i = 0; i < k; i++)
    if (args[i][0] == '@' && args[i][1] != '\0')
      hand_over("a response file");

  struct toolchain chain = select_toolchain(major);
  char **cmd = calloc(k + 2, sizeof *cmd);
  cmd[0] = chain.clang;
  memcpy(cmd + 1, args, k * sizeof *args);
  const char *disable = getenv("BPFCOV_DISABLE");
  struct call call;
  if ((disable != NULL && strcmp(disable, "1") == 0) || classify(args, &call) == PassThrough) {
    print_command(NULL, NULL, cmd);
    execv(cmd[0], cmd);
    hand_over("cannot run clang");
  }
  return compile(&chain, args, &call);
}
