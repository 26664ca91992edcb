// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes='bpf-cov<mapping>' -S %t.ll -o %t.map.ll
// RUN: FileCheck %s -DMAJOR=%llvm_major -DRAW=%raw_version --input-file=%t.map.ll
// RUN: %llc -march=bpf -filetype=obj %t.map.ll -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=OBJ
//
// Mapping mode records which LLVM built the mapping object, laid out like the
// head of the loadable object's .rodata.covmap: __bpfcov_info in section
// .bpfcov.info = { u64 raw profile version (as this LLVM's InstrProfData.inc
// defines it), u32 LLVM major, u32 covmap size 0, u64 object id, an empty
// NUL-terminated path }, so that the runtime can tell which llvm-cov reads the
// object.

int prog(int x) { return x > 0 ? x : -x; }

// CHECK: {{^}}@__bpfcov_info = constant { i64, i32, i32, i64, [1 x i8] } { i64 [[RAW]], i32 [[MAJOR]], i32 0, i64 {{-?[0-9]+}}, [1 x i8] zeroinitializer }, section ".bpfcov.info", align 8
// CHECK-NOT: @__bpfcov_info

// OBJ:     [{{ *}}[[SEC:[0-9]+]]] .bpfcov.info PROGBITS {{[0-9a-f]+ [0-9a-f]+}} 000020 00 A
// OBJ-NOT: ] .bpfcov.info
// OBJ:     0000000000000000 32 OBJECT GLOBAL DEFAULT [[SEC]] __bpfcov_info
