//===-- Plugin.cpp - Registration of the bpf-cov pass ---------------------===//
//
// FILE
//   Plugin.cpp
//
// DESCRIPTION
//   Registers the pass under the name bpf-cov with the new pass manager:
//     bpf-cov                        loadable mode
//     bpf-cov<loadable>              the same
//     bpf-cov<loadable;object=HEX>   also record the mapping object's path,
//                                    hex-encoded so any path fits
//     bpf-cov<mapping>               mapping mode
//   and, for clang -fpass-plugin, runs loadable mode last in the optimisation
//   pipeline of every BPF module that clang instrumented.
//
// USAGE
//   opt -load-pass-plugin=libBPFCov.so -passes='bpf-cov<mapping>' in.bc -o out.bc
//   clang -target bpf -O2 -g -fprofile-instr-generate -fcoverage-mapping
//         -fpass-plugin=libBPFCov.so -c prog.bpf.c -o prog.bpf.o
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"
#include "llvm/ProfileData/InstrProf.h"

#include <memory>
#include <optional>

using namespace llvm;

namespace {

constexpr StringLiteral PassName = "bpf-cov";

struct PassParams {
  bool Mapping = false;
  std::string ObjectPath;
};

/// Parses "bpf-cov", "bpf-cov<loadable>", "bpf-cov<mapping>" and
/// "bpf-cov<loadable;object=HEX>"; nothing for any other name or a bad
/// parameter.
std::optional<PassParams> parsePassName(StringRef Name) {
  if (!Name.consume_front(PassName))
    return std::nullopt;
  PassParams Params;
  if (Name.empty())
    return Params;
  if (!Name.consume_front("<") || !Name.consume_back(">") || Name.empty())
    return std::nullopt;
  SmallVector<StringRef, 2> Parts;
  Name.split(Parts, ';', -1, /*KeepEmpty=*/true);
  bool ModeSeen = false;
  for (StringRef Part : Parts) {
    if (Part == "loadable" || Part == "mapping") {
      if (ModeSeen)
        return std::nullopt; // one mode only
      ModeSeen = true;
      Params.Mapping = Part == "mapping";
    } else if (Part.consume_front("object=") && Part.size() % 2 == 0 &&
               tryGetFromHex(Part, Params.ObjectPath)) {
      continue;
    } else {
      return std::nullopt;
    }
  }
  if (Params.Mapping && !Params.ObjectPath.empty())
    return std::nullopt; // only the loadable object records a path
  return Params;
}

/// What clang -fpass-plugin runs last: loadable mode on BPF modules that
/// clang instrumented (LoadablePass leaves every other module alone). It
/// stands down when the pipeline names bpf-cov itself, so that
/// opt -passes='default<O2>,bpf-cov<mapping>' builds a mapping object.
struct AutoLoadablePass : PassInfoMixin<AutoLoadablePass> {
  explicit AutoLoadablePass(std::shared_ptr<const bool> Explicit)
      : Explicit(std::move(Explicit)) {}
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &AM) {
    if (*Explicit)
      return PreservedAnalyses::all();
    return bpfcov::LoadablePass().run(M, AM);
  }
  static bool isRequired() { return true; }

  std::shared_ptr<const bool> Explicit;
};

void registerCallbacks(PassBuilder &PB) {
  // Set while parsing the pipeline text, read when the pipeline runs.
  auto Explicit = std::make_shared<bool>(false);
  PB.registerPipelineParsingCallback(
      [Explicit](StringRef Name, ModulePassManager &MPM,
                 ArrayRef<PassBuilder::PipelineElement>) {
        std::optional<PassParams> Params = parsePassName(Name);
        if (!Params)
          return false;
        *Explicit = true;
        if (Params->Mapping)
          MPM.addPass(bpfcov::MappingPass());
        else
          MPM.addPass(bpfcov::LoadablePass(Params->ObjectPath));
        return true;
      });
  PB.registerOptimizerLastEPCallback(
      [Explicit](ModulePassManager &MPM, OptimizationLevel) {
        MPM.addPass(AutoLoadablePass(Explicit));
      });
}

} // namespace

// -----------------------------------------------------------------------------
// New PM Registration
// -----------------------------------------------------------------------------
// The plugin is built with hidden visibility; only its entry point is seen.
extern "C" __attribute__((visibility("default"))) LLVM_ATTRIBUTE_WEAK
    PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, PassName.data(), LLVM_VERSION_STRING,
          registerCallbacks};
}
