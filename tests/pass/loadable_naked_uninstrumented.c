// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: FileCheck %s --check-prefix=CLANG --input-file=%t.ll
// RUN: %opt -passes='bpf-cov<loadable>' -S %t.ll | FileCheck %s
// RUN: %opt -passes='bpf-cov<mapping>' -S %t.ll | FileCheck %s --check-prefix=MAPPING
//
// clang puts the entry counter's increment before a naked function's asm,
// where it clobbers the registers the asm reads (CLANG). Both modes leave a
// naked function uninstrumented, as if it were declared
// no_profile_instrument_function: no increment, no counters, no data record,
// no coverage record; the other functions keep theirs.

__attribute__((naked)) int naked_fn(void) {
  asm volatile("r0 = r1; exit;" ::: "memory");
}

int plain_fn(int x) { return x > 3 ? 1 : 2; }

// CLANG-LABEL: define {{.*}} @naked_fn(
// CLANG: store {{.*}}@__profc_naked_fn

// CHECK-NOT: __profc_naked_fn
// CHECK-NOT: __profd_naked_fn
// CHECK: @__profc_plain_fn = {{.*}}section ".data.profc"
// CHECK-LABEL: define {{.*}} @naked_fn(
// CHECK-NEXT: call void asm sideeffect
// CHECK-LABEL: define {{.*}} @plain_fn(
// CHECK: @__profc_plain_fn

// The coverage records keep plain_fn's alone (its NameRef, the MD5 of its name).
// MAPPING-NOT: __profc_naked_fn
// MAPPING-COUNT-1: section "__llvm_covfun"
// MAPPING-NOT: section "__llvm_covfun"
// MAPPING-NOT: __profd_naked_fn
