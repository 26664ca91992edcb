// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes='bpf-cov<mapping>' -S %t.ll -o %t.map.ll
// RUN: cat %t.ll %t.map.ll | FileCheck %s
// RUN: FileCheck %s --check-prefix=NORUNTIME --input-file=%t.map.ll
// RUN: %llc -march=bpf -filetype=obj %t.map.ll -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=OBJ
// RUN: %readelf -s %t.o | FileCheck %s --check-prefix=NOUND
// RUN: %if !llvm-ge-17 %{ not --crash %llc -march=bpf -filetype=obj %t.ll -o %t.crash.o %}
//
// Mapping mode builds the twin object that llvm-cov reads: it keeps clang's
// coverage mapping exactly (__llvm_coverage_mapping in __llvm_covmap, the
// __covrec_ records in __llvm_covfun, the names in __llvm_prf_names, all still
// in llvm.used; the counters and records stay too) and only removes the
// profiling runtime: __llvm_profile_runtime and, on LLVM 14-16, the
// llvm.global_ctors entry with __llvm_profile_init and the register functions.
// The result compiles to a BPF object with those sections and no undefined
// symbol; on LLVM 14-16 the unmodified module crashes llc (the last RUN line
// shows the crash the pass avoids).

static int half(int x) { return x > 1 ? x >> 1 : 0; }
int prog(int x) { return half(x) + (x & 1 ? 1 : 0); }

// The input first, then the output: the mapping globals are unchanged.
// CHECK:     {{^}}@__covrec_[[REC1:[0-9A-F]+u?]] = [[REC1_DEF:linkonce_odr hidden constant .*, section "__llvm_covfun", comdat, align 8]]{{$}}
// CHECK:     {{^}}@__covrec_[[REC2:[0-9A-F]+u?]] = [[REC2_DEF:linkonce_odr hidden constant .*, section "__llvm_covfun", comdat, align 8]]{{$}}
// CHECK:     {{^}}@__llvm_coverage_mapping = [[COVMAP_DEF:private constant .*, section "__llvm_covmap", align 8]]{{$}}
// CHECK:     {{^}}@__llvm_prf_nm = [[NAMES_DEF:private constant .*, section "__llvm_prf_names", align 1]]{{$}}
// CHECK:     {{^}}@llvm.used = [[USED:.*]]{{$}}
// CHECK:     ; ModuleID
// CHECK:     {{^}}@__covrec_[[REC1]] = [[REC1_DEF]]{{$}}
// CHECK:     {{^}}@__covrec_[[REC2]] = [[REC2_DEF]]{{$}}
// CHECK:     {{^}}@__llvm_coverage_mapping = [[COVMAP_DEF]]{{$}}
// CHECK-DAG: {{^}}@__profc_prog = private global [{{[0-9]+}} x i64] zeroinitializer, section "__llvm_prf_cnts"
// CHECK-DAG: {{^}}@__profd_prog = private global {{.*}} section "__llvm_prf_data"
// CHECK:     {{^}}@__llvm_prf_nm = [[NAMES_DEF]]{{$}}
// CHECK:     {{^}}@llvm.used = [[USED]]{{$}}

// NORUNTIME-NOT: __llvm_profile_
// NORUNTIME-NOT: llvm.global_ctors

// OBJ-DAG: ] __llvm_covfun PROGBITS
// OBJ-DAG: ] __llvm_covmap PROGBITS
// OBJ-DAG: ] __llvm_prf_names PROGBITS
// NOUND-NOT: UND {{[_A-Za-z]}}
