/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * abi_compat.c: bpf()'s number under the i386 ABI of an x86_64 kernel, for the
 * seccomp filter of bpfcov_run.c. A file of its own: asm/unistd_32.h defines
 * the same __NR_ names as the native header, with other values.
 */
#include <stdint.h>

#if defined(__x86_64__)
#include <asm/unistd_32.h>
const uint32_t BpfcovI386Bpf = __NR_bpf;
#endif
