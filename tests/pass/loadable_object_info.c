// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes='bpf-cov<loadable;object=2f6275696c642f6d79206f626a732f70726f672e6270662e6f626a>' -S %t.ll -o %t.out.ll
// RUN: cat %t.ll %t.out.ll | FileCheck %s -DMAJOR=%llvm_major -DRAW=%raw_version
// RUN: FileCheck %s --check-prefix=GONE --input-file=%t.out.ll
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=OBJ
// RUN: %opt -passes=bpf-cov -S %t.ll | FileCheck %s --check-prefix=NOPATH
//
// Loadable mode fills .rodata.covmap with what the runtime needs to know about
// the object, in this order: __bpfcov_raw_version (u64, the raw profile version
// this LLVM's llvm-profdata reads, as its InstrProfData.inc defines it),
// __bpfcov_llvm_major (u32), __bpfcov_covmap_size (u32, the byte size of what
// follows), __bpfcov_covmap (clang's __llvm_coverage_mapping, header and
// filenames unchanged, 8-aligned) and __bpfcov_object_path (the NUL-terminated
// path given hex-encoded in bpf-cov<loadable;object=HEX>, here
// "/build/my objs/prog.bpf.obj"; empty without object=). OBJ checks that the
// globals sit at those offsets in the object.

int prog(int x) { return x > 2 ? x : 2; }

// The input: clang's coverage mapping header {0, filenames size, 0, version}.
// CHECK: {{^}}@__llvm_coverage_mapping = private constant { { i32, i32, i32, i32 }, {{\[}}[[#FILENAMES:]] x i8] } { { i32, i32, i32, i32 } { i32 0, i32 {{[0-9]+}}, i32 0, i32 [[#COVVERSION:]] }, [{{[0-9]+}} x i8] [[FILENAME_BYTES:c".*"]] }, section "__llvm_covmap", align 8

// The output.
// CHECK:      {{^}}@__bpfcov_raw_version = internal constant i64 [[RAW]], section ".rodata.covmap", align 8, !dbg
// CHECK-NEXT: {{^}}@__bpfcov_llvm_major = internal constant i32 [[MAJOR]], section ".rodata.covmap", align 4, !dbg
// CHECK-NEXT: {{^}}@__bpfcov_covmap_size = internal constant i32 [[#mul(div(FILENAMES+16+3,4),4)]], section ".rodata.covmap", align 4, !dbg
// CHECK-NEXT: {{^}}@__bpfcov_object_id = internal constant i64 {{-?[0-9]+}}, section ".rodata.covmap", align 8, !dbg
// CHECK-NEXT: {{^}}@__bpfcov_covmap = internal constant { { i32, i32, i32, i32 }, {{\[}}[[#FILENAMES]] x i8] } { { i32, i32, i32, i32 } { i32 0, i32 [[#FILENAMES]], i32 0, i32 [[#COVVERSION]] }, {{\[}}[[#FILENAMES]] x i8] [[FILENAME_BYTES]] }, section ".rodata.covmap", align 8, !dbg
// CHECK-NEXT: {{^}}@__bpfcov_object_path = internal constant [28 x i8] c"/build/my objs/prog.bpf.obj\00", section ".rodata.covmap", align 1, !dbg
// GONE-NOT: __llvm_coverage_mapping
// GONE-NOT: __llvm_covmap

// OBJ:     [{{ *}}[[SEC:[0-9]+]]] .rodata.covmap PROGBITS
// OBJ-DAG: 0000000000000000 8 OBJECT LOCAL  DEFAULT [[SEC]] __bpfcov_raw_version
// OBJ-DAG: 0000000000000008 4 OBJECT LOCAL  DEFAULT [[SEC]] __bpfcov_llvm_major
// OBJ-DAG: 000000000000000c 4 OBJECT LOCAL  DEFAULT [[SEC]] __bpfcov_covmap_size
// OBJ-DAG: 0000000000000010 8 OBJECT LOCAL  DEFAULT [[SEC]] __bpfcov_object_id
// OBJ-DAG: 0000000000000018 [[#COVSIZE:]] OBJECT LOCAL  DEFAULT [[SEC]] __bpfcov_covmap
// OBJ-DAG: [[#%.16x,24+COVSIZE]] 28 OBJECT LOCAL  DEFAULT [[SEC]] __bpfcov_object_path

// NOPATH: {{^}}@__bpfcov_object_path = internal constant [1 x i8] zeroinitializer, section ".rodata.covmap", align 1
