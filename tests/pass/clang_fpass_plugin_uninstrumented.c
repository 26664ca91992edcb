// RUN: %clang -target bpf -O2 -g -S -emit-llvm %s -o %t.ref.ll
// RUN: %clang -target bpf -O2 -g -fpass-plugin=%plugin -S -emit-llvm %s -o %t.out.ll
// RUN: diff %t.ref.ll %t.out.ll
//
// clang -fpass-plugin on a BPF module built without -fprofile-instr-generate
// changes nothing: the IR is the same as without the plugin, so the plugin
// can be passed to every BPF compilation of a project.

int counter = 1;

int prog(int x) {
  counter += x > 0 ? x : -x;
  return counter;
}
