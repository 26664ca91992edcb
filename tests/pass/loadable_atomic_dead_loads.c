// RUN: %clang_bpf -fprofile-update=atomic -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes='bpf-cov<loadable>' -S %t.ll | FileCheck %s
// RUN: %opt -passes='bpf-cov<loadable>' %t.ll -o %t.bc
// RUN: %llc -filetype=obj %t.bc -o %t.o
//
// With atomic counters, a ?: whose condition is && makes the optimiser leave an
// atomic load of a counter whose value is never used (on the path that would
// add 0). Loadable mode removes it: it does nothing, and the BPF back ends of
// LLVM 14 and 15 cannot compile it (llc must succeed above). The atomic adds
// stay.

int f(int a, int b) { return (a && b) ? 8 : 16; }

// CHECK-LABEL: define {{.*}} @f(
// CHECK: atomicrmw add {{.*}}@__profc_f
// CHECK-NOT: load atomic
// CHECK: ret i32
