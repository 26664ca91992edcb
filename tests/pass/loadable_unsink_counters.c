// RUN: %clang_bpf -fprofile-update=atomic -S -emit-llvm %s -o %t.atomic.ll
// RUN: FileCheck %s --check-prefix=SUNK --input-file=%t.atomic.ll
// RUN: %opt -passes='bpf-cov<loadable>' -S %t.atomic.ll | FileCheck %s --check-prefixes=CHECK,ATOMIC
// RUN: %clang_bpf -fprofile-update=single -S -emit-llvm %s -o %t.single.ll
// RUN: %opt -passes='bpf-cov<loadable>' -S %t.single.ll | FileCheck %s --check-prefixes=CHECK,SINGLE
// RUN: %clang_bpf -fpass-plugin=%plugin -c %s -o %t.o
//
// Each early return ends with its counter's increment. The optimiser sinks
// those into the one exit block, as a single increment through a phi of the
// counters' addresses (SUNK; with atomic counters on every LLVM, with plain
// ones on some), which keeps an address and the constant 1 live across the
// helper calls. Loadable mode puts each increment back on the edge it came
// from (splitting the edges it must): no phi of addresses is left, and each
// path adds 1 to its own counter, with an atomic add or with a load, an add
// and a store, as clang wrote it.

int check(int);

int f(int a, int b) {
  if (check(a))
    return 1;
  if (check(b))
    return 2;
  if (check(a + b))
    return 3;
  return 0;
}

// SUNK-LABEL: define {{.*}} @f(
// SUNK: phi {{ptr|i64\*}} [ getelementptr {{.*}}@__profc_f
// SUNK-NEXT: phi i32
// SUNK-NEXT: atomicrmw add {{ptr|i64\*}} %{{[0-9]+}}, i64 1

// CHECK-LABEL: define {{.*}} @f(
// CHECK-NOT: phi {{ptr|i64\*}}
// ATOMIC-DAG: atomicrmw add {{.*}}@__profc_f, i64 {{0, i64 1|8}}), i64 1 monotonic
// ATOMIC-DAG: atomicrmw add {{.*}}@__profc_f, i64 {{0, i64 2|16}}), i64 1 monotonic
// ATOMIC-DAG: atomicrmw add {{.*}}@__profc_f, i64 {{0, i64 3|24}}), i64 1 monotonic
// SINGLE-DAG: store i64 %{{[0-9]+}}, {{.*}}@__profc_f, i64 {{0, i64 1|8}})
// SINGLE-DAG: store i64 %{{[0-9]+}}, {{.*}}@__profc_f, i64 {{0, i64 2|16}})
// SINGLE-DAG: store i64 %{{[0-9]+}}, {{.*}}@__profc_f, i64 {{0, i64 3|24}})
// CHECK-NOT: phi {{ptr|i64\*}}
// CHECK: ret i32
