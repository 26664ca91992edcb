// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: FileCheck %s --check-prefix=CLANG --input-file=%t.ll
// RUN: %clang_bpf -fpass-plugin=%plugin -S -emit-llvm %s -o %t.cov.ll
// RUN: FileCheck %s --input-file=%t.cov.ll
// RUN: FileCheck %s --check-prefix=GONE --input-file=%t.cov.ll
//
// The kernel checks every argument of a global function against its BTF type,
// even one the function never reads. clang alone passes poison for such an
// argument (poison or undef, CLANG): the register then holds whatever was there, which a
// counter increment may have used. With the plugin, callers pass what the
// source passes, and nothing of the means (a call that keeps the parameter
// used until dead-argument elimination has run) is left in the module (GONE).

struct ctx;
__attribute__((noinline)) int ignores(struct ctx *c) { return 7; }
int prog(struct ctx *c) { return ignores(c) + 1; }

// CLANG-LABEL: define {{.*}} @prog(
// CLANG: call {{.*}} @ignores({{.*}} {{poison|undef}})

// CHECK-LABEL: define {{.*}} @prog({{.*}} %0)
// CHECK: call {{.*}} @ignores({{.*}} %0)

// GONE-NOT: bpfcov.keep
