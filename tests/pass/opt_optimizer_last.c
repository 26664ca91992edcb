// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes='default<O2>' -S %t.ll | FileCheck %s
// RUN: %opt -passes='default<O0>' -S %t.ll | FileCheck %s
// RUN: %opt -passes='default<O1>' -S %t.ll | FileCheck %s
// RUN: %opt -passes='default<O3>' -S %t.ll | FileCheck %s
// RUN: %opt -passes=verify -S %t.ll | FileCheck %s --check-prefix=EXPLICIT
// RUN: %opt -passes='default<O2>,bpf-cov<mapping>' -S %t.ll | FileCheck %s --check-prefix=MAPPING
//
// The plugin registers loadable mode at the OptimizerLast extension point (for
// clang -fpass-plugin), so every default pipeline that opt builds with the
// plugin loaded runs it too: default<O0> to <O3> all move the counters to
// .data.profc (<Os>, which LLVM 23's opt no longer takes, builds <O2>'s
// pipeline with a bias to size). An explicit pipeline without bpf-cov does
// not (the EXPLICIT checks), and a pipeline that names bpf-cov itself runs
// only that (the MAPPING checks: an optimised mapping object keeps clang's
// sections).

int prog(int x) { return x > 0 ? x : -x; }

// CHECK: {{^}}@__profc_prog = dso_local global [2 x i64] zeroinitializer, section ".data.profc", align 8
// CHECK: {{^}}@__bpfcov_raw_version =
// CHECK-NOT: __llvm_prf_cnts

// EXPLICIT: {{^}}@__profc_prog = private global [2 x i64] zeroinitializer, section "__llvm_prf_cnts"
// EXPLICIT-NOT: .data.profc

// MAPPING-DAG: {{^}}@__profc_prog = private global [2 x i64] zeroinitializer, section "__llvm_prf_cnts"
// MAPPING-DAG: section "__llvm_covmap"
// MAPPING-DAG: {{^}}@__bpfcov_info = {{.*}} section ".bpfcov.info"
// MAPPING-NOT: .data.profc
