/* FILE: maps.c
 * DESCRIPTION: a user program for tests/test_tracer.py. It creates bpfcov's coverage
 *   maps the way libbpf would for an object without BTF (raw bpf(BPF_MAP_CREATE),
 *   ARRAY maps named .data.profc, .rodata.profd, .rodata.profn, .rodata.covmap) plus an
 *   unrelated map, writes VALUE into .data.profc, and then exits 7 (or dies, or waits
 *   for signals), in the process shape MODE asks for.
 * USAGE: maps MODE [ARGS...]
 *   plain V | twice V | fork V | thread V | exec V   one object (twice: V and V+1)
 *   die SIG V        one object, then die of SIG (KILL or SEGV)
 *   orphan PIDFILE OUTFILE   fork a child that outlives us, loads an object
 *                            (counters 0x77) and writes OUTFILE
 *   signals READY OUT        wait for SIGINT/SIGTERM/SIGHUP/SIGQUIT (handlers set
 *                            whatever they were at start); write how many came; exit 3
 *   stop PIDFILE OUT         SIGSTOP ourselves, write OUT once continued; exit 5
 *   getpid N OUT             N raw getpid() calls; write the loop's nanoseconds
 *   read N OUT               N one-byte read()s of /dev/zero; likewise
 *   maps N OUT               create N unrelated ARRAY maps; likewise
 *   lookup N OUT             N BPF_MAP_LOOKUP_ELEMs of one map (as a loader polling
 *                            its maps does); likewise
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr) {
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_create(const char *name, unsigned value_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = value_size;
    attr.max_entries = 1;
    strncpy(attr.map_name, name, sizeof(attr.map_name) - 1);
    int fd = sys_bpf(BPF_MAP_CREATE, &attr);
    if (fd < 0) {
        perror(name);
        exit(90);
    }
    return fd;
}

static void map_write(int fd, uint64_t value) {
    union bpf_attr attr;
    uint32_t key = 0;
    memset(&attr, 0, sizeof(attr));
    attr.map_fd = (uint32_t)fd;
    attr.key = (uint64_t)(uintptr_t)&key;
    attr.value = (uint64_t)(uintptr_t)&value;
    if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) < 0) {
        perror("update");
        exit(91);
    }
}

/* What libbpf does for one instrumented object without BTF (fds stay open). */
static void object(uint64_t value) {
    int counters = map_create(".data.profc", 8);
    map_create(".rodata.profd", 48);
    map_create(".rodata.profn", 16);
    map_create(".rodata.covmap", 32);
    map_create("unrelated", 8);
    map_write(counters, value);
}

static void *thread_main(void *arg) {
    object((uint64_t)(uintptr_t)arg);
    return NULL;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(92);
    }
}

static void write_number(const char *path, long long n) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", n);
    write_text(path, buf);
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns) { /* sleeps on through signal handlers */
    long long until = now_ns() + ns;
    for (long long left; (left = until - now_ns()) > 0;) {
        struct timespec ts = {left / 1000000000LL, left % 1000000000LL};
        nanosleep(&ts, NULL);
    }
}

static volatile sig_atomic_t received;
static void on_signal(int sig) {
    (void)sig;
    received++;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODE ARGS...\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    uint64_t value = strtoull(argv[argc - 1], NULL, 0);

    if (!strcmp(mode, "plain")) {
        object(value);
    } else if (!strcmp(mode, "twice")) {
        object(value);
        object(value + 1);
    } else if (!strcmp(mode, "fork")) {
        pid_t pid = fork();
        if (pid == 0) {
            object(value);
            _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || status != 0) return 93;
    } else if (!strcmp(mode, "thread")) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, (void *)(uintptr_t)value)) return 94;
        pthread_join(t, NULL);
    } else if (!strcmp(mode, "exec")) {
        execl("/proc/self/exe", argv[0], "plain", argv[2], (char *)NULL);
        perror("execl");
        return 95;
    } else if (!strcmp(mode, "die")) {
        object(value);
        if (!strcmp(argv[2], "SEGV")) *(volatile int *)0 = 1;
        raise(SIGKILL);
    } else if (!strcmp(mode, "orphan")) {
        pid_t pid = fork();
        if (pid == 0) {
            sleep_ns(300 * 1000000LL);
            object(0x77);
            write_text(argv[3], "done");
            _exit(0);
        }
        write_number(argv[2], pid);
    } else if (!strcmp(mode, "signals")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
        write_text(argv[2], "ready");
        while (!received) pause();
        sleep_ns(500 * 1000000LL); /* a second copy would arrive by now */
        write_number(argv[3], received);
        return 3;
    } else if (!strcmp(mode, "stop")) {
        write_number(argv[2], getpid());
        raise(SIGSTOP);
        write_text(argv[3], "continued");
        return 5;
    } else if (!strcmp(mode, "getpid")) {
        long n = strtol(argv[2], NULL, 0);
        long long start = now_ns();
        for (long i = 0; i < n; i++) syscall(SYS_getpid);
        write_number(argv[3], now_ns() - start);
        return 0;
    } else if (!strcmp(mode, "read")) {
        long n = strtol(argv[2], NULL, 0);
        char byte;
        FILE *zero = fopen("/dev/zero", "rb");
        if (!zero) return 96;
        long long start = now_ns();
        for (long i = 0; i < n; i++)
            if (read(fileno(zero), &byte, 1) != 1) return 97;
        write_number(argv[3], now_ns() - start);
        return 0;
    } else if (!strcmp(mode, "lookup")) {
        long n = strtol(argv[2], NULL, 0);
        int fd = map_create("unrelated", 8);
        uint32_t key = 0;
        uint64_t out;
        union bpf_attr attr;
        memset(&attr, 0, sizeof(attr));
        attr.map_fd = (uint32_t)fd;
        attr.key = (uint64_t)(uintptr_t)&key;
        attr.value = (uint64_t)(uintptr_t)&out;
        long long start = now_ns();
        for (long i = 0; i < n; i++)
            if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) < 0) return 98;
        write_number(argv[3], now_ns() - start);
        return 0;
    } else if (!strcmp(mode, "maps")) {
        long n = strtol(argv[2], NULL, 0);
        long long start = now_ns();
        for (long i = 0; i < n; i++) close(map_create("unrelated", 8));
        write_number(argv[3], now_ns() - start);
        return 0;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 7;
}
