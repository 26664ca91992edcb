// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: FileCheck %s --check-prefix=GONE --input-file=%t.out.ll
// RUN: FileCheck %s --check-prefix=INC --input-file=%t.ll
// RUN: FileCheck %s --check-prefix=INC --input-file=%t.out.ll
//
// Loadable mode moves every __profc_ counter array out of __llvm_prf_cnts and
// its comdat into .data.profc, the section libbpf maps: an external (not
// private) global, 8-aligned, with a !dbg (so that it gets BTF), listed in the
// compile unit's globals. The counter increments in the functions are not
// touched: the same load / add 1 / store on the counters global as before the
// pass (INC is checked on the input and on the output).

int count_even(int x) {
  if (x % 2 == 0)
    return 1;
  return 0;
}

int clamp(int x) {
  if (x < 0)
    return 0;
  if (x > 100)
    return 100;
  return x;
}

// GONE-NOT: __llvm_prf_cnts
// GONE-NOT: comdat

// CHECK: {{^}}@__profc_count_even = dso_local global [2 x i64] zeroinitializer, section ".data.profc", align 8, !dbg ![[EVEN:[0-9]+]]{{$}}
// CHECK: {{^}}@__profc_clamp = dso_local global [3 x i64] zeroinitializer, section ".data.profc", align 8, !dbg ![[CLAMP:[0-9]+]]{{$}}

// CHECK-DAG: !llvm.dbg.cu = !{![[CU:[0-9]+]]}
// CHECK-DAG: ![[CU]] = distinct !DICompileUnit({{.*}}globals: ![[GLOBALS:[0-9]+]]
// CHECK-DAG: ![[GLOBALS]] = !{{[{].*}}![[EVEN]],{{.*}} ![[CLAMP]]{{[,}]}}
// CHECK-DAG: ![[EVEN]] = !DIGlobalVariableExpression(var: ![[EVEN_VAR:[0-9]+]], expr: !DIExpression())
// CHECK-DAG: ![[EVEN_VAR]] = distinct !DIGlobalVariable(name: "__profc_count_even", scope: ![[CU]], {{.*}}type: ![[EVEN_TY:[0-9]+]], isLocal: false, isDefinition: true)
// CHECK-DAG: ![[EVEN_TY]] = !DICompositeType(tag: DW_TAG_array_type, baseType: ![[U64:[0-9]+]], size: 128, align: 64, elements: !{{[0-9]+}})
// CHECK-DAG: ![[U64]] = !DIBasicType(name: "unsigned long long", size: 64, encoding: DW_ATE_unsigned)
// CHECK-DAG: ![[CLAMP]] = !DIGlobalVariableExpression(var: ![[CLAMP_VAR:[0-9]+]], expr: !DIExpression())
// CHECK-DAG: ![[CLAMP_VAR]] = distinct !DIGlobalVariable(name: "__profc_clamp", scope: ![[CU]], {{.*}}type: ![[CLAMP_TY:[0-9]+]], isLocal: false, isDefinition: true)
// CHECK-DAG: ![[CLAMP_TY]] = !DICompositeType(tag: DW_TAG_array_type, baseType: ![[U64]], size: 192, align: 64, elements: !{{[0-9]+}})

// INC-LABEL: define {{.*}}@count_even(
// INC:      [[E0:%[0-9]+]] = load i64, {{.*}}@__profc_count_even,
// INC-NEXT: [[E1:%[0-9]+]] = add i64 [[E0]], 1
// INC-NEXT: store i64 [[E1]], {{.*}}@__profc_count_even,
// INC:      [[E2:%[0-9]+]] = load i64, {{.*}}@__profc_count_even, i64 {{.*}}
// INC-NEXT: [[E3:%[0-9]+]] = add i64 [[E2]], 1
// INC-NEXT: store i64 [[E3]], {{.*}}@__profc_count_even, i64 {{.*}}
// INC-LABEL: define {{.*}}@clamp(
// INC:      [[C0:%[0-9]+]] = load i64, {{.*}}@__profc_clamp,
// INC-NEXT: [[C1:%[0-9]+]] = add i64 [[C0]], 1
// INC-NEXT: store i64 [[C1]], {{.*}}@__profc_clamp,
