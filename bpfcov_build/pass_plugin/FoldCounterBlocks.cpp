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
//   so counts do not change. Folded are the blocks that lead to a block
//   merging values (a phi: a `continue` past an assignment, an inlined
//   function's early return) and that are either
//     - in a loop, with one predecessor, or
//     - reached from several copies of one check, as a fully unrolled loop
//       leaves them: SimplifyCFG merges the copies' blocks that count the
//       check's outcome (`if (i >= n) break;` in each iteration) into one,
//       with a phi for each value the copies bring, and every copy gets the
//       add instead. The copies are branches with one source location
//       (line, column, scope), so without debug info these blocks stay.
//       strobemeta's map loop (20 iterations, unrolled in each inlined copy
//       of read_map_var), its `break` counted so, took the program from
//       177,272 instructions processed plain past the verifier's limit of
//       1,000,000; folded, 476,709. Where the copies bring no values of
//       their own (no phi: bind6_prog's `return 0` from four unrolled
//       compares), folding only cost the verifier more (699 to 827).
//   Elsewhere the block costs the verifier one path, and the fold would cost
//   an atomic add on every run of the other way: folding every such block
//   made test_sk_lookup's ctx_narrow_access, whose `if (a || b || c || d)
//   return SK_DROP;` lead to one counting block, cost the verifier twice
//   the instructions.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"

#include <string>

using namespace llvm;

namespace bpfcov {

namespace {

/// The increments of BB, in order, when BB does nothing else after its phis
/// and before its unconditional branch but add 1 to counters; else nothing.
bool onlyCounts(BasicBlock &BB, StringRef CounterSection,
                SmallVectorImpl<CounterUpdate> &Counts) {
  auto *Br = dyn_cast<BranchInst>(BB.getTerminator());
  if (!Br || Br->isConditional())
    return false;
  for (auto It = BB.begin(); &*It != Br;) {
    if (isa<PHINode>(*It) || It->isDebugOrPseudoInst()) {
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

/// Whether Preds all end in copies of one check: branches from one source
/// location, as the iterations of a fully unrolled loop do. Without debug
/// info nothing tells copies apart from different checks, so no.
bool copiesOfOneCheck(ArrayRef<BasicBlock *> Preds) {
  const DILocation *First = Preds.front()->getTerminator()->getDebugLoc().get();
  return First && all_of(Preds, [First](BasicBlock *P) {
           const DILocation *L = P->getTerminator()->getDebugLoc().get();
           return L && L->getLine() == First->getLine() &&
                  L->getColumn() == First->getColumn() &&
                  L->getScope() == First->getScope();
         });
}

/// Folds BB into the branch of each of its predecessors if BB only counts
/// (after phis, if any) and the fold leaves every phi with one value per
/// edge. Returns whether it did.
bool fold(BasicBlock &BB, bool InLoop, StringRef CounterSection) {
  BasicBlock *Join = BB.getSingleSuccessor();
  // Join must merge values (a phi): where it merges none, the block changes
  // nothing the verifier prunes on, and the fold would only add its
  // instructions to the other ways (pyperf600's 600-iteration loop went past
  // the verifier's limit so).
  if (!Join || Join == &BB || Join->phis().empty() || BB.hasAddressTaken())
    return false;
  SmallVector<BasicBlock *, 8> Preds(predecessors(&BB));
  // Several predecessors: copies of one check that each bring their own
  // values (BB's phis).
  if (Preds.empty() ||
      (Preds.size() == 1 ? !InLoop
                         : BB.phis().empty() || !copiesOfOneCheck(Preds)))
    return false;
  // Each predecessor must branch to BB by one edge (predecessors() lists a
  // block once per edge), and not to Join too: Join's phis would then need
  // two values from it.
  SmallPtrSet<BasicBlock *, 8> Seen;
  for (BasicBlock *P : Preds)
    if (P == &BB || !isa<BranchInst>(P->getTerminator()) ||
        !Seen.insert(P).second || is_contained(successors(P), Join))
      return false;
  // BB's own phis may only feed Join's, for the edge from BB.
  for (PHINode &Phi : BB.phis())
    for (Use &U : Phi.uses()) {
      auto *User = dyn_cast<PHINode>(U.getUser());
      if (!User || User->getParent() != Join || User->getIncomingBlock(U) != &BB)
        return false;
    }
  SmallVector<CounterUpdate, 2> Counts;
  if (!onlyCounts(BB, CounterSection, Counts))
    return false;

  for (BasicBlock *P : Preds) {
    auto *Br = cast<BranchInst>(P->getTerminator());
    IRBuilder<> B(Br);
    Value *Amount = B.getInt64(1);
    if (Br->isConditional()) {
      Value *Taken = Br->getCondition();
      if (Br->getSuccessor(1) == &BB)
        Taken = B.CreateNot(Taken);
      Amount = B.CreateZExt(Taken, B.getInt64Ty());
    }
    for (const CounterUpdate &Count : Counts)
      copyCounterUpdate(Count, Count.address(), Amount, Br);
    Br->replaceSuccessorWith(&BB, Join);
  }
  for (PHINode &Phi : Join->phis()) {
    Value *FromBB = Phi.getIncomingValueForBlock(&BB);
    auto *Local = dyn_cast<PHINode>(FromBB);
    if (Local && Local->getParent() != &BB)
      Local = nullptr;
    for (BasicBlock *P : Preds)
      Phi.addIncoming(Local ? Local->getIncomingValueForBlock(P) : FromBB, P);
    Phi.removeIncomingValue(&BB, /*DeletePHIIfEmpty=*/false);
  }
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
  SmallVector<std::pair<BasicBlock *, bool>, 32> Blocks; // and in a loop?
  for (BasicBlock &BB : F)
    Blocks.push_back({&BB, LI.getLoopFor(&BB) != nullptr});
  // A fold erases only the block folded: the others stay to be looked at.
  bool Changed = false;
  for (auto [BB, InLoop] : Blocks)
    Changed |= fold(*BB, InLoop, CounterSection);
  return Changed;
}

} // namespace bpfcov
