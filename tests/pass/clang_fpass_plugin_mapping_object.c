// RUN: rm -rf %t.d && mkdir -p %t.d/sub
// RUN: env BPFCOV_MAPPING_OBJECT=%t.d/prog.bpf.obj %clang_bpf -fpass-plugin=%plugin -c %s -o %t.d/prog.bpf.o
// RUN: %readelf -S %t.d/prog.bpf.obj | FileCheck %s --check-prefix=MAPPING
// RUN: %readelf -p .rodata.covmap %t.d/prog.bpf.o | FileCheck %s --check-prefix=PATH -DOBJ=%t.d/prog.bpf.obj
// RUN: ls %t.d | FileCheck %s --check-prefix=FILES
//
// RUN: cd %t.d/sub && env BPFCOV_MAPPING_OBJECT=../sub/./rel.obj %clang_bpf -fpass-plugin=%plugin -c %s -o rel.o
// RUN: %readelf -p .rodata.covmap %t.d/sub/rel.o | FileCheck %s --check-prefix=PATH -DOBJ=%t.d/sub/rel.obj
//
// RUN: env BPFCOV_MAPPING_OBJECT=%t.d/none.obj %clang -target bpf -O2 -fpass-plugin=%plugin -c %s -o %t.d/none.o
// RUN: not ls %t.d/none.obj
//
// RUN: %clang_bpf -S -emit-llvm %s -o %t.d/prog.ll
// RUN: env BPFCOV_MAPPING_OBJECT=%t.d/opt.obj %opt -passes='default<O2>' %t.d/prog.ll -o %t.d/opt.bc
// RUN: %readelf -S %t.d/opt.obj | FileCheck %s --check-prefix=MAPPING
//
// RUN: env BPFCOV_MAPPING_OBJECT=%t.d/missing/x.obj not %clang_bpf -fpass-plugin=%plugin -c %s -o %t.d/x.o 2>&1 | FileCheck %s --check-prefix=ERR -DOBJ=%t.d/missing/x.obj
// RUN: not ls %t.d/x.o
//
// With BPFCOV_MAPPING_OBJECT=path in its environment, the run of loadable
// mode that clang -fpass-plugin makes last in its pipeline first writes the
// mapping object to that path (made absolute), from a copy of the module's
// globals compiled in the same process; then the loadable object records that
// absolute path. So one clang process builds both objects (this is how
// bpfcov-cc compiles). The mapping object keeps clang's coverage sections and
// .bpfcov.info, no code and no debug info (MAPPING); no temporary file is
// left beside it (FILES). A module clang did not instrument gets no mapping
// object. opt's default pipelines do the same. A path that cannot be written
// is a compile error naming it, and no object is left.

static int half(int x) { return x > 1 ? x >> 1 : 0; }
int prog(int x) { return half(x) + (x & 1 ? 1 : 0); }

// MAPPING-DAG: ] __llvm_covfun PROGBITS
// MAPPING-DAG: ] __llvm_covmap PROGBITS
// MAPPING-DAG: ] __llvm_prf_names PROGBITS
// MAPPING-DAG: ] .bpfcov.info PROGBITS
// MAPPING-NOT: ] .text PROGBITS {{[0-9a-f]+ [0-9a-f]+}} {{0*[1-9a-f][0-9a-f]*}}
// MAPPING-NOT: ] .debug_info
// MAPPING-NOT: ] .BTF

// PATH: [[OBJ]]{{$}}

// FILES-NOT: tmp
// FILES: prog.bpf.o
// FILES-NEXT: prog.bpf.obj
// FILES-NOT: tmp

// ERR: error: bpfcov: cannot write [[OBJ]]: No such file or directory
