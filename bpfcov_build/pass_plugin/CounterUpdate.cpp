//===-- CounterUpdate.cpp - A counter increment as clang writes it --------===//
//
// FILE
//   CounterUpdate.cpp
//
// DESCRIPTION
//   clang increments a counter with an atomic add (-fprofile-update=atomic,
//   bpfcov-cc's default) or with a load, an add and a store of one address
//   (-fprofile-update=single). The loadable mode steps that move or merge
//   increments (UnsinkCounters.cpp, FoldCounterBlocks.cpp,
//   MergeCounterAdds.cpp) recognise, copy and remove them here, whichever
//   the form.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/Instructions.h"

using namespace llvm;

namespace bpfcov {

bool isCounterAddress(const Value *V, StringRef CounterSection) {
  if (!isa<Constant>(V))
    return false;
  auto *GV = dyn_cast<GlobalVariable>(getUnderlyingObject(V));
  return GV && GV->getSection() == CounterSection;
}

Value *CounterUpdate::address() const {
  if (auto *RMW = dyn_cast<AtomicRMWInst>(Steps.front()))
    return RMW->getPointerOperand();
  return cast<LoadInst>(Steps.front())->getPointerOperand();
}

Value *CounterUpdate::amount() const { return adder()->getOperand(1); }

Instruction *CounterUpdate::adder() const {
  return Steps.size() == 1 ? Steps.front() : Steps[1];
}

std::optional<CounterUpdate> matchCounterUpdate(Instruction &I) {
  if (auto *RMW = dyn_cast<AtomicRMWInst>(&I)) {
    if (RMW->getOperation() != AtomicRMWInst::Add || !RMW->use_empty())
      return std::nullopt;
    return CounterUpdate{{RMW}};
  }
  auto *Load = dyn_cast<LoadInst>(&I);
  auto *Add =
      Load ? dyn_cast_or_null<BinaryOperator>(Load->getNextNode()) : nullptr;
  auto *Store = Add ? dyn_cast_or_null<StoreInst>(Add->getNextNode()) : nullptr;
  if (!Store || Load->isVolatile() || Store->isVolatile() ||
      !Load->hasOneUse() || Add->getOpcode() != Instruction::Add ||
      Add->getOperand(0) != Load || !isa<ConstantInt>(Add->getOperand(1)) ||
      !Add->hasOneUse() || Store->getValueOperand() != Add ||
      Store->getPointerOperand() != Load->getPointerOperand())
    return std::nullopt;
  return CounterUpdate{{Load, Add, Store}};
}

void copyCounterUpdate(const CounterUpdate &Update, Value *Address,
                       Value *Amount, Instruction *Pos) {
  Value *OldAddress = Update.address();
  SmallVector<std::pair<Instruction *, Instruction *>, 3> Copies;
  for (Instruction *Step : Update.Steps) {
    Instruction *Copy = Step->clone();
    Copy->replaceUsesOfWith(OldAddress, Address);
    for (auto &[Original, Earlier] : Copies)
      Copy->replaceUsesOfWith(Original, Earlier);
    if (Step == Update.adder())
      Copy->setOperand(1, Amount);
    compat::insertBefore(Copy, Pos);
    Copies.push_back({Step, Copy});
  }
}

void eraseCounterUpdate(CounterUpdate &Update) {
  for (auto It = Update.Steps.rbegin(); It != Update.Steps.rend(); ++It)
    (*It)->eraseFromParent();
  Update.Steps.clear();
}

} // namespace bpfcov
