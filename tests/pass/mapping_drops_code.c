// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes='bpf-cov<mapping>' -S %t.ll | FileCheck %s
//
// Mapping mode leaves every function a declaration: llvm-cov reads only the
// coverage sections and the names of the mapping object, so its code would be
// generated for nothing (as much work again as the loadable object's code).
// The coverage records stay.

static __attribute__((noinline)) int helper(int x) { return x > 3 ? x : 3; }

int prog(int x) { return helper(x) + 1; }

// CHECK-DAG: {{^}}@__covrec_{{[0-9A-F]+}}u = linkonce_odr hidden constant
// CHECK-DAG: {{^}}@__llvm_coverage_mapping = private constant
// CHECK-DAG: {{^}}declare {{.*}}i32 @prog(
// CHECK-DAG: {{^}}declare {{.*}}i32 @helper(
// CHECK-NOT: {{^}}define
