// RUN: rm -rf %t.d && mkdir -p %t.d && cp %s %t.d/first.c && cp %s %t.d/second.c
// RUN: %clang_bpf -fpass-plugin=%plugin -DNAME=first -c %t.d/first.c -o %t.first.o
// RUN: %clang_bpf -fpass-plugin=%plugin -DNAME=second -c %t.d/second.c -o %t.second.o
// RUN: %readelf -s %t.first.o | FileCheck %s --check-prefix=SYMS
// RUN: %if bpftool %{ %bpftool gen object %t.both.o %t.first.o %t.second.o %}
// RUN: %if bpftool %{ %readelf -S %t.first.o %t.both.o | FileCheck %s --check-prefix=LINKED %}
//
// Two instrumented objects link into one with bpftool gen object (libbpf's
// static linker): the globals every object has under the same name (the
// object info in .rodata.covmap and the name blob) are local symbols, so they
// do not clash (SYMS); counters and data-record fields are named after their
// function (a static one's after its source file too) and stay global. Linked, each of our sections holds both objects'
// parts: twice the counters, and the .rodata.covmap of each object, the
// second one 8-aligned (LINKED).

static __attribute__((noinline)) int helper(int x) { return x > 3 ? x : 3; }
int NAME(int x) { return helper(x) + 1; }

// SYMS-DAG: LOCAL DEFAULT {{[0-9]+}} __bpfcov_names
// SYMS-DAG: LOCAL DEFAULT {{[0-9]+}} __bpfcov_raw_version
// SYMS-DAG: LOCAL DEFAULT {{[0-9]+}} __bpfcov_covmap
// SYMS-DAG: LOCAL DEFAULT {{[0-9]+}} __bpfcov_object_path
// SYMS-DAG: GLOBAL DEFAULT {{[0-9]+}} __profc_first
// SYMS-DAG: GLOBAL DEFAULT {{[0-9]+}} __profc_{{.*}}first_c_helper
// SYMS-DAG: GLOBAL DEFAULT {{[0-9]+}} __profd_first_NameRef

// LINKED: File: {{.*}}first.o
// LINKED: ] .data.profc PROGBITS {{[0-9a-f]+ [0-9a-f]+}} [[#%x,PROFC:]]
// LINKED: ] .rodata.covmap PROGBITS {{[0-9a-f]+ [0-9a-f]+}} [[#%x,COVMAP:]]
// LINKED: File: {{.*}}both.o
// LINKED: ] .data.profc PROGBITS {{[0-9a-f]+ [0-9a-f]+}} [[#%.6x,PROFC+PROFC]]
// LINKED: ] .rodata.covmap PROGBITS {{[0-9a-f]+ [0-9a-f]+}} [[#%.6x,mul(div(COVMAP+7,8),8)+COVMAP]]
