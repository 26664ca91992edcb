// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=OBJ
//
// A file compiled with -fprofile-instr-generate -fcoverage-mapping whose only
// functions are never emitted (here an unused static inline helper) has no
// __profd_ record, but clang still emits the runtime hook
// __llvm_profile_runtime (and, on LLVM 14-16, the constructor
// __llvm_profile_init), plus a __covrec_ record and the names of the unused
// function. Loadable mode must still strip the runtime and leave nothing in an
// __llvm_* section, as it does for any instrumented module, so that the object
// builds (LLVM 14-16) and libbpf loads it (no undefined symbol).

static inline int unused_helper(int x) { return x ? 1 : 2; }

int some_global = 3;

// CHECK-NOT: __llvm_profile_
// CHECK-NOT: llvm.global_ctors
// CHECK-NOT: section "__llvm_

// OBJ-NOT: ] __llvm_
// OBJ-NOT: UND {{[_A-Za-z]}}
