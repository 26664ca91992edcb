// RUN: %clang -target bpf -O2 -g -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=verify -S %t.ll -o %t.ref.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: diff %t.ref.ll %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: %opt -passes='bpf-cov<mapping>' -S %t.ll -o %t.map.ll
// RUN: diff %t.ref.ll %t.map.ll
//
// A module compiled without -fprofile-instr-generate has no counters, records
// or runtime hooks: both modes leave it exactly as it was (same text as the
// same module passed through opt without bpf-cov), and loadable mode adds no
// section and no __bpfcov_ global.

static int twice(int x) { return x > 0 ? 2 * x : 0; }

int counter = 1;

int prog(int x) {
  counter += twice(x);
  return counter;
}

// CHECK: @counter = dso_local
// CHECK-NOT: .data.profc
// CHECK-NOT: .rodata.prof
// CHECK-NOT: .rodata.covmap
// CHECK-NOT: __bpfcov_
