//===-- FoldCounterBlocks.cpp - No block of its own for a count in a loop -===//
//
// FILE
//   FoldCounterBlocks.cpp
//
// DESCRIPTION
//   Where a plain build branches straight from a check to the code after it
//   (`if (!p) continue;`, an early return of an inlined function), the
//   instrumented one goes through a block that only counts:
//
//     pred:  br i1 %c, label %count, label %other
//     count: atomicrmw add ptr @__profc_f+8, i64 1 monotonic
//            br label %join
//
//   Inside a loop that block changes how the back end places the loop's
//   spills and copies, and the verifier, which walks every iteration, can no
//   longer prune the paths through it: strobemeta's 50,000 instructions
//   became more than a million with one such counter. This step, run in
//   loadable mode after the optimiser, counts in the branching block
//   instead, adding the branch condition (0 or 1), and branches straight to
//   %join as the plain build does:
//
//     pred:  %n = zext i1 %c to i64
//            atomicrmw add ptr @__profc_f+8, i64 %n monotonic
//            br i1 %c, label %join, label %other
//
//   Every execution of pred adds 1 exactly when it went through the block,
//   so counts do not change. Only blocks in loops that lead to a block
//   merging values (a phi: a `continue` past an assignment, an inlined
//   function's early return) are folded: elsewhere the block costs the
//   verifier one path, and the fold an atomic add on every run of the other
//   way.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"

#include <string>

using namespace llvm;

namespace bpfcov {

namespace {

/// The increments of BB, in order, when BB does nothing else before its
/// unconditional branch but add 1 to counters; else nothing.
bool onlyCounts(BasicBlock &BB, StringRef CounterSection,
                SmallVectorImpl<CounterUpdate> &Counts) {
  auto *Br = dyn_cast<BranchInst>(BB.getTerminator());
  if (!Br || Br->isConditional())
    return false;
  for (auto It = BB.begin(); &*It != Br;) {
    if (It->isDebugOrPseudoInst()) {
      ++It;
      continue;
    }
    std::optional<CounterUpdate> Count = matchCounterUpdate(*It);
    auto *One = Count ? dyn_cast<ConstantInt>(Count->amount()) : nullptr;
    if (!One || !One->isOne() ||
        !isCounterAddress(Count->address(), CounterSection))
      return false;
    It = std::next(Count->Steps.back()->getIterator());
    Counts.push_back(std::move(*Count));
  }
  return !Counts.empty();
}

/// Folds BB into its one predecessor's branch if BB only counts and the fold
/// leaves every phi with one value per edge. Returns whether it did.
bool fold(BasicBlock &BB, StringRef CounterSection) {
  BasicBlock *Pred = BB.getSinglePredecessor();
  auto *PredBr = Pred ? dyn_cast<BranchInst>(Pred->getTerminator()) : nullptr;
  if (!PredBr || Pred == &BB || !PredBr->isConditional() ||
      PredBr->getSuccessor(0) == PredBr->getSuccessor(1) ||
      isa<PHINode>(BB.front()))
    return false;
  BasicBlock *Join = BB.getSingleSuccessor();
  unsigned Through = PredBr->getSuccessor(0) == &BB ? 0 : 1;
  // Pred must not reach Join by its other edge too: Join's phis would then
  // need two values from Pred. And Join must merge values (a phi): where it
  // merges none, the block changes nothing the verifier prunes on, and the
  // fold would only add its instructions to the other way (pyperf600's
  // 600-iteration loop went past the verifier's limit so).
  if (!Join || Join == &BB || PredBr->getSuccessor(1 - Through) == Join ||
      Join->phis().empty())
    return false;
  SmallVector<CounterUpdate, 2> Counts;
  if (!onlyCounts(BB, CounterSection, Counts))
    return false;

  IRBuilder<> B(PredBr);
  Value *Taken = PredBr->getCondition();
  if (Through == 1)
    Taken = B.CreateNot(Taken);
  Value *Amount = B.CreateZExt(Taken, B.getInt64Ty());
  for (const CounterUpdate &Count : Counts)
    copyCounterUpdate(Count, Count.address(), Amount, PredBr);
  for (PHINode &Phi : Join->phis())
    for (unsigned K = 0; K < Phi.getNumIncomingValues(); ++K)
      if (Phi.getIncomingBlock(K) == &BB)
        Phi.setIncomingBlock(K, Pred);
  PredBr->setSuccessor(Through, Join);
  BB.dropAllReferences();
  BB.eraseFromParent();
  return true;
}

} // namespace

bool foldCounterBlocks(Function &F) {
  if (F.isDeclaration())
    return false;
  const std::string CounterSection = compat::counterSectionName();
  DominatorTree DT(F);
  LoopInfo LI(DT);
  SmallVector<BasicBlock *, 16> InLoops;
  for (BasicBlock &BB : F)
    if (LI.getLoopFor(&BB))
      InLoops.push_back(&BB);
  // Folding a block never removes another candidate: each has its own
  // single predecessor, which ends in a conditional branch.
  bool Changed = false;
  for (BasicBlock *BB : InLoops)
    Changed |= fold(*BB, CounterSection);
  return Changed;
}

} // namespace bpfcov
