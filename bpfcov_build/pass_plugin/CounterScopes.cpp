//===-- CounterScopes.cpp - Counters alias nothing of the program's -------===//
//
// FILE
//   CounterScopes.cpp
//
// DESCRIPTION
//   clang lowers each counter increment to a load and a store (or an atomic
//   add) on a counters global. To alias analysis such a store may write any
//   memory the program reads through a pointer, so the optimiser no longer
//   keeps a value the program loaded across it: it loads it again. The
//   kernel verifier sees the difference. A pointer loaded again after its
//   NULL check is unchecked (`if (ctx->sk && ctx->sk->family ...)`: "R1
//   invalid mem access 'sock_or_null'"), and two loads that now both follow
//   a counter store get merged into one instruction reached with a ctx and
//   with a map value pointer ("same insn cannot be used with different
//   pointers").
//
//   The program never sees the counters: nothing but the increments refers
//   to them. This pass says so in scoped alias metadata, early in the
//   pipeline and again at each peephole point (inlining and other passes
//   make instructions):
//
//     counter loads, stores, atomic adds       !alias.scope !{bpfcov counters}
//     the program's loads, stores, atomics,
//     intrinsics and calls of helpers          !noalias {..., bpfcov counters}
//
//   A call of a function (defined in the module, or a kfunc, or another
//   object's), of inline asm, of bpf_tail_call, of an unknown target, or a
//   helper call that passes a function of the module (bpf_loop's callback)
//   keeps no such mark: the code it runs may count, or the program may end
//   there, after which the counters are read as they stand. The scope and
//   its domain are named, so inlining's copies of the metadata stay the same
//   nodes. Right after the marks, an EarlyCSE that reads them removes the
//   loads the counter stores kept alive in clang's first clean-up, before
//   InstCombine folds two such loads into one (the merged-pointers case).
//   Counts do not change: only where the optimiser may keep values.
//
// USAGE
//   opt -load-pass-plugin=libBPFCov.so -passes='function(bpf-cov-scopes)' in.ll
//   (clang -fpass-plugin runs it by itself in BPF modules clang instruments)
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Metadata.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Transforms/Scalar/EarlyCSE.h"

using namespace llvm;

namespace bpfcov {

namespace {

constexpr StringLiteral DomainName = "bpfcov";
constexpr StringLiteral ScopeName = "bpfcov counters";
/// BPF_FUNC_tail_call: on success the program ends there.
constexpr uint64_t TailCallHelper = 12;

/// The pointer operand of I when I is a memory access whose address can be
/// followed to an object; null for anything else.
const Value *accessedPointer(const Instruction &I) {
  if (auto *Load = dyn_cast<LoadInst>(&I))
    return Load->getPointerOperand();
  if (auto *Store = dyn_cast<StoreInst>(&I))
    return Store->getPointerOperand();
  if (auto *RMW = dyn_cast<AtomicRMWInst>(&I))
    return RMW->getPointerOperand();
  if (auto *CmpXchg = dyn_cast<AtomicCmpXchgInst>(&I))
    return CmpXchg->getPointerOperand();
  return nullptr;
}

class CounterScopes {
public:
  explicit CounterScopes(Function &F)
      : F(F), CounterSection(compat::counterSectionName()),
        BitmapSection(compat::bitmapSectionName()) {
    MDBuilder MDB(F.getContext());
    Scope = MDB.createAliasScope(ScopeName, MDB.createAliasScopeDomain(DomainName));
    ScopeList = MDNode::get(F.getContext(), {Scope});
  }

  bool run();

private:
  bool isCounter(const Value *Pointer) const;
  bool leavesCountersAlone(const CallBase &Call) const;
  bool addNoAlias(Instruction &I);

  Function &F;
  const std::string CounterSection;
  const std::optional<std::string> BitmapSection;
  MDNode *Scope = nullptr;
  MDNode *ScopeList = nullptr;
};

bool CounterScopes::isCounter(const Value *Pointer) const {
  auto *GV = dyn_cast<GlobalVariable>(getUnderlyingObject(Pointer));
  if (!GV)
    return false;
  StringRef Section = GV->getSection();
  return Section == CounterSection || (BitmapSection && Section == *BitmapSection);
}

/// Whether Call neither runs code of the module (which counts) nor can end
/// the program (after which the counters are read as they are): an
/// intrinsic, or a BPF helper other than bpf_tail_call that is given no
/// function of the module to call back.
bool CounterScopes::leavesCountersAlone(const CallBase &Call) const {
  if (Call.isInlineAsm())
    return false; // asm may call a subprogram
  const Value *Callee = Call.getCalledOperand()->stripPointerCasts();
  if (auto *Fn = dyn_cast<Function>(Callee))
    return Fn->isIntrinsic();
  // A helper is called through its number: inttoptr (i64 N to ptr).
  auto *CE = dyn_cast<ConstantExpr>(Callee);
  if (!CE || CE->getOpcode() != Instruction::IntToPtr)
    return false;
  auto *Id = dyn_cast<ConstantInt>(CE->getOperand(0));
  if (!Id || Id->getZExtValue() == TailCallHelper)
    return false;
  for (const Use &Arg : Call.args())
    if (auto *ArgFn = dyn_cast<Function>(Arg->stripPointerCasts()))
      if (!ArgFn->isDeclaration())
        return false; // a callback the helper runs
  return true;
}

bool CounterScopes::addNoAlias(Instruction &I) {
  MDNode *NoAlias = I.getMetadata(LLVMContext::MD_noalias);
  if (NoAlias && llvm::is_contained(NoAlias->operands(), Scope))
    return false;
  I.setMetadata(LLVMContext::MD_noalias,
                MDNode::concatenate(NoAlias, ScopeList));
  return true;
}

bool CounterScopes::run() {
  bool Changed = false;
  for (Instruction &I : instructions(F)) {
    if (!I.mayReadOrWriteMemory())
      continue;
    if (const Value *Pointer = accessedPointer(I)) {
      if (isCounter(Pointer)) {
        if (I.getMetadata(LLVMContext::MD_alias_scope) != ScopeList) {
          I.setMetadata(LLVMContext::MD_alias_scope, ScopeList);
          Changed = true;
        }
        continue;
      }
      Changed |= addNoAlias(I);
    } else if (auto *Call = dyn_cast<CallBase>(&I)) {
      if (leavesCountersAlone(*Call))
        Changed |= addNoAlias(I);
    }
  }
  return Changed;
}

/// Whether clang instrumented M: it then declares the runtime hook (until
/// the loadable or mapping mode removes it, last in the pipeline).
bool isInstrumented(const Module &M) {
  return M.getNamedValue(getInstrProfRuntimeHookVarName()) != nullptr;
}

} // namespace

PreservedAnalyses CounterScopesPass::run(Function &F,
                                         FunctionAnalysisManager &) {
  if (!compat::isBPFModule(*F.getParent()) || !isInstrumented(*F.getParent()))
    return PreservedAnalyses::all();
  if (!CounterScopes(F).run())
    return PreservedAnalyses::all();
  // Only metadata changed: the CFG and every instruction stay.
  PreservedAnalyses PA;
  PA.preserveSet<CFGAnalyses>();
  return PA;
}

void registerCounterScopes(PassBuilder &PB) {
  PB.registerPipelineParsingCallback(
      [](StringRef Name, ModulePassManager &MPM,
         ArrayRef<PassBuilder::PipelineElement>) {
        if (Name != "bpf-cov-keep-arguments")
          return false;
        MPM.addPass(KeepArgumentsPass());
        return true;
      });
  PB.registerPipelineParsingCallback(
      [](StringRef Name, FunctionPassManager &FPM,
         ArrayRef<PassBuilder::PipelineElement>) {
        if (Name != "bpf-cov-scopes")
          return false;
        FPM.addPass(CounterScopesPass());
        return true;
      });
  // Before the first pass that keeps loaded values across stores, and again
  // after each InstCombine (inlining and the passes between make code).
  compat::atEarlySimplification(PB, [](ModulePassManager &MPM) {
    MPM.addPass(KeepArgumentsPass()); // before dead-argument elimination
    FunctionPassManager FPM;
    FPM.addPass(CounterScopesPass());
    FPM.addPass(EarlyCSEPass(/*UseMemorySSA=*/true));
    MPM.addPass(createModuleToFunctionPassAdaptor(std::move(FPM)));
  });
  PB.registerPeepholeEPCallback([](FunctionPassManager &FPM, OptimizationLevel) {
    FPM.addPass(CounterScopesPass());
  });
}

} // namespace bpfcov
