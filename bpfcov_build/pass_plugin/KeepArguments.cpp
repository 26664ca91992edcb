//===-- KeepArguments.cpp - Callers pass what the program passes ----------===//
//
// FILE
//   KeepArguments.cpp
//
// DESCRIPTION
//   The kernel verifies a global BPF function on its own and checks, at each
//   call, every argument against the parameter's BTF type: a
//   `struct __sk_buff *` must be the program's ctx. When the function never
//   reads a parameter, dead-argument elimination makes the callers pass
//   poison instead of the value the source passes. A plain build then
//   verifies by luck (r1 still holds ctx at the call); an instrumented one
//   has used r1 for a counter by then ("arg#0 expects pointer to ctx").
//
//   So, early in the pipeline, each unused parameter of a global function
//   gets a use: a call of @bpfcov.keep.argument(...), which only writes memory
//   nothing can read, so the optimiser keeps it and has no reason to move
//   anything around it. Callers then keep passing what the source passes.
//   Last in the pipeline, before either object is written, the calls and
//   the declaration go (dropArgumentKeepers); they never reach the code.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/ProfileData/InstrProf.h"

using namespace llvm;

namespace bpfcov {

namespace {

constexpr StringLiteral KeeperName = "bpfcov.keep.argument";

/// void @bpfcov.keep.argument(...): variadic, so one takes any argument.
FunctionCallee keeper(Module &M) {
  auto *FnTy = FunctionType::get(Type::getVoidTy(M.getContext()), {}, true);
  FunctionCallee Callee = M.getOrInsertFunction(KeeperName, FnTy);
  if (auto *Fn = dyn_cast<Function>(Callee.getCallee())) {
    Fn->setOnlyAccessesInaccessibleMemory();
    Fn->setDoesNotThrow();
    Fn->setWillReturn();
  }
  return Callee;
}

bool isKeeper(const Function &F) { return F.getName() == KeeperName; }

} // namespace

PreservedAnalyses KeepArgumentsPass::run(Module &M, ModuleAnalysisManager &) {
  if (!compat::isBPFModule(M) ||
      !M.getNamedValue(getInstrProfRuntimeHookVarName()))
    return PreservedAnalyses::all();
  bool Changed = false;
  SmallVector<Function *, 16> Globals;
  for (Function &F : M)
    if (!F.isDeclaration() && !F.hasLocalLinkage() && !isKeeper(F) &&
        !F.hasFnAttribute(Attribute::Naked))
      Globals.push_back(&F);
  for (Function *F : Globals) {
    IRBuilder<> B(&*F->getEntryBlock().getFirstInsertionPt());
    for (Argument &Arg : F->args()) {
      if (!Arg.use_empty() || Arg.getType()->isAggregateType())
        continue;
      B.CreateCall(keeper(M), {&Arg});
      Changed = true;
    }
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

bool dropArgumentKeepers(Module &M) {
  Function *F = M.getFunction(KeeperName);
  if (!F || !F->isDeclaration())
    return false;
  for (User *U : llvm::make_early_inc_range(F->users()))
    if (auto *Call = dyn_cast<CallBase>(U))
      Call->eraseFromParent();
  if (F->use_empty())
    F->eraseFromParent();
  return true;
}

} // namespace bpfcov
