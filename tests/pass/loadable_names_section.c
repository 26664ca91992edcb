// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: cat %t.ll %t.out.ll | FileCheck %s
// RUN: FileCheck %s --check-prefix=GONE --input-file=%t.out.ll
// RUN: %clang_bpf -mllvm -enable-name-compression=false -S -emit-llvm %s -o %t.plain.ll
// RUN: %opt -passes=bpf-cov -S %t.plain.ll -o %t.plain.out.ll
// RUN: cat %t.plain.ll %t.plain.out.ll | FileCheck %s
// RUN: FileCheck %s --check-prefix=PLAIN --input-file=%t.plain.out.ll
//
// Loadable mode moves clang's function-name blob __llvm_prf_nm out of
// __llvm_prf_names into .rodata.profn and renames it __bpfcov_names (nothing
// named __llvm_* stays in the loadable object, see Layout.h). The blob itself
// is unchanged: same type, same bytes (zlib-compressed by default, plain with
// -enable-name-compression=false), align 1, external, with debug info for
// BTF; the runtime copies it verbatim into the raw profile. The input module
// is checked first, the output second.

static int beta(int x) { return x > 1 ? x : 1; }
int alpha(int x) { return beta(x) + 1; }

// CHECK:      {{^}}@__llvm_prf_nm = private constant [[TYPE:\[[0-9]+ x i8\]]] [[BYTES:c".*"]], section "__llvm_prf_names", align 1{{$}}
// CHECK:      {{^}}@__bpfcov_names = internal constant [[TYPE]] [[BYTES]], section ".rodata.profn", align 1, !dbg !{{[0-9]+$}}
// CHECK:      !DIGlobalVariable(name: "__bpfcov_names",

// GONE-NOT: __llvm_prf_nm
// GONE-NOT: __llvm_prf_names

// PLAIN: {{^}}@__bpfcov_names = internal constant [{{[0-9]+}} x i8] c"{{.*}}alpha\01loadable_names_section.c:beta", section ".rodata.profn"
