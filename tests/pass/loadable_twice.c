// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.once.ll
// RUN: %opt -passes='bpf-cov,bpf-cov' -S %t.ll -o %t.twice.ll
// RUN: diff %t.once.ll %t.twice.ll
// RUN: %opt -passes=bpf-cov -S %t.once.ll -o %t.again.ll
// RUN: %opt -passes=verify -S %t.once.ll -o %t.once.ref.ll
// RUN: diff %t.once.ref.ll %t.again.ll
//
// Loadable mode leaves its own output alone: running it again (in the same
// pipeline, or on a module it already rewrote, as when clang -fpass-plugin's
// output goes through opt) adds no second __bpfcov_ global and moves nothing.

static int half(int x) { return x > 1 ? x >> 1 : 0; }
int prog(int x) { return half(x) + (x & 1 ? 1 : 0); }
