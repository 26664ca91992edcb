// RUN: %clang_bpf -fprofile-update=atomic -S -emit-llvm %s -o %t.atomic.ll
// RUN: FileCheck %s --check-prefix=COPIES --input-file=%t.atomic.ll
// RUN: %opt -passes='bpf-cov<loadable>' -S %t.atomic.ll | FileCheck %s --check-prefixes=CHECK,ATOMIC
// RUN: %clang_bpf -fprofile-update=single -S -emit-llvm %s -o %t.single.ll
// RUN: %opt -passes='bpf-cov<loadable>' -S %t.single.ll | FileCheck %s --check-prefixes=CHECK,SINGLE
// RUN: %clang_bpf -fpass-plugin=%plugin -c %s -o %t.o
//
// In a loop, a `continue` taken after a check goes through a block that only
// counts; the plain build branches straight on. Loadable mode counts it in the
// block that branches instead, adding the branch condition (0 or 1), and
// branches past it (sum_unchecked: counter 2, the `continue`). Outside loops
// such blocks stay (once: counter 1, the early return). This is the form clang
// itself gives the counter of a `?:` (once's counter 2).
//
// A fully unrolled loop leaves no loop, but copies of its checks: the block
// that counts the `break` (first_bytes: counter 2) is one, with a phi of the
// sum, that every copy's branch leads to (COPIES, in clang's own output). Each
// copy counts it by its own condition instead. A block that different checks
// lead to (either: `a || b || c`, counter 1) stays, and so does one that the
// copies lead to with no values of their own (all_equal: counter 2, `return 0`).

int check(int);

int sum_unchecked(int n) {
  int sum = 0;
  for (int i = 0; i < n; i++) {
    if (check(i))
      continue;
    sum += i;
  }
  return sum;
}

int once(int a) {
  if (check(a))
    return 1;
  return check(a + 1) ? 2 : 3;
}

int first_bytes(const unsigned char *p, int n) {
  int sum = 0;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    if (i >= n)
      break;
    sum += p[i];
  }
  return sum;
}

int all_equal(const unsigned *p, unsigned v) {
#pragma unroll
  for (int i = 0; i < 4; i++)
    if (p[i] != v)
      return 0;
  return 1;
}

int either(int a, int b, int c) {
  int r = check(a);
  if (a == r || b == r || c == r)
    return r;
  return check(r);
}

// CHECK-LABEL: define {{.*}} @sum_unchecked(
// CHECK:         tail call i32 @check(
// CHECK:         [[N:%[0-9]+]] = zext i1 %{{[0-9]+}} to i64
// ATOMIC-NEXT:   atomicrmw add {{.*}}@__profc_sum_unchecked, i64 {{0, i64 2|16}}), i64 [[N]] monotonic
// SINGLE-NEXT:   [[OLD:%[0-9]+]] = load i64, {{.*}}@__profc_sum_unchecked, i64 {{0, i64 2|16}})
// SINGLE-NEXT:   [[NEW:%[0-9]+]] = add i64 [[OLD]], [[N]]
// SINGLE-NEXT:   store i64 [[NEW]], {{.*}}@__profc_sum_unchecked, i64 {{0, i64 2|16}})
// CHECK-NEXT:    br i1
// CHECK-NOT:     @__profc_sum_unchecked, i64 {{0, i64 2|16}})

// CHECK-LABEL: define {{.*}} @once(
// ATOMIC:        atomicrmw add {{.*}}@__profc_once, i64 {{0, i64 1|8}}), i64 1 monotonic
// SINGLE:        store i64 %{{[0-9]+}}, {{.*}}@__profc_once, i64 {{0, i64 1|8}})
// CHECK-NEXT:    br label

// COPIES-LABEL: define {{.*}} @first_bytes(
// COPIES:         phi i32
// COPIES-NEXT:    atomicrmw add {{.*}}@__profc_first_bytes, i64 {{0, i64 2|16}}), i64 1 monotonic
// COPIES-NEXT:    br label

// CHECK-LABEL: define {{.*}} @first_bytes(
// CHECK-NOT:     {{^}}  %{{[0-9]+}} = phi i32 [ 0, %{{[0-9]+}} ], [
// CHECK:         [[N:%[0-9]+]] = zext i1 %{{[0-9]+}} to i64
// ATOMIC-NEXT:   atomicrmw add {{.*}}@__profc_first_bytes, i64 {{0, i64 2|16}}), i64 [[N]] monotonic
// SINGLE-NEXT:   [[OLD:%[0-9]+]] = load i64, {{.*}}@__profc_first_bytes, i64 {{0, i64 2|16}})
// SINGLE-NEXT:   [[NEW:%[0-9]+]] = add i64 [[OLD]], [[N]], !dbg [[BREAK:![0-9]+]]
// SINGLE-NEXT:   store i64 [[NEW]], {{.*}}@__profc_first_bytes, i64 {{0, i64 2|16}})
// CHECK-NEXT:    br i1
// ATOMIC-NOT:    @__profc_first_bytes, i64 {{0, i64 2|16}}), i64 1 monotonic
// SINGLE-NOT:    add i64 %{{[0-9]+}}, 1, !dbg [[BREAK]]{{$}}

// COPIES-LABEL: define {{.*}} @all_equal(
// COPIES:         preds = %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}{{$}}
// COPIES-NEXT:    atomicrmw add {{.*}}@__profc_all_equal, i64 {{0, i64 2|16}}), i64 1 monotonic
// COPIES-NEXT:    br label

// CHECK-LABEL: define {{.*}} @all_equal(
// ATOMIC:        atomicrmw add {{.*}}@__profc_all_equal, i64 {{0, i64 2|16}}), i64 1 monotonic
// SINGLE:        store i64 %{{[0-9]+}}, {{.*}}@__profc_all_equal, i64 {{0, i64 2|16}})
// CHECK-NEXT:    br label

// CHECK-LABEL: define {{.*}} @either(
// ATOMIC:        atomicrmw add {{.*}}@__profc_either, i64 {{0, i64 1|8}}), i64 1 monotonic
// SINGLE:        store i64 %{{[0-9]+}}, {{.*}}@__profc_either, i64 {{0, i64 1|8}})
// CHECK-NEXT:    br label
