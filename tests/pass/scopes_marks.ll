; RUN: %opt %if !llvm-ge-15 %{ -opaque-pointers %} -passes='function(bpf-cov-scopes)' -S %s | FileCheck %s
;
; Counter accesses get the alias scope "bpfcov counters"; the program's loads,
; stores, atomics, intrinsics and helper calls get it in their noalias list
; (kept with what they had). Calls that may run counting code or end the
; program keep no mark: a function of the module, bpf_tail_call (helper 12),
; a helper given a function of the module to call (bpf_loop, 181), inline asm.

target triple = "bpf"

@__profc_f = private global [2 x i64] zeroinitializer, section "__llvm_prf_cnts", align 8
@__llvm_profile_runtime = external hidden global i32

define internal i64 @callback(i64 %i, ptr %d) {
  ret i64 0
}

define i32 @f(ptr %ctx, ptr %p) {
  %c = load i64, ptr @__profc_f, align 8
  %c1 = add i64 %c, 1
  store i64 %c1, ptr @__profc_f, align 8
  %v = load i32, ptr %ctx, align 4, !noalias !3
  store i32 %v, ptr %p, align 4
  %r = atomicrmw add ptr getelementptr inbounds (i8, ptr @__profc_f, i64 8), i64 1 monotonic
  %h = call ptr inttoptr (i64 1 to ptr)(ptr %p, ptr %ctx)
  call void inttoptr (i64 12 to ptr)(ptr %ctx, ptr %p, i32 0)
  %l = call i64 inttoptr (i64 181 to ptr)(i32 4, ptr @callback, ptr %p, i64 0)
  %x = call i64 @callback(i64 0, ptr %p)
  call void asm sideeffect "r0 = 0", ""()
  call void @llvm.memset.p0.i64(ptr %p, i8 0, i64 8, i1 false)
  ret i32 %v
}

declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)

!0 = !{!0, !"their domain"}
!1 = !{!1, !0, !"their scope"}
!3 = !{!1}

; CHECK-LABEL: define i32 @f(
; CHECK: load i64, ptr @__profc_f, align 8, !alias.scope [[COUNTERS:![0-9]+]]
; CHECK: store i64 %c1, ptr @__profc_f, align 8, !alias.scope [[COUNTERS]]
; CHECK: load i32, ptr %ctx, align 4, !noalias [[THEIRS_AND_COUNTERS:![0-9]+]]
; CHECK: store i32 %v, ptr %p, align 4, !noalias [[COUNTERS]]
; CHECK: atomicrmw add {{.*}}, !alias.scope [[COUNTERS]]
; CHECK: call ptr inttoptr (i64 1 to ptr)(ptr %p, ptr %ctx), !noalias [[COUNTERS]]
; CHECK: call void inttoptr (i64 12 to ptr)(ptr %ctx, ptr %p, i32 0){{$}}
; CHECK: call i64 inttoptr (i64 181 to ptr)(i32 4, ptr @callback, ptr %p, i64 0){{$}}
; CHECK: call i64 @callback(i64 0, ptr %p){{$}}
; CHECK: call void asm sideeffect "r0 = 0", ""(){{$}}
; CHECK: call void @llvm.memset.p0.i64({{.*}}), !noalias [[COUNTERS]]
; CHECK: [[COUNTERS]] = !{[[SCOPE:![0-9]+]]}
; CHECK: [[SCOPE]] = !{!"bpfcov counters", [[DOMAIN:![0-9]+]]}
; CHECK: [[DOMAIN]] = !{!"bpfcov"}
; CHECK: [[THEIRS_AND_COUNTERS]] = !{!{{[0-9]+}}, [[SCOPE]]}
