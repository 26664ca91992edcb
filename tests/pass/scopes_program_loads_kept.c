// RUN: %clang_bpf -fpass-plugin=%plugin -S -emit-llvm %s -o - | FileCheck %s
//
// Counter stores alias nothing of the program's, so the optimiser keeps what
// the program loaded across them, as it does without counters: a pointer
// checked against NULL is not loaded again after the check (reloaded, it is
// unchecked to the verifier), and two loads from different pointers are not
// folded into one load of a phi of the pointers (one instruction reached with
// two pointer types, which the verifier refuses).

struct sk { int family; };
struct ctx { struct sk *sk; int len; };
static int *(*lookup)(int key) = (void *)1;

int checked(struct ctx *c) {
  if (c->sk && c->sk->family != 2)
    return 1;
  return 0;
}

int merged(struct ctx *c) {
  int *f = lookup(0);
  if (f && *f)
    return *f;
  return c->len;
}

// CHECK-LABEL: define {{.*}} @checked(
// CHECK: load {{ptr|%struct.sk\*}},
// CHECK-NOT: load {{ptr|%struct.sk\*}},
// CHECK: ret i32

// CHECK-LABEL: define {{.*}} @merged(
// CHECK-NOT: phi {{ptr|i32\*}}
// CHECK: ret i32
