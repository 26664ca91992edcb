//===-- UnsinkCounters.cpp - Each path counts where it ends ---------------===//
//
// FILE
//   UnsinkCounters.cpp
//
// DESCRIPTION
//   A function with several early returns ends each path with the increment
//   of that path's counter and a branch to the one exit block. SimplifyCFG
//   sinks those common tails into the exit block: one increment through a
//   phi of counter addresses,
//
//     exit:
//       %c = phi ptr [ @__profc_f+8, %a ], [ @__profc_f+16, %b ], ...
//       atomicrmw add ptr %c, i64 1 monotonic        (-fprofile-update=atomic)
//     or
//       %v = load i64, ptr %c                         (-fprofile-update=single)
//       %n = add i64 %v, 1
//       store i64 %n, ptr %c
//
//   Fewer instructions, but the counter's address and the constant it adds
//   are then live from every one of those paths to the exit, in the
//   callee-saved registers the program itself needed across helper calls.
//   Its own values move to the stack, where the verifier can lose their
//   ranges (a 4-byte spill into a slot a helper later writes: "R0 min value
//   is negative" in a program that verifies plain).
//
//   This step undoes only that: an update that is the first thing its block
//   does, through a phi whose every incoming value is a counter's address,
//   is put back on each incoming edge (splitting an edge that is critical)
//   with that edge's address. Every path still adds the same amount to the
//   same counter once, so counts do not change. It runs in loadable mode,
//   after the optimiser, and does nothing to MC/DC bitmaps.
//
// USAGE
//   opt -load-pass-plugin=libBPFCov.so -passes='function(bpf-cov-unsink)' in.ll
//   (loadable mode runs it on every function first)
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/Instructions.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

#include <optional>
#include <string>

using namespace llvm;

namespace bpfcov {

namespace {

/// One counter update sunk into the head of a block: the phi of counter
/// addresses it updates through, and the update.
struct SunkUpdate {
  PHINode *Address = nullptr;
  CounterUpdate Update;
};

/// Whether Phi, in BB, merges one counter address per predecessor (two or
/// more), each coming over an edge that can be split.
bool mergesCounterAddresses(const PHINode &Phi, const BasicBlock &BB,
                            StringRef CounterSection) {
  // With two incoming edges or more, each edge either ends its block or is
  // critical, so that splitting it makes a block of its own.
  if (Phi.getParent() != &BB || !Phi.getType()->isPointerTy() ||
      Phi.getNumIncomingValues() < 2)
    return false;
  SmallPtrSet<const BasicBlock *, 8> Seen;
  for (unsigned K = 0; K < Phi.getNumIncomingValues(); ++K) {
    const BasicBlock *Pred = Phi.getIncomingBlock(K);
    const Instruction *Term = Pred->getTerminator();
    // Two edges from one block (a switch) cannot each get their own copy.
    if (!Seen.insert(Pred).second || isa<IndirectBrInst>(Term) ||
        isa<CallBrInst>(Term) ||
        !isCounterAddress(Phi.getIncomingValue(K), CounterSection))
      return false;
  }
  return true;
}

/// The sunk update that starts at It (an instruction of BB after its phis),
/// or nothing. On success It is left past the update.
std::optional<SunkUpdate> matchSunkUpdate(BasicBlock &BB,
                                          BasicBlock::iterator &It,
                                          StringRef CounterSection) {
  std::optional<CounterUpdate> Update = matchCounterUpdate(*It);
  auto *Phi = Update ? dyn_cast<PHINode>(Update->address()) : nullptr;
  // The phi is used by the update alone: the atomic add, or the load and
  // the store.
  if (!Phi || !Phi->hasNUses(Update->Steps.size() == 1 ? 1 : 2) ||
      !mergesCounterAddresses(*Phi, BB, CounterSection))
    return std::nullopt;
  It = std::next(Update->Steps.back()->getIterator());
  return SunkUpdate{Phi, std::move(*Update)};
}

/// The sunk updates at the head of BB, after its phis (and debug records).
SmallVector<SunkUpdate, 2> findSunkUpdates(BasicBlock &BB,
                                           StringRef CounterSection) {
  SmallVector<SunkUpdate, 2> Found;
  auto It = BB.begin();
  while (It != BB.end()) {
    if (isa<PHINode>(*It) || It->isDebugOrPseudoInst()) {
      ++It;
      continue;
    }
    std::optional<SunkUpdate> Update = matchSunkUpdate(BB, It, CounterSection);
    if (!Update)
      break;
    Found.push_back(std::move(*Update));
  }
  return Found;
}

/// Puts a copy of Sunk's update on each edge into BB, each with its edge's
/// counter address, and removes the sunk one.
void unsink(SunkUpdate &Sunk, BasicBlock &BB) {
  PHINode *Phi = Sunk.Address;
  SmallVector<std::pair<BasicBlock *, Value *>, 8> Edges;
  for (unsigned K = 0; K < Phi->getNumIncomingValues(); ++K)
    Edges.push_back({Phi->getIncomingBlock(K), Phi->getIncomingValue(K)});
  for (auto &[Pred, Address] : Edges) {
    BasicBlock *At =
        Pred->getSingleSuccessor() == &BB ? Pred : SplitEdge(Pred, &BB);
    copyCounterUpdate(Sunk.Update, Address, Sunk.Update.amount(),
                      At->getTerminator());
  }
  eraseCounterUpdate(Sunk.Update);
  Phi->eraseFromParent();
}

} // namespace

bool unsinkCounterUpdates(Function &F) {
  if (F.isDeclaration())
    return false;
  const std::string CounterSection = compat::counterSectionName();
  SmallVector<std::pair<BasicBlock *, SmallVector<SunkUpdate, 2>>, 4> Work;
  for (BasicBlock &BB : F) {
    SmallVector<SunkUpdate, 2> Found = findSunkUpdates(BB, CounterSection);
    if (!Found.empty())
      Work.push_back({&BB, std::move(Found)});
  }
  // Found first, moved after: splitting edges adds blocks to F.
  for (auto &[BB, Updates] : Work)
    for (SunkUpdate &Sunk : Updates)
      unsink(Sunk, *BB);
  return !Work.empty();
}

PreservedAnalyses UnsinkCountersPass::run(Function &F,
                                          FunctionAnalysisManager &) {
  return unsinkCounterUpdates(F) ? PreservedAnalyses::none()
                                 : PreservedAnalyses::all();
}

} // namespace bpfcov
