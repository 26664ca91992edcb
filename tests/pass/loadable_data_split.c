// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll --check-prefixes=CHECK%if llvm-ge-18 %{,BITMAP%}%if raw-9 %{,TAIL%}%if raw-11 %{,UNIFORM%}
// RUN: cat %t.ll %t.out.ll | FileCheck %s --check-prefix=COPY
//
// Loadable mode removes every __profd_ record (a struct holding relocations)
// and writes, per function, one scalar global per field of this LLVM's
// INSTR_PROF_DATA, named __profd_<fn>_<Field>, in record order, in
// .rodata.profd. CounterPtr becomes the byte offset of the function's
// counters in .data.profc: 0 for the first function, then the size of the
// counters before it. Host pointers (FunctionPointer, Values) become 0, the
// other fields keep clang's values (COPY checks NameRef and FuncHash against
// the record in the input). BitmapPtr / NumBitmapBytes exist from LLVM 18;
// LLVM 18's record ends in 4 bytes of padding, written out as
// __profd_<fn>_TailPadding (TAIL); LLVM 23 adds UniformCounterPtr (of GPU
// offload targets, 0 here) and OffloadDeviceWaveSize (UNIFORM).

// 3 counters: the function, two `if`s.
int first(int x) {
  int r = 0;
  if (x > 0)
    r += 1;
  if (x > 10)
    r += 2;
  return r;
}

// 1 counter: the function.
int second(int x) { return x * 7; }

// 2 counters: the function, one `if`.
int third(int x) {
  if (x < 0)
    return -x;
  return x;
}

// CHECK-NOT: @__profd_first =
// CHECK-NOT: @__profd_second =
// CHECK-NOT: @__profd_third =
// CHECK-NOT: __llvm_prf_data
// CHECK:       {{^}}@__profd_first_NameRef = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_first_FuncHash = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_first_CounterPtr = dso_local constant i64 0, section ".rodata.profd", align 8,
// UNIFORM-NEXT: {{^}}@__profd_first_UniformCounterPtr = dso_local constant i64 0, section ".rodata.profd", align 8,
// BITMAP-NEXT: {{^}}@__profd_first_BitmapPtr = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_first_FunctionPointer = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_first_Values = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_first_NumCounters = dso_local constant i32 3, section ".rodata.profd", align 4,
// CHECK-NEXT:  {{^}}@__profd_first_NumValueSites = dso_local constant [{{[0-9]+}} x i16] zeroinitializer, section ".rodata.profd", align 2,
// UNIFORM-NEXT: {{^}}@__profd_first_OffloadDeviceWaveSize = dso_local constant i16 0, section ".rodata.profd", align 2,
// BITMAP-NEXT: {{^}}@__profd_first_NumBitmapBytes = dso_local constant i32 0, section ".rodata.profd", align 4,
// TAIL-NEXT:   {{^}}@__profd_first_TailPadding = dso_local constant [4 x i8] zeroinitializer, section ".rodata.profd", align 1,
// CHECK-NEXT:  {{^}}@__profd_second_NameRef = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_second_FuncHash = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_second_CounterPtr = dso_local constant i64 24, section ".rodata.profd", align 8,
// UNIFORM-NEXT: {{^}}@__profd_second_UniformCounterPtr = dso_local constant i64 0, section ".rodata.profd", align 8,
// BITMAP-NEXT: {{^}}@__profd_second_BitmapPtr = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_second_FunctionPointer = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_second_Values = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_second_NumCounters = dso_local constant i32 1, section ".rodata.profd", align 4,
// CHECK-NEXT:  {{^}}@__profd_second_NumValueSites = dso_local constant [{{[0-9]+}} x i16] zeroinitializer, section ".rodata.profd", align 2,
// UNIFORM-NEXT: {{^}}@__profd_second_OffloadDeviceWaveSize = dso_local constant i16 0, section ".rodata.profd", align 2,
// BITMAP-NEXT: {{^}}@__profd_second_NumBitmapBytes = dso_local constant i32 0, section ".rodata.profd", align 4,
// TAIL-NEXT:   {{^}}@__profd_second_TailPadding = dso_local constant [4 x i8] zeroinitializer, section ".rodata.profd", align 1,
// CHECK-NEXT:  {{^}}@__profd_third_NameRef = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_third_FuncHash = dso_local constant i64 {{-?[0-9]+}}, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_third_CounterPtr = dso_local constant i64 32, section ".rodata.profd", align 8,
// UNIFORM-NEXT: {{^}}@__profd_third_UniformCounterPtr = dso_local constant i64 0, section ".rodata.profd", align 8,
// BITMAP-NEXT: {{^}}@__profd_third_BitmapPtr = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_third_FunctionPointer = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_third_Values = dso_local constant i64 0, section ".rodata.profd", align 8,
// CHECK-NEXT:  {{^}}@__profd_third_NumCounters = dso_local constant i32 2, section ".rodata.profd", align 4,
// CHECK-NEXT:  {{^}}@__profd_third_NumValueSites = dso_local constant [{{[0-9]+}} x i16] zeroinitializer, section ".rodata.profd", align 2,
// UNIFORM-NEXT: {{^}}@__profd_third_OffloadDeviceWaveSize = dso_local constant i16 0, section ".rodata.profd", align 2,
// BITMAP-NEXT: {{^}}@__profd_third_NumBitmapBytes = dso_local constant i32 0, section ".rodata.profd", align 4,
// TAIL-NEXT:   {{^}}@__profd_third_TailPadding = dso_local constant [4 x i8] zeroinitializer, section ".rodata.profd", align 1,
// CHECK-NOT: @__profd_{{[a-z]+}} =
// CHECK-NOT: __llvm_prf_data

// The input's records (clang's), then the split fields (the pass's).
// COPY:      @__profd_first = private global {{.*}} { i64 [[FIRST_NAME:-?[0-9]+]], i64 [[FIRST_HASH:-?[0-9]+]], i64 sub
// COPY:      @__profd_second = private global {{.*}} { i64 [[SECOND_NAME:-?[0-9]+]], i64 [[SECOND_HASH:-?[0-9]+]], i64 sub
// COPY:      @__profd_third = private global {{.*}} { i64 [[THIRD_NAME:-?[0-9]+]], i64 [[THIRD_HASH:-?[0-9]+]], i64 sub
// COPY:      @__profd_first_NameRef = dso_local constant i64 [[FIRST_NAME]],
// COPY-NEXT: @__profd_first_FuncHash = dso_local constant i64 [[FIRST_HASH]],
// COPY:      @__profd_second_NameRef = dso_local constant i64 [[SECOND_NAME]],
// COPY-NEXT: @__profd_second_FuncHash = dso_local constant i64 [[SECOND_HASH]],
// COPY:      @__profd_third_NameRef = dso_local constant i64 [[THIRD_NAME]],
// COPY-NEXT: @__profd_third_FuncHash = dso_local constant i64 [[THIRD_HASH]],
