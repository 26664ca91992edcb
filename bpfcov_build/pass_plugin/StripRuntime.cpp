//===-- StripRuntime.cpp - Remove the host profiling runtime's hooks ------===//
//
// DESCRIPTION
//   A BPF object has no profiling runtime to register its counters with and
//   no constructors to run. This step removes, in both pass modes:
//     - the llvm.global_ctors entry that calls __llvm_profile_init
//       (LLVM <= 16), that function and __llvm_profile_register_functions;
//     - the declarations of __llvm_profile_register_function and
//       __llvm_profile_register_names_function;
//     - the __llvm_profile_runtime hook variable (undefined, so libbpf
//       refuses the object) and any other __llvm_profile_* symbol;
//   dropping each from llvm.used / llvm.compiler.used first.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Support/ErrorHandling.h"

using namespace llvm;

namespace bpfcov {

namespace {

/// Every symbol of the profiling runtime shares this prefix.
constexpr StringLiteral RuntimePrefix = "__llvm_profile_";

bool isRuntimeSymbol(const GlobalValue &GV) {
  return compat::startsWith(GV.getName(), RuntimePrefix);
}

/// Rewrites the appending array ListName without the entries for which
/// Remove(entry) is true; erases it when it becomes empty.
void filterAppendingList(Module &M, StringRef ListName,
                         function_ref<bool(Constant *)> Remove) {
  GlobalVariable *List = M.getGlobalVariable(ListName);
  if (!List || !List->hasInitializer())
    return;
  auto *Init = dyn_cast<ConstantArray>(List->getInitializer());
  if (!Init)
    return;
  SmallVector<Constant *, 16> Kept;
  for (Use &Op : Init->operands())
    if (!Remove(cast<Constant>(Op.get())))
      Kept.push_back(cast<Constant>(Op.get()));
  if (Kept.size() == Init->getNumOperands())
    return;
  if (Kept.empty()) {
    List->eraseFromParent();
    return;
  }
  auto *Ty = ArrayType::get(Init->getType()->getElementType(), Kept.size());
  auto *NewList =
      new GlobalVariable(M, Ty, List->isConstant(), List->getLinkage(),
                         ConstantArray::get(Ty, Kept), "", List,
                         List->getThreadLocalMode());
  NewList->setSection(List->getSection());
  NewList->takeName(List);
  List->eraseFromParent();
}

/// True when a global_ctors entry { i32, ptr, ptr } runs a runtime function.
bool isRuntimeConstructor(Constant *Entry) {
  auto *CS = dyn_cast<ConstantStruct>(Entry);
  if (!CS || CS->getNumOperands() < 2)
    return false;
  auto *F = dyn_cast<GlobalValue>(CS->getOperand(1)->stripPointerCasts());
  return F && isRuntimeSymbol(*F);
}

} // namespace

void removeFromUsedLists(Module &M,
                         function_ref<bool(const GlobalValue &)> Remove) {
  auto IsRemoved = [&](Constant *C) {
    auto *GV = dyn_cast<GlobalValue>(C->stripPointerCasts());
    return GV && Remove(*GV);
  };
  filterAppendingList(M, "llvm.used", IsRemoved);
  filterAppendingList(M, "llvm.compiler.used", IsRemoved);
}

bool stripProfileRuntime(Module &M) {
  SmallVector<GlobalValue *, 8> Doomed;
  for (GlobalValue &GV : M.global_values())
    if (isRuntimeSymbol(GV))
      Doomed.push_back(&GV);
  if (Doomed.empty())
    return false;

  filterAppendingList(M, "llvm.global_ctors", isRuntimeConstructor);
  removeFromUsedLists(M, isRuntimeSymbol);

  // The runtime's functions call one another (init calls register); drop
  // their bodies first so that only uses from outside remain.
  for (GlobalValue *GV : Doomed)
    if (auto *F = dyn_cast<Function>(GV))
      F->deleteBody();
  for (GlobalValue *GV : Doomed) {
    GV->removeDeadConstantUsers();
    if (!GV->use_empty())
      report_fatal_error(Twine("bpf-cov: cannot remove '") + GV->getName() +
                         "': the program itself uses it");
    GV->eraseFromParent();
  }
  return true;
}

} // namespace bpfcov
