// REQUIRES: llvm-ge-19
// RUN: %clang_bpf -fcoverage-mcdc -fprofile-update=atomic -S -emit-llvm %s -o %t.ll
// RUN: FileCheck %s --check-prefix=INPUT --input-file=%t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
// RUN: %objdump -d %t.o | FileCheck %s --check-prefix=ASM
//
// With -fprofile-update=atomic (bpfcov-cc's default), clang sets MC/DC bitmap
// bits with `atomicrmw or i8`, which the BPF back end cannot select (its
// atomics are 32 and 64 bits wide). Loadable mode widens each to an atomic or
// of the 8-aligned 64-bit word that holds the byte, with the bits shifted to
// the byte's place (little-endian: byte k of the word is bits 8k..8k+7), so
// llc compiles it to `lock *(u64 *)(r + 0) |= r`. many_conds has a 2-byte
// bitmap and sets a bit at a computed byte.

int many_conds(int a, int b, int c, int d, int e) {
  if ((a > 0 || b > 0) && (c > 0 || d > 0) && e > 0)
    return 1;
  return 0;
}

int last(int a, int b) { return (a > 0 || b > 0) ? 5 : 6; }

// INPUT-LABEL: define {{.*}}@many_conds(
// INPUT: atomicrmw or ptr %{{[0-9]+}}, i8 %{{[0-9]+}} monotonic
// INPUT-LABEL: define {{.*}}@last(
// INPUT: atomicrmw or ptr @__profbm_last, i8 %{{[0-9]+}} monotonic

// CHECK-NOT: atomicrmw or {{.*}} i8
// CHECK-LABEL: define {{.*}}@many_conds(
// CHECK:       [[W:%[0-9]+]] = and i64 [[OFF:%[0-9]+]], -8
// CHECK-NEXT:  [[WORD:%bpfcov.word[0-9]*]] = getelementptr i8, ptr @__profbm_many_conds, i64 [[W]]
// CHECK-NEXT:  [[BYTE:%[0-9]+]] = and i64 [[OFF]], 7
// CHECK-NEXT:  [[SHIFT:%[0-9]+]] = shl i64 [[BYTE]], 3
// CHECK-NEXT:  [[BITS:%[0-9]+]] = zext i8 %{{[0-9]+}} to i64
// CHECK-NEXT:  [[WIDE:%[0-9]+]] = shl i64 [[BITS]], [[SHIFT]]
// CHECK-NEXT:  atomicrmw or ptr [[WORD]], i64 [[WIDE]] monotonic, align 8
// CHECK-LABEL: define {{.*}}@last(
// CHECK:       [[BITS:%[0-9]+]] = zext i8 %{{[0-9]+}} to i64
// CHECK-NEXT:  atomicrmw or ptr @__profbm_last, i64 [[BITS]] monotonic, align 8
// CHECK-NOT: atomicrmw or {{.*}} i8

// ASM-NOT: error
// ASM: lock *(u64 *)(r{{[0-9]}} + 0x0) |= r{{[0-9]}}
