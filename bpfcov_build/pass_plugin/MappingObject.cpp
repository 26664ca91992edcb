//===-- MappingObject.cpp - The mapping object, written from inside clang -===//
//
// FILE
//   MappingObject.cpp
//
// DESCRIPTION
//   bpfcov-cc compiles a BPF source once: clang -fpass-plugin runs loadable
//   mode last in its optimisation pipeline and goes on to generate X.bpf.o.
//   Just before, this step writes the twin X.bpf.obj that llvm-cov reads, so
//   that no second compiler process, bitcode file or code generator run is
//   needed:
//
//     1. copy the module's globals, never a function body (CloneModule with
//        a definition filter), so the copy costs what the data costs;
//     2. rewrite the copy in mapping mode (MappingMode.cpp) and drop its
//        debug info: llvm-cov reads only the coverage sections and names;
//     3. generate an object for the module's own target triple with the
//        target registered in this process (clang and opt register them);
//     4. write it to a temporary file beside Path and rename it into place,
//        so a failed build never leaves a half-written mapping object.
//
//   The module the pipeline goes on with is not changed.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/IR/DebugInfo.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/ValueMapper.h"

#include <memory>

using namespace llvm;

namespace bpfcov {

namespace {

/// Step 1: M's globals, with every function left a declaration.
std::unique_ptr<Module> cloneWithoutCode(const Module &M) {
  ValueToValueMapTy VMap;
  return CloneModule(M, VMap, [](const GlobalValue *GV) {
    return !isa<Function>(GV);
  });
}

Error failure(const Twine &Message) {
  return createStringError(inconvertibleErrorCode(), Message);
}

/// Step 3: a code generator for the module's triple.
Expected<std::unique_ptr<TargetMachine>> targetMachineFor(const Module &M) {
  const std::string Triple = compat::tripleName(M);
  std::string Message;
  const Target *T = compat::lookupTarget(M, Message);
  if (!T)
    return failure("no code generator for " + Triple + ": " + Message);
  std::unique_ptr<TargetMachine> TM(compat::createTargetMachine(*T, M));
  if (!TM)
    return failure("cannot create a code generator for " + Triple);
  return TM;
}

/// Steps 3 and 4: compiles Copy into a temporary file, then renames it to
/// Path.
Error emitObject(Module &Copy, StringRef Path) {
  Expected<std::unique_ptr<TargetMachine>> TM = targetMachineFor(Copy);
  if (!TM)
    return TM.takeError();

  int FD = -1;
  SmallString<256> TempPath;
  if (std::error_code EC =
          sys::fs::createUniqueFile(Path + ".%%%%%%.tmp", FD, TempPath))
    return failure("cannot write " + Path + ": " + EC.message());
  auto RemoveTemp = [&] { sys::fs::remove(TempPath); };
  {
    raw_fd_ostream OS(FD, /*shouldClose=*/true);
    legacy::PassManager PM;
    if ((*TM)->addPassesToEmitFile(PM, OS, nullptr, compat::ObjectFileType)) {
      RemoveTemp();
      return failure("the code generator for " + compat::tripleName(Copy) +
                     " cannot write object files");
    }
    PM.run(Copy);
    OS.close();
    if (OS.has_error()) {
      std::error_code EC = OS.error();
      OS.clear_error();
      RemoveTemp();
      return failure("cannot write " + Path + ": " + EC.message());
    }
  }
  if (std::error_code EC = sys::fs::rename(TempPath, Path)) {
    RemoveTemp();
    return failure("cannot write " + Path + ": " + EC.message());
  }
  return Error::success();
}

} // namespace

Expected<bool> writeMappingObject(const Module &M, StringRef Path) {
  std::unique_ptr<Module> Copy = cloneWithoutCode(M);
  if (!makeMappingModule(*Copy)) // step 2
    return false;
  StripDebugInfo(*Copy);
  if (Error E = emitObject(*Copy, Path))
    return E;
  return true;
}

} // namespace bpfcov
