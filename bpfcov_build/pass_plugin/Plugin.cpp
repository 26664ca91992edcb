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
//     bpf-cov-unsink                 (a function pass) only the step of
//                                    loadable mode in UnsinkCounters.cpp
//   and, for clang -fpass-plugin, runs loadable mode last in the optimisation
//   pipeline of every BPF module that clang instrumented. When the
//   environment names a mapping object (BPFCOV_MAPPING_OBJECT=path), that
//   run first writes the mapping object there (MappingObject.cpp) and
//   records its absolute path in the loadable object: one clang process
//   builds both objects. This is how bpfcov-cc compiles.
//
// USAGE
//   opt -load-pass-plugin=libBPFCov.so -passes='bpf-cov<mapping>' in.bc -o out.bc
//   BPFCOV_MAPPING_OBJECT=prog.bpf.obj
//   clang -target bpf -O2 -g -fprofile-instr-generate -fcoverage-mapping
//         -fpass-plugin=libBPFCov.so -c prog.bpf.c -o prog.bpf.o
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h" // and the pass-plugin interface, wherever this LLVM has it
#include "Layout.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>
#include <memory>
#include <optional>

using namespace llvm;

namespace {

constexpr StringLiteral PassName = "bpf-cov";
/// Where clang -fpass-plugin writes the mapping object (unset: nowhere). One
/// compile at a time: every cc1 process of one clang command sees it.
constexpr StringLiteral MappingObjectEnv = bpfcov::layout::MappingObjectEnv;

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

/// The absolute form of the mapping object path the environment names, or
/// nothing.
std::optional<std::string> mappingObjectFromEnvironment() {
  const char *Value = std::getenv(MappingObjectEnv.data());
  if (!Value || !*Value)
    return std::nullopt;
  SmallString<256> Path(Value);
  sys::fs::make_absolute(Path);
  sys::path::remove_dots(Path, /*remove_dot_dot=*/true);
  return std::string(Path);
}

/// What clang -fpass-plugin runs last: loadable mode on BPF modules that
/// clang instrumented (LoadablePass leaves every other module alone), after
/// writing the mapping object if the environment asks for one. It stands
/// down when the pipeline names bpf-cov itself, so that
/// opt -passes='default<O2>,bpf-cov<mapping>' builds a mapping object.
struct AutoLoadablePass : PassInfoMixin<AutoLoadablePass> {
  explicit AutoLoadablePass(std::shared_ptr<const bool> Explicit)
      : Explicit(std::move(Explicit)) {}
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &AM) {
    if (*Explicit || !bpfcov::compat::isBPFModule(M))
      return PreservedAnalyses::all();
    bpfcov::prepareModule(M); // before the mapping object's copy
    std::optional<std::string> Object = mappingObjectFromEnvironment();
    if (!Object)
      return bpfcov::LoadablePass().run(M, AM);
    Expected<bool> Written = bpfcov::writeMappingObject(M, *Object);
    if (!Written) {
      M.getContext().emitError("bpfcov: " + toString(Written.takeError()));
      return PreservedAnalyses::all();
    }
    // An uninstrumented module gets no mapping object and records no path.
    return bpfcov::LoadablePass(*Written ? *Object : "").run(M, AM);
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
  PB.registerPipelineParsingCallback(
      [](StringRef Name, FunctionPassManager &FPM,
         ArrayRef<PassBuilder::PipelineElement>) {
        if (Name != "bpf-cov-unsink")
          return false;
        FPM.addPass(bpfcov::UnsinkCountersPass());
        return true;
      });
  bpfcov::registerCounterScopes(PB);
  bpfcov::compat::atOptimizerLast(PB, [Explicit](ModulePassManager &MPM) {
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
