// RUN: %clang_bpf -g0 -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: FileCheck %s --check-prefix=NODBG --input-file=%t.out.ll
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
// RUN: %readelf -S %t.o | FileCheck %s --check-prefix=OBJ
//
// Without -g the module has no compile unit to attach debug info to: loadable
// mode still moves and splits everything (without !dbg, so without BTF) and
// the object still builds.

int prog(int x) { return x > 0 ? x : -x; }

// NODBG-NOT: !dbg
// NODBG-NOT: llvm.dbg.cu

// CHECK: {{^}}@__profc_prog = dso_local global [2 x i64] zeroinitializer, section ".data.profc", align 8{{$}}
// CHECK: {{^}}@__profd_prog_NameRef = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd", align 8{{$}}
// CHECK: {{^}}@__bpfcov_names = internal constant [{{[0-9]+}} x i8] {{.*}}, section ".rodata.profn", align 1{{$}}
// CHECK: {{^}}@__bpfcov_raw_version = internal constant i64 {{[0-9]+}}, section ".rodata.covmap", align 8{{$}}

// OBJ-DAG: ] .data.profc PROGBITS
// OBJ-DAG: ] .rodata.profd PROGBITS
// OBJ-DAG: ] .rodata.profn PROGBITS
// OBJ-DAG: ] .rodata.covmap PROGBITS
