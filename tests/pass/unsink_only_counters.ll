; RUN: %opt %if !llvm-ge-15 %{ -opaque-pointers %} -passes='function(bpf-cov-unsink)' -S %s | FileCheck %s
;
; An update that is the first thing its block does, through a phi of counter
; addresses (globals in clang's counters section), moves onto each incoming
; edge: a critical edge is split, an edge that ends its block gets it before
; the branch; atomic adds and load/add/store alike (@sunk, @sunk_plain).
; Everything else stays: an address that is not a counter's, MC/DC bitmaps,
; an update after other code, and a block two edges of one switch reach.

target triple = "bpf"

@__profc_f = private global [4 x i64] zeroinitializer, section "__llvm_prf_cnts", align 8
@__profbm_f = private global [2 x i8] zeroinitializer, section "__llvm_prf_bits", align 1
@other = global [2 x i64] zeroinitializer
@__llvm_profile_runtime = external hidden global i32

declare i32 @helper()

define i32 @sunk(i1 %c, i1 %d) {
entry:
  br i1 %c, label %a, label %b
a:
  br i1 %d, label %exit, label %away
b:
  br label %exit
away:
  ret i32 2
exit:
  %p = phi ptr [ getelementptr inbounds (i8, ptr @__profc_f, i64 8), %a ], [ getelementptr inbounds (i8, ptr @__profc_f, i64 16), %b ]
  %r = phi i32 [ 0, %a ], [ 1, %b ]
  %u = atomicrmw add ptr %p, i64 1 monotonic, align 8
  ret i32 %r
}

; CHECK-LABEL: define i32 @sunk(
; CHECK:      a:
; CHECK-NEXT:   br i1 %d, label %[[SPLIT:[a-z._]+]], label %away
; CHECK:      [[SPLIT]]:
; CHECK-NEXT:   atomicrmw add ptr getelementptr inbounds (i8, ptr @__profc_f, i64 8), i64 1 monotonic
; CHECK-NEXT:   br label %exit
; CHECK:      b:
; CHECK-NEXT:   atomicrmw add ptr getelementptr inbounds (i8, ptr @__profc_f, i64 16), i64 1 monotonic
; CHECK-NEXT:   br label %exit
; CHECK:      exit:
; CHECK-NEXT:   %r = phi i32
; CHECK-NEXT:   ret i32 %r

define i32 @sunk_plain(i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  br label %exit
b:
  br label %exit
exit:
  %p = phi ptr [ @__profc_f, %a ], [ getelementptr inbounds (i8, ptr @__profc_f, i64 24), %b ]
  %v = load i64, ptr %p, align 8
  %n = add i64 %v, 1
  store i64 %n, ptr %p, align 8
  ret i32 0
}

; CHECK-LABEL: define i32 @sunk_plain(
; CHECK:      a:
; CHECK-NEXT:   [[A:%.*]] = load i64, ptr @__profc_f, align 8
; CHECK-NEXT:   [[A1:%.*]] = add i64 [[A]], 1
; CHECK-NEXT:   store i64 [[A1]], ptr @__profc_f, align 8
; CHECK-NEXT:   br label %exit
; CHECK:      b:
; CHECK-NEXT:   [[B:%.*]] = load i64, ptr getelementptr inbounds (i8, ptr @__profc_f, i64 24), align 8
; CHECK-NEXT:   [[B1:%.*]] = add i64 [[B]], 1
; CHECK-NEXT:   store i64 [[B1]], ptr getelementptr inbounds (i8, ptr @__profc_f, i64 24), align 8
; CHECK-NEXT:   br label %exit
; CHECK:      exit:
; CHECK-NEXT:   ret i32 0

define void @not_a_counter(i1 %c) {
entry:
  br i1 %c, label %a, label %exit
a:
  br label %exit
exit:
  %p = phi ptr [ @__profc_f, %a ], [ @other, %entry ]
  %u = atomicrmw add ptr %p, i64 1 monotonic, align 8
  ret void
}

; CHECK-LABEL: define void @not_a_counter(
; CHECK:      exit:
; CHECK-NEXT:   %p = phi ptr
; CHECK-NEXT:   atomicrmw add ptr %p

define void @bitmap(i1 %c) {
entry:
  br i1 %c, label %a, label %exit
a:
  br label %exit
exit:
  %p = phi ptr [ @__profbm_f, %a ], [ getelementptr inbounds (i8, ptr @__profbm_f, i64 1), %entry ]
  %u = atomicrmw or ptr %p, i8 1 monotonic, align 1
  ret void
}

; CHECK-LABEL: define void @bitmap(
; CHECK:      exit:
; CHECK-NEXT:   %p = phi ptr
; CHECK-NEXT:   atomicrmw or ptr %p

define i32 @after_a_call(i1 %c) {
entry:
  br i1 %c, label %a, label %exit
a:
  br label %exit
exit:
  %p = phi ptr [ @__profc_f, %a ], [ getelementptr inbounds (i8, ptr @__profc_f, i64 8), %entry ]
  %h = call i32 @helper()
  %u = atomicrmw add ptr %p, i64 1 monotonic, align 8
  ret i32 %h
}

; CHECK-LABEL: define i32 @after_a_call(
; CHECK:      exit:
; CHECK-NEXT:   %p = phi ptr
; CHECK-NEXT:   %h = call i32 @helper()
; CHECK-NEXT:   atomicrmw add ptr %p

define void @two_cases(i32 %k) {
entry:
  switch i32 %k, label %a [ i32 1, label %exit
                            i32 2, label %exit ]
a:
  br label %exit
exit:
  %p = phi ptr [ @__profc_f, %a ], [ getelementptr inbounds (i8, ptr @__profc_f, i64 8), %entry ], [ getelementptr inbounds (i8, ptr @__profc_f, i64 8), %entry ]
  %u = atomicrmw add ptr %p, i64 1 monotonic, align 8
  ret void
}

; CHECK-LABEL: define void @two_cases(
; CHECK:      exit:
; CHECK-NEXT:   %p = phi ptr
; CHECK-NEXT:   atomicrmw add ptr %p
