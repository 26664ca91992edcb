// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov -S %t.ll -o %t.out.ll
// RUN: FileCheck %s --input-file=%t.out.ll
// RUN: grep '^@llvm.compiler.used' %t.out.ll | FileCheck %s --check-prefix=NOPROF
// RUN: %llc -march=bpf -filetype=obj %t.out.ll -o %t.o
// RUN: %readelf -S %t.o | FileCheck %s --check-prefix=PROFC
// RUN: %readelf -S %t.o | FileCheck %s --check-prefix=PROFD
// RUN: %readelf -S %t.o | FileCheck %s --check-prefix=PROFN
// RUN: %readelf -S %t.o | FileCheck %s --check-prefix=COVMAP
//
// None of the globals loadable mode moves or creates stays in llvm.used
// (clang puts __llvm_prf_nm and the coverage mapping there): a section that
// mixes retained (SHF_GNU_RETAIN) and plain globals is written as two sections
// of the same name, which libbpf would turn into two maps of one name; so each
// of our sections must appear exactly once in the object, with flags WA
// (.data.*) or A (.rodata.*), never R. Nor do the counters and data records
// stay in llvm.compiler.used (clang puts the __profd_ records there; NOPROF).
// The object-local globals (object info and names, local so that objects link
// together) are in llvm.compiler.used, which keeps them from being dropped as
// unreferenced and sets no flag. The program's own entries (license, map,
// program) stay in llvm.compiler.used.

#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

struct {
  int (*type)[BPF_MAP_TYPE_ARRAY];
  int (*max_entries)[1];
} counts SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __attribute__((noinline)) int classify(int len) {
  if (len > 100)
    return 2;
  return len % 2 ? 1 : 0;
}

SEC("xdp")
int xdp_prog(struct xdp_md *ctx) {
  int len = ctx->data_end - ctx->data;
  return classify(len) ? XDP_PASS : XDP_DROP;
}

// CHECK-NOT: @llvm.used = {{.*}}@__
// CHECK: @llvm.compiler.used = appending global [11 x {{.*}}] [{{.*}}@LICENSE{{.*}}, {{.*}}@counts{{.*}}, {{.*}}@xdp_prog{{.*}}, {{.*}}@__bpfcov_trailer{{.*}}, {{.*}}@__bpfcov_names{{.*}}, {{.*}}@__bpfcov_raw_version{{.*}}, {{.*}}@__bpfcov_llvm_major{{.*}}, {{.*}}@__bpfcov_covmap_size{{.*}}, {{.*}}@__bpfcov_object_id{{.*}}, {{.*}}@__bpfcov_covmap{{.*}}, {{.*}}@__bpfcov_object_path{{.*}}], section "llvm.metadata"
// CHECK-NOT: @llvm.used = {{.*}}@__

// NOPROF-NOT: @__prof
// NOPROF: @llvm.compiler.used
// NOPROF-NOT: @__prof

// PROFC:      ] .data.profc PROGBITS {{[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ [0-9a-f]+}} WA {{[0-9]+ [0-9]+ [0-9]+$}}
// PROFC-NOT:  ] .data.profc

// PROFD:      ] .rodata.profd PROGBITS {{[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ [0-9a-f]+}} A {{[0-9]+ [0-9]+ [0-9]+$}}
// PROFD-NOT:  ] .rodata.profd

// PROFN:      ] .rodata.profn PROGBITS {{[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ [0-9a-f]+}} A {{[0-9]+ [0-9]+ [0-9]+$}}
// PROFN-NOT:  ] .rodata.profn

// COVMAP:     ] .rodata.covmap PROGBITS {{[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ [0-9a-f]+}} A {{[0-9]+ [0-9]+ [0-9]+$}}
// COVMAP-NOT: ] .rodata.covmap
