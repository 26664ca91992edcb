/* FILE: maps32.c
 * DESCRIPTION: a freestanding i386 program for tests/test_tracer.py: through the
 *   32-bit ABI (int $0x80, __NR_bpf 357 on an x86_64 kernel) it creates a .data.profc
 *   ARRAY map, writes 0x3232 into it, and exits 7. No libc, so it builds with
 *   `gcc -m32 -static -nostdlib` without 32-bit libraries installed.
 */
#include <linux/bpf.h>

#define NR_EXIT_GROUP_32 252
#define NR_BPF_32 357

static long sys3(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}

void *memset(void *s, int c, unsigned long n) { /* gcc may call it for = {0} */
    unsigned char *p = s;
    while (n--) *p++ = (unsigned char)c;
    return s;
}

void _start(void) {
    static const char name[] = ".data.profc";
    union bpf_attr attr;
    unsigned int key = 0;
    unsigned long long value = 0x3232;
    long fd;

    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 8;
    attr.max_entries = 1;
    for (unsigned i = 0; i < sizeof(name); i++) attr.map_name[i] = name[i];
    fd = sys3(NR_BPF_32, BPF_MAP_CREATE, (long)&attr, sizeof(attr));
    if (fd < 0) sys3(NR_EXIT_GROUP_32, 90, 0, 0);

    memset(&attr, 0, sizeof(attr));
    attr.map_fd = (unsigned int)fd;
    attr.key = (unsigned long)&key;
    attr.value = (unsigned long)&value;
    if (sys3(NR_BPF_32, BPF_MAP_UPDATE_ELEM, (long)&attr, sizeof(attr)) < 0)
        sys3(NR_EXIT_GROUP_32, 91, 0, 0);
    sys3(NR_EXIT_GROUP_32, 7, 0, 0);
    for (;;) {
    }
}
