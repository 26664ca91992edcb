// RUN: %clang -target bpf -O2 -g -gno-record-gcc-switches -S -emit-llvm %s -o %t.ref.ll
// RUN: %clang -target bpf -O2 -g -gno-record-gcc-switches -fpass-plugin=%plugin -S -emit-llvm %s -o %t.out.ll
// RUN: diff %t.ref.ll %t.out.ll
//
// clang -fpass-plugin on a BPF module built without -fprofile-instr-generate
// changes nothing: the IR is the same as without the plugin, so the plugin
// can be passed to every BPF compilation of a project. (Debian's clang 18
// records its command line in the debug info unless told not to.)

int counter = 1;

int prog(int x) {
  counter += x > 0 ? x : -x;
  return counter;
}
