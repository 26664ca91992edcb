//===-- MappingMode.cpp - The object llvm-cov reads -----------------------===//
//
// FILE
//   MappingMode.cpp
//
// DESCRIPTION
//   Mapping mode keeps clang's coverage mapping exactly as clang wrote it:
//   __llvm_covmap, __llvm_covfun, __llvm_prf_names (and the counters and
//   data records, which llvm-cov ignores). It only removes the profiling
//   runtime's hooks (see StripRuntime.cpp), which LLVM 14-16 cannot compile
//   for BPF. The result is never loaded; llvm-cov reads it as the binary
//   whose coverage a profile describes.
//
// USAGE
//   opt -load-pass-plugin=libBPFCov.so -passes='bpf-cov<mapping>' in.bc -o out.bc
//   llc -march=bpf -filetype=obj out.bc -o prog.bpf.obj
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"

using namespace llvm;

namespace bpfcov {

PreservedAnalyses MappingPass::run(Module &M, ModuleAnalysisManager &) {
  return stripProfileRuntime(M) ? PreservedAnalyses::none()
                                : PreservedAnalyses::all();
}

} // namespace bpfcov
