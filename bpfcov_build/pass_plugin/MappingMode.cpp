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
//   for BPF, and records in section .bpfcov.info which LLVM built it (the
//   raw profile version, the LLVM major and the object id, laid out like the
//   head of the loadable object's .rodata.covmap). The result is never loaded; llvm-cov
//   reads it as the binary whose coverage a profile describes.
//
// USAGE
//   opt -load-pass-plugin=libBPFCov.so -passes='bpf-cov<mapping>' in.bc -o out.bc
//   llc -march=bpf -filetype=obj out.bc -o prog.bpf.obj
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Layout.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/ProfileData/InstrProf.h"

using namespace llvm;

namespace bpfcov {

namespace {

/// { u64 raw version, u32 LLVM major, u32 covmap size = 0, u64 object id, "" }.
void emitMappingInfo(Module &M, uint64_t Id) {
  LLVMContext &Ctx = M.getContext();
  Constant *Info = ConstantStruct::getAnon(
      {ConstantInt::get(Type::getInt64Ty(Ctx), INSTR_PROF_RAW_VERSION),
       ConstantInt::get(Type::getInt32Ty(Ctx), LLVM_VERSION_MAJOR),
       ConstantInt::get(Type::getInt32Ty(Ctx), 0),
       ConstantInt::get(Type::getInt64Ty(Ctx), Id),
       ConstantDataArray::getString(Ctx, "", /*AddNull=*/true)});
  auto *GV = new GlobalVariable(M, Info->getType(), /*isConstant=*/true,
                                GlobalValue::ExternalLinkage, Info,
                                layout::MappingInfoVar);
  GV->setSection(layout::MappingInfoSection);
  GV->setAlignment(Align(8));
}

/// llvm-cov reads only the coverage sections and the names; the code itself
/// is never run from this object. Leaving every function a declaration makes
/// its code generation nearly free (it was half of bpfcov-cc's time).
void dropFunctionBodies(Module &M) {
  for (Function &F : M.functions()) {
    if (F.isDeclaration())
      continue;
    F.deleteBody();
    F.setComdat(nullptr);
    F.setLinkage(GlobalValue::ExternalLinkage);
  }
}

} // namespace

bool makeMappingModule(Module &M) {
  uint64_t Id = objectId(M);
  if (!stripProfileRuntime(M))
    return false;
  dropFunctionBodies(M);
  emitMappingInfo(M, Id);
  return true;
}

PreservedAnalyses MappingPass::run(Module &M, ModuleAnalysisManager &) {
  prepareModule(M);
  return makeMappingModule(M) ? PreservedAnalyses::none()
                              : PreservedAnalyses::all();
}

} // namespace bpfcov
