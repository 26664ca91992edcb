// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: FileCheck %s --check-prefix=INPUT --input-file=%t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: FileCheck %s --check-prefix=IDENT --input-file=%t.out.ll
// RUN: %clang_bpf -Xclang -main-file-name -Xclang 'odd name+1.bpf.c' -S -emit-llvm %s -o %t.odd.ll
// RUN: FileCheck %s --check-prefix=ODD-INPUT --input-file=%t.odd.ll
// RUN: %opt -passes=bpf-cov -S %t.odd.ll -o %t.odd.out.ll
// RUN: FileCheck %s --check-prefix=ODD --input-file=%t.odd.out.ll
// RUN: FileCheck %s --check-prefix=IDENT --input-file=%t.odd.out.ll
//
// A static function's PGO name is "<main file name>:<fn>", and clang names its
// globals __profc_<file>_<fn> with the '.' of the file name kept (clang itself
// replaces ':', '-', '/'; other characters, such as a space or a '+', stay).
// BTF, the kernel and bpftool's skeletons accept only C identifiers, so
// loadable mode turns every character that is not [A-Za-z0-9_] into '_', in
// the counters' names and in the names of the split data fields. The second
// compilation pretends the file is called "odd name+1.bpf.c".

static int helper(int x) {
  if (x > 3)
    return x * 2;
  return x + 1;
}

int entry(int x) { return helper(x) + helper(x + 1); }

// INPUT: @__profc_loadable_identifiers.c_helper = private global [2 x i64]
// INPUT: @__profd_loadable_identifiers.c_helper = private global

// CHECK-DAG: {{^}}@__profc_entry = dso_local global [1 x i64] zeroinitializer, section ".data.profc"
// CHECK-DAG: {{^}}@__profc_loadable_identifiers_c_helper = dso_local global [2 x i64] zeroinitializer, section ".data.profc"
// CHECK-DAG: {{^}}@__profd_loadable_identifiers_c_helper_NameRef = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd"
// CHECK-DAG: {{^}}@__profd_loadable_identifiers_c_helper_NumCounters = dso_local constant i32 2, section ".rodata.profd"
// CHECK-DAG: !DIGlobalVariable(name: "__profc_loadable_identifiers_c_helper",
// CHECK-DAG: !DIGlobalVariable(name: "__profd_loadable_identifiers_c_helper_CounterPtr",

// No global of the output needs quotes, and none of ours has a character that
// is not [A-Za-z0-9_] in its name.
// IDENT-NOT: {{^@"}}
// IDENT-NOT: {{^@__(prof|bpfcov|llvm_prf)[A-Za-z0-9_]*[^A-Za-z0-9_ ]}}

// ODD-INPUT: @"__profc_odd name+1.bpf.c_helper" = private global [2 x i64]

// ODD-DAG: {{^}}@__profc_odd_name_1_bpf_c_helper = dso_local global [2 x i64] zeroinitializer, section ".data.profc"
// ODD-DAG: {{^}}@__profd_odd_name_1_bpf_c_helper_FuncHash = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd"
// ODD-DAG: !DIGlobalVariable(name: "__profc_odd_name_1_bpf_c_helper",
