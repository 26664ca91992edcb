// RUN: %clang -target x86_64-linux-gnu -O2 -fprofile-instr-generate -fcoverage-mapping -fpass-plugin=%plugin -S -emit-llvm %s -o - | FileCheck %s
//
// clang -fpass-plugin runs loadable mode only on BPF modules: a host module
// built with the plugin loaded keeps clang's own counters, records and
// sections, so the plugin can sit in CFLAGS shared by host and BPF code.

int prog(int x) { return x > 0 ? x : -x; }

// CHECK: {{^}}@__profc_prog = private global [2 x i64] zeroinitializer, section "__llvm_prf_cnts"
// CHECK: {{^}}@__profd_prog = private global {{.*}} section "__llvm_prf_data"
// CHECK-NOT: .data.profc
// CHECK-NOT: __bpfcov_
