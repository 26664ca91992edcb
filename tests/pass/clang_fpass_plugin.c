// RUN: %clang_bpf -fpass-plugin=%plugin -c %s -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=CLEAN
// RUN: %clang_bpf -O0 -fpass-plugin=%plugin -c %s -o %t.O0.o
// RUN: %readelf -S -s %t.O0.o | FileCheck %s
// RUN: %readelf -S -s %t.O0.o | FileCheck %s --check-prefix=CLEAN
// RUN: %if llvm-ge-17 %{ %clang_bpf -c %s -o %t.raw.o && %readelf -S %t.raw.o | FileCheck %s --check-prefix=RAW %}
// RUN: %if !llvm-ge-17 %{ not %clang_bpf -fno-crash-diagnostics -c %s -o %t.crash.o %}
//
// clang -fpass-plugin=libBPFCov.so runs loadable mode at the end of the
// optimisation pipeline (OptimizerLast), after clang has lowered its counters
// into __profc_ / __profd_ globals. So clang alone builds the loadable object:
// counters in .data.profc, records in .rodata.profd, names in .rodata.profn,
// .rodata.covmap, and no __llvm_* section and no undefined symbol. This holds
// at -O2 and at -O0 (clang's O0 pipeline also runs the OptimizerLast
// callbacks, after its counter lowering), on LLVM 14 and 19 alike.
//
// Without the plugin, clang-19 builds an object with clang's own sections
// (RAW), while clang-14/15/16 crash in the BPF back end on the runtime
// constructor (the last RUN line), which the pass removes.

static int half(int x) { return x > 1 ? x >> 1 : 0; }
int prog(int x) { return half(x) + (x & 1 ? 1 : 0); }

// CHECK-DAG: [{{ *}}[[PROFC:[0-9]+]]] .data.profc PROGBITS {{[0-9a-f]+ [0-9a-f]+ [0-9a-f]+}} 00 WA
// CHECK-DAG: ] .rodata.profd PROGBITS
// CHECK-DAG: ] .rodata.profn PROGBITS
// CHECK-DAG: ] .rodata.covmap PROGBITS
// CHECK-DAG: 0000000000000000 16 OBJECT GLOBAL DEFAULT [[PROFC]] __profc_prog
// CHECK-DAG: 0000000000000010 16 OBJECT GLOBAL DEFAULT [[PROFC]] __profc_clang_fpass_plugin_c_half
// CLEAN-NOT: ] __llvm_
// CLEAN-NOT: UND {{[_A-Za-z]}}

// RAW: ] __llvm_prf_cnts PROGBITS
