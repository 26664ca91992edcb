// RUN: %clang_bpf -fprofile-update=atomic -S -emit-llvm %s -o %t.atomic.ll
// RUN: FileCheck %s --check-prefix=APART --input-file=%t.atomic.ll
// RUN: %opt -passes='bpf-cov<loadable>' -S %t.atomic.ll | FileCheck %s
// RUN: %clang_bpf -fpass-plugin=%plugin -c %s -o %t.o
//
// An inlined function's entry counter is incremented once per call: mix calls
// rol four times in one block, so clang's output adds 1 to rol's counter four
// times, with atomic adds the optimiser never merges (APART). Loadable mode
// adds 4 once. In apart, a call that may not come back (a BPF helper, through
// its address, as the BPF headers declare them) stands between the two calls
// of rol: the adds before and after it stay apart.

static inline __attribute__((always_inline)) unsigned rol(unsigned x, int k) {
  return (x << k) | (x >> (32 - k));
}

unsigned mix(unsigned a, unsigned b) {
  a = rol(a, 3) ^ b;
  b = rol(b, 5) + a;
  return rol(a, 7) ^ rol(b, 11);
}

static long (*const helper)(unsigned) = (void *)1;

unsigned apart(unsigned a) {
  a = rol(a, 3);
  helper(a);
  return rol(a, 5);
}

// APART-LABEL: define {{.*}} @mix(
// APART-COUNT-4: atomicrmw add {{.*}}@__profc_{{.*}}rol{{.*}}, i64 1 monotonic
// APART-LABEL: define {{.*}} @apart(

// CHECK-LABEL: define {{.*}} @mix(
// CHECK:         atomicrmw add {{.*}}@__profc_{{.*}}rol{{.*}}, i64 4 monotonic
// CHECK-NOT:     @__profc_{{.*}}rol
// CHECK-LABEL: define {{.*}} @apart(
// CHECK:         atomicrmw add {{.*}}@__profc_{{.*}}rol{{.*}}, i64 1 monotonic
// CHECK:         call {{.*}}(i32 noundef
// CHECK:         atomicrmw add {{.*}}@__profc_{{.*}}rol{{.*}}, i64 1 monotonic
