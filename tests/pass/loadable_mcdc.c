// REQUIRES: llvm-ge-18
// RUN: %clang_bpf -fcoverage-mcdc -S -emit-llvm %s -o %t.ll
// RUN: FileCheck %s --check-prefix=INPUT -DMANY=%if llvm-ge-19 %{2%} %else %{4%} --input-file=%t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s -DMANY=%if llvm-ge-19 %{2%} %else %{4%} --input-file=%t.out.ll
// RUN: FileCheck %s --check-prefix=GONE --input-file=%t.out.ll
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=OBJ
//
// With -fcoverage-mcdc (clang >= 18) every function gets an MC/DC bitmap
// __profbm_<fn> in __llvm_prf_bits, [0 x i8] for functions without a
// decision. Loadable mode moves the non-empty bitmaps into .data.profbm in
// record order, each padded to whole 64-bit words and 8-aligned (external,
// with debug info), removes the empty ones, and writes each record's BitmapPtr
// as the byte offset of the function's bitmap in .data.profbm (for a function
// without a bitmap: the offset where it would start; it has NumBitmapBytes 0,
// and the others their unpadded size). The plain bitmap updates in the code
// (load / or / store of an i8, at a computed byte for the bitmap of several
// bytes) still go to the same globals. After the bitmaps comes the bitmaps
// trailer, local to the object: the object id and the bitmaps' size (24),
// then its own size (32) and the magic "BPFCOVB1", so that the map alone
// says whose bitmaps it holds.
//
// Bitmap sizes here: no_decision 0, two_conds 1, many_conds MANY (2 from
// clang 19, one bit per test vector; 4 with clang 18), also_none 0, last 1
// byte, so the offsets are 0, 0, 8, 16, 16 and .data.profbm is 24 bytes of
// bitmaps and 32 of trailer.

int no_decision(int a) { return a + 1; }

int two_conds(int a, int b) {
  if (a > 0 && b > 0)
    return 1;
  return 0;
}

int many_conds(int a, int b, int c, int d, int e) {
  if ((a > 0 || b > 0) && (c > 0 || d > 0) && e > 0)
    return 1;
  return 0;
}

int also_none(int a) { return a * 3; }

int last(int a, int b) { return (a > 0 || b > 0) ? 5 : 6; }

// INPUT-DAG: @__profbm_no_decision = private global [0 x i8] zeroinitializer, section "__llvm_prf_bits"
// INPUT-DAG: @__profbm_two_conds = private global [1 x i8] zeroinitializer, section "__llvm_prf_bits"
// INPUT-DAG: @__profbm_many_conds = private global [[[MANY]] x i8] zeroinitializer, section "__llvm_prf_bits"
// INPUT-DAG: @__profbm_also_none = private global [0 x i8] zeroinitializer, section "__llvm_prf_bits"
// INPUT-DAG: @__profbm_last = private global [1 x i8] zeroinitializer, section "__llvm_prf_bits"

// GONE-NOT: __llvm_prf_bits
// GONE-NOT: @__profbm_no_decision
// GONE-NOT: @__profbm_also_none

// CHECK:      {{^}}@__profbm_two_conds = dso_local global [8 x i8] zeroinitializer, section ".data.profbm", align 8, !dbg
// CHECK-NEXT: {{^}}@__profbm_many_conds = dso_local global [8 x i8] zeroinitializer, section ".data.profbm", align 8, !dbg
// CHECK-NEXT: {{^}}@__profbm_last = dso_local global [8 x i8] zeroinitializer, section ".data.profbm", align 8, !dbg

// CHECK:      {{^}}@__bpfcov_bitmap_trailer = internal global { [2 x i64], i64, i64 } { [2 x i64] [i64 {{-?[0-9]+}}, i64 24], i64 32, i64 3549494354752458818 }, section ".data.profbm", align 8, !dbg

// CHECK:      {{^}}@__profd_no_decision_BitmapPtr = dso_local constant i64 0,
// CHECK:      {{^}}@__profd_no_decision_NumBitmapBytes = dso_local constant i32 0,
// CHECK:      {{^}}@__profd_two_conds_BitmapPtr = dso_local constant i64 0,
// CHECK:      {{^}}@__profd_two_conds_NumBitmapBytes = dso_local constant i32 1,
// CHECK:      {{^}}@__profd_many_conds_BitmapPtr = dso_local constant i64 8,
// CHECK:      {{^}}@__profd_many_conds_NumBitmapBytes = dso_local constant i32 [[MANY]],
// CHECK:      {{^}}@__profd_also_none_BitmapPtr = dso_local constant i64 16,
// CHECK:      {{^}}@__profd_also_none_NumBitmapBytes = dso_local constant i32 0,
// CHECK:      {{^}}@__profd_last_BitmapPtr = dso_local constant i64 16,
// CHECK:      {{^}}@__profd_last_NumBitmapBytes = dso_local constant i32 1,

// The byte: a GEP (inbounds nuw from clang 21) or clang 18's integer add.
// CHECK-LABEL: define {{.*}}@many_conds(
// CHECK:       {{getelementptr inbounds( nuw)? i8, ptr @__profbm_many_conds|ptrtoint \(ptr @__profbm_many_conds to i64\)}}
// CHECK:       [[OLD:%[0-9]+]] = load i8, ptr [[BYTE:%[0-9]+]], align 1
// CHECK-NEXT:  [[NEW:%[0-9]+]] = or i8 [[OLD]],
// CHECK-NEXT:  store i8 [[NEW]], ptr [[BYTE]], align 1
// CHECK-LABEL: define {{.*}}@last(
// CHECK:       [[OLD:%[0-9]+]] = load i8, ptr @__profbm_last, align 1
// CHECK-NEXT:  [[NEW:%[0-9]+]] = or i8 [[OLD]],
// CHECK-NEXT:  store i8 [[NEW]], ptr @__profbm_last, align 1

// CHECK-DAG: !DIGlobalVariable(name: "__profbm_two_conds",
// CHECK-DAG: !DIGlobalVariable(name: "__profbm_many_conds",
// CHECK-DAG: !DIGlobalVariable(name: "__profbm_last",

// OBJ:      [{{ *}}[[SEC:[0-9]+]]] .data.profbm PROGBITS {{[0-9a-f]+}} {{[0-9a-f]+}} 000038 00 WA 0 0 8
// OBJ-NOT:  ] .data.profbm
// OBJ-DAG:  0000000000000000 8 OBJECT GLOBAL DEFAULT [[SEC]] __profbm_two_conds
// OBJ-DAG:  0000000000000008 8 OBJECT GLOBAL DEFAULT [[SEC]] __profbm_many_conds
// OBJ-DAG:  0000000000000010 8 OBJECT GLOBAL DEFAULT [[SEC]] __profbm_last
// OBJ-DAG:  0000000000000018 32 OBJECT LOCAL DEFAULT [[SEC]] __bpfcov_bitmap_trailer
