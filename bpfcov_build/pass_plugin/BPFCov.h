//===-- BPFCov.h - The bpf-cov pass: two modes, one shared step -*- C++ -*-===//
//
// clang -fprofile-instr-generate -fcoverage-mapping lowers its counters into
// globals meant for a host process and its profiling runtime. The bpf-cov
// pass rewrites such a module for the BPF target in one of two modes:
//
//   loadable  the object the kernel loads (LoadableMode.cpp)
//   mapping   the twin object llvm-cov reads (MappingMode.cpp)
//
// Both modes first remove the profiling runtime's hooks (StripRuntime.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef BPFCOV_BPFCOV_H
#define BPFCOV_BPFCOV_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace bpfcov {

/// Removes what only the host profiling runtime understands: the
/// __llvm_profile_init constructor (LLVM <= 16) and the register functions it
/// calls, the __llvm_profile_runtime hook and every other __llvm_profile_*
/// symbol. The BPF back end of LLVM 14-16 crashes on the constructor, and
/// libbpf refuses the undefined hook. Returns whether anything changed.
bool stripProfileRuntime(llvm::Module &M);

/// Before either mode (FunctionRecords.cpp): naked functions lose their
/// counter increments, counters, data record and coverage record; the
/// counters and bitmaps of weak (linkonce) functions are marked object-local
/// and their FuncHash is mixed with the source file's name. Runs on a module
/// with its function bodies, before the mapping object is cloned from it;
/// running it twice changes nothing. Returns whether anything changed.
bool adjustFunctionRecords(llvm::Module &M);

/// What every object is written from: dropArgumentKeepers, then
/// adjustFunctionRecords. Returns whether anything changed.
bool prepareModule(llvm::Module &M);

/// Whether GV (counters or a bitmap) belongs to a definition another object
/// may also hold, so that its symbols must stay local to the object.
bool isObjectLocal(const llvm::GlobalVariable &GV);
void markObjectLocal(llvm::GlobalVariable &GV);

/// Removes the globals for which Remove returns true from llvm.used and
/// llvm.compiler.used.
void removeFromUsedLists(llvm::Module &M,
                         llvm::function_ref<bool(const llvm::GlobalValue &)> Remove);

/// Whether V is the address of a counter: a constant whose object is a
/// global in CounterSection (clang's counters section, before loadable mode
/// moves them).
bool isCounterAddress(const llvm::Value *V, llvm::StringRef CounterSection);

/// A counter increment as clang writes it (CounterUpdate.cpp): an atomic add,
/// or a load, an add of a constant and a store of one address, in order.
struct CounterUpdate {
  llvm::SmallVector<llvm::Instruction *, 3> Steps;

  llvm::Value *address() const;
  llvm::Value *amount() const;      // the value added
  llvm::Instruction *adder() const; // the atomic add, or the add
};

/// The increment that starts at I, whatever its address and amount, or
/// nothing.
std::optional<CounterUpdate> matchCounterUpdate(llvm::Instruction &I);

/// Inserts a copy of Update before Pos that adds Amount at Address.
void copyCounterUpdate(const CounterUpdate &Update, llvm::Value *Address,
                       llvm::Value *Amount, llvm::Instruction *Pos);

/// Removes Update's instructions from their block.
void eraseCounterUpdate(CounterUpdate &Update);

/// In loadable mode, after the optimiser (UnsinkCounters.cpp): puts each
/// counter update SimplifyCFG sank into a common successor, through a phi of
/// counter addresses, back on the edges it came from. Returns whether
/// anything changed.
bool unsinkCounterUpdates(llvm::Function &F);

/// unsinkCounterUpdates alone, as bpf-cov-unsink for opt.
struct UnsinkCountersPass : llvm::PassInfoMixin<UnsinkCountersPass> {
  llvm::PreservedAnalyses run(llvm::Function &F,
                              llvm::FunctionAnalysisManager &);
};

/// In loadable mode, after unsinkCounterUpdates (FoldCounterBlocks.cpp): a
/// block that only counts, in a loop or reached from copies of one check,
/// becomes an add of the branch condition in each block that branches to
/// it, which then branches past it. Returns whether anything changed.
bool foldCounterBlocks(llvm::Function &F);

/// In loadable mode, after foldCounterBlocks (MergeCounterAdds.cpp): atomic
/// adds of constants to one counter in one block, with nothing between them
/// that can leave it, become one add of their sum. Returns whether anything
/// changed.
bool mergeCounterAdds(llvm::Function &F);

/// Loadable mode: the object the kernel verifier and libbpf accept, with the
/// counters in a section libbpf maps, see LoadableMode.cpp.
struct LoadablePass : llvm::PassInfoMixin<LoadablePass> {
  /// ObjectPath, when not empty, is recorded in the object so that the
  /// runtime finds the mapping object that belongs to it.
  explicit LoadablePass(std::string ObjectPath = "")
      : ObjectPath(std::move(ObjectPath)) {}
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  // clang -O0 marks every function optnone; without this the pass manager
  // would skip the pass there.
  static bool isRequired() { return true; }

  std::string ObjectPath;
};

/// Marks every counter access of F as aliasing none of the program's own
/// memory accesses (CounterScopes.cpp), so that counting does not change
/// which values the optimiser keeps in registers.
struct CounterScopesPass : llvm::PassInfoMixin<CounterScopesPass> {
  llvm::PreservedAnalyses run(llvm::Function &F,
                              llvm::FunctionAnalysisManager &);
};

/// Gives every unused parameter of a global function a use that keeps
/// callers passing the value the source passes (KeepArguments.cpp); run
/// early in the pipeline, undone by dropArgumentKeepers.
struct KeepArgumentsPass : llvm::PassInfoMixin<KeepArgumentsPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
};

/// Removes what KeepArgumentsPass added. Returns whether anything changed.
bool dropArgumentKeepers(llvm::Module &M);

/// Registers KeepArgumentsPass and CounterScopesPass early in (and the
/// latter at the peephole points of) every optimisation pipeline PB builds,
/// and as bpf-cov-keep-arguments and bpf-cov-scopes for opt.
void registerCounterScopes(llvm::PassBuilder &PB);

/// Mapping mode: only strips the profiling runtime, so that the coverage
/// mapping (__llvm_covmap, __llvm_covfun, __llvm_prf_names) stays for
/// llvm-cov in an ordinary BPF ELF object.
struct MappingPass : llvm::PassInfoMixin<MappingPass> {
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

/// Rewrites M in mapping mode (what MappingPass runs). Returns false, leaving
/// M alone, when M was not instrumented by clang.
bool makeMappingModule(llvm::Module &M);

/// The id both objects of one compile record (see ObjectId.cpp).
uint64_t objectId(const llvm::Module &M);

/// Writes the mapping object of the instrumented module M to Path, without
/// changing M: a copy of M's globals, rewritten in mapping mode and compiled
/// for M's target in this process, lands at Path through a temporary file.
/// Returns false when M was not instrumented (nothing is written); reports
/// I/O and code-generation failures through the Error.
llvm::Expected<bool> writeMappingObject(const llvm::Module &M,
                                        llvm::StringRef Path);

} // namespace bpfcov

#endif // BPFCOV_BPFCOV_H
