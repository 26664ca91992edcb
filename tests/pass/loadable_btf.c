// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov %t.ll -o %t.bc
// RUN: %llc -march=bpf -filetype=obj %t.bc -o %t.o
// RUN: %readelf -p .BTF %t.o | FileCheck %s
// RUN: %if bpftool %{ %bpftool btf dump file %t.o | FileCheck %s --check-prefix=BTF %}
//
// Every global loadable mode places in a section has debug info, so the BPF
// back end describes it in BTF, one DATASEC per section with a VAR per global.
// libbpf gives a map a BTF id only when its section has a DATASEC, and
// bpftool's skeleton exposes the VARs by name. The string table of .BTF holds
// the section and variable names (an object built without the debug info of
// the pass would have none of them); with bpftool, BTF checks the DATASECs.

static int half(int x) { return x > 1 ? x >> 1 : 0; }
int prog(int x) { return half(x) + (x & 1 ? 1 : 0); }

// CHECK-DAG: ] .data.profc{{$}}
// CHECK-DAG: ] .rodata.profd{{$}}
// CHECK-DAG: ] .rodata.profn{{$}}
// CHECK-DAG: ] .rodata.covmap{{$}}
// CHECK-DAG: ] __profc_prog{{$}}
// CHECK-DAG: ] __profc_loadable_btf_c_half{{$}}
// CHECK-DAG: ] __profd_prog_NameRef{{$}}
// CHECK-DAG: ] __profd_loadable_btf_c_half_NumCounters{{$}}
// CHECK-DAG: ] __bpfcov_names{{$}}
// CHECK-DAG: ] __bpfcov_raw_version{{$}}
// CHECK-DAG: ] __bpfcov_llvm_major{{$}}
// CHECK-DAG: ] __bpfcov_covmap_size{{$}}
// CHECK-DAG: ] __bpfcov_covmap{{$}}
// CHECK-DAG: ] __bpfcov_object_path{{$}}
// CHECK-DAG: ] __bpfcov_object_id{{$}}
// CHECK-DAG: ] __bpfcov_trailer{{$}}

// BTF-DAG: VAR '__profc_prog' type_id={{[0-9]+}}, linkage=global
// BTF-DAG: DATASEC '.data.profc' size={{[0-9]+}} vlen=3
// BTF-DAG: DATASEC '.rodata.profn' size={{[0-9]+}} vlen=1
// BTF-DAG: DATASEC '.rodata.covmap' size={{[0-9]+}} vlen=6
// BTF-DAG: (VAR '__bpfcov_object_path')
// BTF-DAG: (VAR '__profc_loadable_btf_c_half')
// BTF-DAG: (VAR '__profd_prog_CounterPtr')
