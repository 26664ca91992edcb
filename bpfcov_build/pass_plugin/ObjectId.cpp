//===-- ObjectId.cpp - The identity an instrumented object carries ---------===//
//
// FILE
//   ObjectId.cpp
//
// DESCRIPTION
//   A loader may create only the maps its programs reference (cilium/ebpf
//   skips unreferenced data sections) and may give every map a BTF object of
//   its own, so the runtime cannot group an object's maps by BTF id or find
//   its mapping object through .rodata.covmap. The counters map must say
//   itself which object it belongs to: loadable mode ends .data.profc with a
//   trailer holding this id and the mapping object's path, and both modes
//   record the id in the object info, so the runtime can pair a counters map
//   with the mapping object on disk and tell when that was rebuilt.
//
//   The id is a hash of what defines the object's coverage: the source file
//   name, every function's name hash and structural hash, and the name blob.
//   It is computed before either mode changes the module, so the loadable and
//   the mapping object of one compile get the same id.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Support/MD5.h"

using namespace llvm;

namespace bpfcov {

uint64_t objectId(const Module &M) {
  MD5 Hash;
  Hash.update(M.getSourceFileName());
  const std::string DataSection = compat::dataSectionName();
  for (const GlobalVariable &GV : M.globals()) {
    if (GV.getSection() != DataSection || !GV.hasInitializer())
      continue;
    auto *Record = dyn_cast<ConstantStruct>(GV.getInitializer());
    if (!Record || Record->getNumOperands() < 2)
      continue;
    for (unsigned I = 0; I < 2; ++I) // NameRef, FuncHash
      if (auto *Field = dyn_cast<ConstantInt>(Record->getOperand(I))) {
        uint64_t Value = Field->getZExtValue();
        Hash.update(ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(&Value),
                                      sizeof(Value)));
      }
  }
  if (const GlobalVariable *Names =
          M.getGlobalVariable(getInstrProfNamesVarName(), true))
    if (auto *Blob = dyn_cast<ConstantDataSequential>(Names->getInitializer()))
      Hash.update(Blob->getRawDataValues());
  MD5::MD5Result Result;
  Hash.final(Result);
  return Result.low();
}

} // namespace bpfcov
