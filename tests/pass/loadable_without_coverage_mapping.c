// RUN: %clang -target bpf -O2 -g -fprofile-instr-generate -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
//
// With -fprofile-instr-generate but no -fcoverage-mapping there is no
// __llvm_coverage_mapping: loadable mode still moves the counters, records and
// names, and .rodata.covmap holds the version, the major, a covmap size of 0,
// no __bpfcov_covmap, then the (empty) object path.

int prog(int x) { return x > 0 ? x : -x; }

// CHECK:      {{^}}@__profc_prog = dso_local global [2 x i64] zeroinitializer, section ".data.profc"
// CHECK:      {{^}}@__bpfcov_raw_version = internal constant i64 {{[0-9]+}}, section ".rodata.covmap"
// CHECK-NEXT: {{^}}@__bpfcov_llvm_major = internal constant i32 {{[0-9]+}}, section ".rodata.covmap"
// CHECK-NEXT: {{^}}@__bpfcov_covmap_size = internal constant i32 0, section ".rodata.covmap"
// CHECK-NEXT: {{^}}@__bpfcov_object_id = internal constant i64 {{-?[0-9]+}}, section ".rodata.covmap"
// CHECK-NEXT: {{^}}@__bpfcov_object_path = internal constant [1 x i8] zeroinitializer, section ".rodata.covmap"
// CHECK-NOT:  @__bpfcov_covmap =
