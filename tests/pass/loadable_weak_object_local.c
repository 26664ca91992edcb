// RUN: rm -rf %t.d && mkdir -p %t.d && cp %s %t.d/first.c && cp %s %t.d/second.c
// RUN: %clang_bpf -fpass-plugin=%plugin -DNAME=first -c %t.d/first.c -o %t.first.o
// RUN: %clang_bpf -fpass-plugin=%plugin -DNAME=second -c %t.d/second.c -o %t.second.o
// RUN: %readelf -s %t.first.o | FileCheck %s --check-prefix=SYMS
// RUN: %readelf -s %t.first.o | grep '__prof._pick' | FileCheck %s --check-prefix=WEAKSYMS
// RUN: %if bpftool %{ %bpftool gen object %t.both.o %t.first.o %t.second.o %}
// RUN: %clang_bpf -DNAME=first -S -emit-llvm %t.d/first.c -o %t.ll
// RUN: %opt -passes='bpf-cov<mapping>' -S %t.ll -o %t.map.ll
// RUN: cat %t.ll %t.map.ll | FileCheck %s --check-prefix=HASH
//
// A weak function may be defined in several objects, and the linker keeps one
// definition. Its counters and data-record fields are local symbols (SYMS), so
// the objects link (bpftool gen object): each definition counts in its own
// object's counters. Its FuncHash, in the data record and in the coverage
// record alike, is clang's mixed with the source file's name (HASH, the two
// agree, and differ from clang's), so the definition the linker drops is
// another function to llvm-cov, never run, rather than one sharing the kept
// definition's counts. A function that is one in a program keeps clang's
// hash and global symbols (first, second).

__attribute__((weak)) int pick(int x) { return x > 3 ? 1 : 0; }
int NAME(int x) { return pick(x) + 1; }

// SYMS-DAG: LOCAL DEFAULT {{[0-9]+}} __profc_pick
// SYMS-DAG: LOCAL DEFAULT {{[0-9]+}} __profd_pick_NameRef
// SYMS-DAG: LOCAL DEFAULT {{[0-9]+}} __profd_pick_FuncHash
// SYMS-DAG: GLOBAL DEFAULT {{[0-9]+}} __profc_first
// SYMS-DAG: GLOBAL DEFAULT {{[0-9]+}} __profd_first_FuncHash
// SYMS-DAG: WEAK DEFAULT {{[0-9]+}} pick
// Every symbol of pick's counters and record is local, the record's tail
// padding too (LLVM 18's record has 4 bytes of it).
// WEAKSYMS-NOT: GLOBAL
// WEAKSYMS: LOCAL {{.*}} __prof
// WEAKSYMS-NOT: GLOBAL

// clang's hashes (first file), then the mapping mode's (second file): pick's
// coverage record and data record agree on a new hash; first keeps clang's.
// HASH: @__profd_pick = {{.*}} { i64 [[PICK:-?[0-9]+]], i64 [[ORIG:-?[0-9]+]],
// HASH: @__profd_first = {{.*}} { i64 [[FIRST:-?[0-9]+]], i64 [[CLANG:-?[0-9]+]],
// HASH: source_filename
// HASH-NOT: i64 [[ORIG]]
// HASH-DAG: @__covrec_{{[0-9A-F]+}}u = {{.*}}<{ i64 [[PICK]], i32 {{[0-9]+}}, i64 [[MIXED:-?[0-9]+]], i64
// HASH-DAG: @__covrec_{{[0-9A-F]+}}u = {{.*}}<{ i64 [[FIRST]], i32 {{[0-9]+}}, i64 [[CLANG]], i64
// HASH-NOT: i64 [[ORIG]]
// HASH: @__profd_pick = {{.*}} { i64 [[PICK]], i64 [[MIXED]],
// HASH: @__profd_first = {{.*}} { i64 [[FIRST]], i64 [[CLANG]],
