//===-- Compat.h - LLVM version differences, in one place ------*- C++ -*-===//
//
// The pass builds against every LLVM major from 14 on. Everything that
// differs between those majors is wrapped here, so that the pass itself
// reads the same on every version. Add a case here, never an #if elsewhere.
//
//===----------------------------------------------------------------------===//
#ifndef BPFCOV_COMPAT_H
#define BPFCOV_COMPAT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/BasicBlock.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/Instruction.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#if LLVM_VERSION_MAJOR >= 17
#include "llvm/TargetParser/Triple.h"
#else
#include "llvm/ADT/Triple.h"
#endif
// The pass-plugin interface (llvmGetPassPluginInfo) moved from llvm/Passes/
// to llvm/Plugins/ in LLVM 22.
#if LLVM_VERSION_MAJOR >= 22
#include "llvm/Plugins/PassPlugin.h"
#else
#include "llvm/Passes/PassPlugin.h"
#endif

#include <optional>
#include <string>

namespace bpfcov::compat {

/// StringRef::startswith was renamed starts_with (LLVM 16) and the old
/// spelling was removed (LLVM 19).
inline bool startsWith(llvm::StringRef S, llvm::StringRef Prefix) {
  return S.substr(0, Prefix.size()) == Prefix;
}

/// Inserts I just before Pos. LLVM 16 added insertInto; LLVM 21 deprecated
/// insertBefore(Instruction *).
inline void insertBefore(llvm::Instruction *I, llvm::Instruction *Pos) {
#if LLVM_VERSION_MAJOR >= 16
  I->insertInto(Pos->getParent(), Pos->getIterator());
#else
  I->insertBefore(Pos);
#endif
}

/// The ELF name of an instrumentation section, or nothing where this LLVM
/// has no such section. MC/DC bitmaps (IPSK_bitmap) exist from LLVM 18.
inline std::string counterSectionName() {
  return llvm::getInstrProfSectionName(llvm::IPSK_cnts, llvm::Triple::ELF,
                                       /*AddSegmentInfo=*/false);
}
inline std::string dataSectionName() {
  return llvm::getInstrProfSectionName(llvm::IPSK_data, llvm::Triple::ELF,
                                       /*AddSegmentInfo=*/false);
}
inline std::string coverageRecordSectionName() {
  return llvm::getInstrProfSectionName(llvm::IPSK_covfun, llvm::Triple::ELF,
                                       /*AddSegmentInfo=*/false);
}
inline std::optional<std::string> bitmapSectionName() {
#if LLVM_VERSION_MAJOR >= 18
  return llvm::getInstrProfSectionName(llvm::IPSK_bitmap, llvm::Triple::ELF,
                                       /*AddSegmentInfo=*/false);
#else
  return std::nullopt;
#endif
}

/// M's target triple as text. Module::getTargetTriple returns the text up to
/// LLVM 20 and a Triple from LLVM 21; a Triple is made from either.
inline std::string tripleName(const llvm::Module &M) {
  return llvm::Triple(M.getTargetTriple()).str();
}

/// Whether M is compiled for BPF (either endianness).
inline bool isBPFModule(const llvm::Module &M) {
  llvm::Triple::ArchType Arch = llvm::Triple(M.getTargetTriple()).getArch();
  return Arch == llvm::Triple::bpfel || Arch == llvm::Triple::bpfeb;
}

/// The code generator registered for M's target triple, or null with Error
/// saying why. TargetRegistry::lookupTarget takes the triple as a Triple
/// from LLVM 21; LLVM 23 removed the overload that takes its text.
inline const llvm::Target *lookupTarget(const llvm::Module &M,
                                        std::string &Error) {
#if LLVM_VERSION_MAJOR >= 21
  return llvm::TargetRegistry::lookupTarget(llvm::Triple(M.getTargetTriple()),
                                            Error);
#else
  return llvm::TargetRegistry::lookupTarget(tripleName(M), Error);
#endif
}

/// A target machine of T for M's triple, generic CPU, default options (null
/// if T cannot make one). Target::createTargetMachine takes a Triple from
/// LLVM 21, which deprecated the text overload; LLVM 22 removed it.
inline llvm::TargetMachine *createTargetMachine(const llvm::Target &T,
                                                const llvm::Module &M) {
#if LLVM_VERSION_MAJOR >= 21
  return T.createTargetMachine(llvm::Triple(M.getTargetTriple()), "generic",
                               "", llvm::TargetOptions(), std::nullopt);
#else
  return T.createTargetMachine(tripleName(M), "generic", "",
                               llvm::TargetOptions(), {});
#endif
}

/// Moves GV to the end of M's global list, which is the order in which the
/// back end lays globals out within a section. The global list became
/// private in LLVM 17, which added insertGlobalVariable.
inline void moveToEnd(llvm::Module &M, llvm::GlobalVariable *GV) {
  GV->removeFromParent();
#if LLVM_VERSION_MAJOR >= 17
  M.insertGlobalVariable(GV);
#else
  M.getGlobalList().push_back(GV);
#endif
}

/// Has AddPasses(MPM) add passes at the end of every optimisation pipeline PB
/// builds. LLVM 20 gave the OptimizerLast callback a ThinOrFullLTOPhase
/// parameter; the trailing pack accepts the callback type of every version.
template <typename AddPassesFn>
void atOptimizerLast(llvm::PassBuilder &PB, AddPassesFn AddPasses) {
  PB.registerOptimizerLastEPCallback(
      [AddPasses](llvm::ModulePassManager &MPM, llvm::OptimizationLevel,
                  auto...) { AddPasses(MPM); });
}

/// Has AddPasses(MPM) add passes where every optimisation pipeline PB builds
/// starts simplifying (after clang lowers the counters). LLVM 20 gave this
/// callback a ThinOrFullLTOPhase parameter, as it did OptimizerLast's.
template <typename AddPassesFn>
void atEarlySimplification(llvm::PassBuilder &PB, AddPassesFn AddPasses) {
  PB.registerPipelineEarlySimplificationEPCallback(
      [AddPasses](llvm::ModulePassManager &MPM, llvm::OptimizationLevel,
                  auto...) { AddPasses(MPM); });
}

/// What TargetMachine::addPassesToEmitFile writes: an object file. The
/// unscoped CGFT_ObjectFile became CodeGenFileType::ObjectFile in LLVM 18.
#if LLVM_VERSION_MAJOR >= 18
inline constexpr llvm::CodeGenFileType ObjectFileType =
    llvm::CodeGenFileType::ObjectFile;
#else
inline constexpr llvm::CodeGenFileType ObjectFileType = llvm::CGFT_ObjectFile;
#endif

} // namespace bpfcov::compat

#endif // BPFCOV_COMPAT_H
