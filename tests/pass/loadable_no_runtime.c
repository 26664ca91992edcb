// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: FileCheck %s --check-prefixes=INPUT%if !llvm-ge-17 %{,CTOR%} --input-file=%t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=OBJ
//
// Loadable mode removes everything that only the host profiling runtime or
// llvm-cov understands: the __llvm_profile_runtime hook (an undefined symbol
// libbpf refuses), the llvm.global_ctors entry and __llvm_profile_init with the
// register functions it calls (LLVM 14-16 only; the BPF back end crashes on
// them), the __covrec_ coverage records (they stay in the mapping object), and
// leaves no global in an __llvm_* section and none named __llvm_*. The result
// compiles to an object with no __llvm_* section and no undefined symbol.

static int half(int x) { return x > 1 ? x >> 1 : 0; }
int prog(int x) { return half(x) + (x & 1 ? 1 : 0); }

// What the pass has to remove is there in the input.
// INPUT-DAG: @__llvm_profile_runtime = external {{.*}}global i32
// INPUT-DAG: @__covrec_{{[0-9A-F]+u?}} = linkonce_odr hidden constant {{.*}} section "__llvm_covfun"
// CTOR-DAG:  @llvm.global_ctors = appending global {{.*}} @__llvm_profile_init
// CTOR-DAG:  define internal void @__llvm_profile_init()
// CTOR-DAG:  declare void @__llvm_profile_register_function(
// CTOR-DAG:  declare void @__llvm_profile_register_names_function(

// CHECK-NOT: __llvm_profile_
// CHECK-NOT: llvm.global_ctors
// CHECK-NOT: __covrec_
// CHECK-NOT: section "__llvm_
// CHECK-NOT: {{^@__llvm_}}
// CHECK-NOT: comdat

// OBJ-NOT: ] __llvm_
// OBJ-NOT: UND {{[_A-Za-z]}}
