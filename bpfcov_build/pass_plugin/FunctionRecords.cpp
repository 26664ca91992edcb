//===-- FunctionRecords.cpp - Functions clang's records do not fit --------===//
//
// DESCRIPTION
//   clang instruments every function alike. Two kinds of BPF function need
//   their coverage changed before either object is written, so that the
//   mapping object and the loadable object agree:
//
//   naked      __attribute__((naked)): the body is the user's asm alone, and
//              the asm relies on the registers the function was entered
//              with (r1 = ctx, ...). clang still puts the entry counter's
//              increment before it, which clobbers them. The increment, the
//              counters, the data record and the coverage record go: the
//              function is not instrumented, exactly as if it had been
//              declared __attribute__((no_profile_instrument_function)), and
//              llvm-cov shows no count for it rather than a made-up one.
//              (Its name stays in the name blob, where nothing refers to it.)
//
//   weak/      a definition the linker may drop for another object's (weak,
//   linkonce   linkonce): its counters, bitmap and record fields are marked
//              object-local (LoadableMode.cpp then gives them local
//              symbols), so that two objects defining it link with bpftool
//              gen object and each definition's code counts in its own
//              object's counters. Its FuncHash, in the data record and in
//              the coverage record, is mixed with the source file's name:
//              the two definitions are then two functions to llvm-profdata
//              and llvm-cov, and the definition the linker dropped shows
//              as never run instead of sharing the counts of the one kept.
//
//   Both steps run once per module, before the mapping object is cloned
//   (Plugin.cpp) or a mode runs alone; running them again changes nothing.
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Metadata.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Support/MD5.h"
#include "llvm/Transforms/Utils/Local.h"

using namespace llvm;

namespace bpfcov {

namespace {

/// The __profd_ fields this step reads or rewrites, by their index in
/// INSTR_PROF_DATA (the same on every LLVM from 14 on).
constexpr unsigned NameRefField = 0;
constexpr unsigned FuncHashField = 1;
/// The same fields of a coverage function record (__covrec_), whose layout
/// (NameRef, DataSize, FuncHash, FilenamesRef, mapping) is that of every
/// coverage mapping version since LLVM 11.
constexpr unsigned CovRecNameRefField = 0;
constexpr unsigned CovRecFuncHashField = 2;
/// The top byte of a FuncHash carries flags (context-sensitive profiles use
/// bit 60); a mixed hash keeps it.
constexpr uint64_t HashFlagBits = 0xffULL << 56;

/// Whether constant C is or contains Part (without looking into the
/// initializers of the globals it refers to).
bool refersTo(const Constant *C, const Constant *Part) {
  if (C == Part)
    return true;
  if (isa<GlobalValue>(C))
    return false;
  for (const Use &Op : C->operands())
    if (auto *OpC = dyn_cast<Constant>(Op.get()))
      if (refersTo(OpC, Part))
        return true;
  return false;
}

uint64_t fieldValue(const GlobalVariable &GV, unsigned Field) {
  auto *CS = dyn_cast<ConstantStruct>(GV.getInitializer());
  if (!CS || Field >= CS->getNumOperands())
    return 0;
  auto *CI = dyn_cast<ConstantInt>(CS->getOperand(Field));
  return CI ? CI->getZExtValue() : 0;
}

/// GV's struct initializer with Field set to Value.
void setField(GlobalVariable &GV, unsigned Field, uint64_t Value) {
  auto *CS = cast<ConstantStruct>(GV.getInitializer());
  SmallVector<Constant *, 12> Fields;
  for (Use &Op : CS->operands())
    Fields.push_back(cast<Constant>(Op.get()));
  Fields[Field] = ConstantInt::get(Fields[Field]->getType(), Value);
  GV.setInitializer(ConstantStruct::get(CS->getType(), Fields));
}

class FunctionRecords {
public:
  explicit FunctionRecords(Module &M)
      : M(M), CounterSection(compat::counterSectionName()),
        DataSection(compat::dataSectionName()),
        CovFunSection(compat::coverageRecordSectionName()),
        BitmapSection(compat::bitmapSectionName()) {}

  bool uninstrumentNakedFunctions();
  bool separateSharedDefinitions();

private:
  GlobalVariable *counterOf(Instruction &I) const;
  GlobalVariable *recordOf(const GlobalVariable &Counters) const;
  GlobalVariable *coverageRecordOf(uint64_t NameRef, uint64_t FuncHash) const;
  void erase(GlobalVariable *GV);

  Module &M;
  const std::string CounterSection;
  const std::string DataSection;
  const std::string CovFunSection;
  const std::optional<std::string> BitmapSection;
};

/// The counters global that I increments (a load, store or atomic add of a
/// counter), or null.
GlobalVariable *FunctionRecords::counterOf(Instruction &I) const {
  Value *Pointer = nullptr;
  if (auto *Load = dyn_cast<LoadInst>(&I))
    Pointer = Load->getPointerOperand();
  else if (auto *Store = dyn_cast<StoreInst>(&I))
    Pointer = Store->getPointerOperand();
  else if (auto *RMW = dyn_cast<AtomicRMWInst>(&I))
    Pointer = RMW->getPointerOperand();
  if (!Pointer)
    return nullptr;
  auto *GV = dyn_cast<GlobalVariable>(getUnderlyingObject(Pointer));
  return GV && GV->getSection() == CounterSection ? GV : nullptr;
}

/// The __profd_ record whose CounterPtr refers to Counters.
GlobalVariable *FunctionRecords::recordOf(const GlobalVariable &Counters) const {
  for (GlobalVariable &GV : M.globals())
    if (GV.getSection() == DataSection && GV.hasInitializer() &&
        refersTo(GV.getInitializer(), &Counters))
      return &GV;
  return nullptr;
}

GlobalVariable *FunctionRecords::coverageRecordOf(uint64_t NameRef,
                                                  uint64_t FuncHash) const {
  for (GlobalVariable &GV : M.globals())
    if (GV.getSection() == CovFunSection && GV.hasInitializer() &&
        fieldValue(GV, CovRecNameRefField) == NameRef &&
        fieldValue(GV, CovRecFuncHashField) == FuncHash)
      return &GV;
  return nullptr;
}

/// Removes GV, its place in llvm.used / llvm.compiler.used, the calls that
/// register it with the host runtime (LLVM <= 16) and its comdat once
/// nothing else is in it.
void FunctionRecords::erase(GlobalVariable *GV) {
  removeFromUsedLists(M, [GV](const GlobalValue &Used) { return &Used == GV; });
  GV->removeDeadConstantUsers();
  SmallVector<Value *, 4> Users(GV->user_begin(), GV->user_end());
  while (!Users.empty()) {
    Value *U = Users.pop_back_val();
    if (auto *Call = dyn_cast<CallBase>(U))
      Call->eraseFromParent();
    else if (auto *CE = dyn_cast<ConstantExpr>(U))
      Users.append(CE->user_begin(), CE->user_end());
  }
  GV->removeDeadConstantUsers();
  Comdat *C = GV->getComdat();
  GV->eraseFromParent();
  if (!C)
    return;
  for (GlobalObject &GO : M.global_objects())
    if (GO.getComdat() == C)
      return;
  M.getComdatSymbolTable().erase(C->getName());
}

bool FunctionRecords::uninstrumentNakedFunctions() {
  bool Changed = false;
  for (Function &F : M) {
    if (F.isDeclaration() || !F.hasFnAttribute(Attribute::Naked))
      continue;
    SmallPtrSet<GlobalVariable *, 2> Counters;
    SmallVector<Instruction *, 4> Writes;
    for (Instruction &I : instructions(F)) {
      GlobalVariable *GV = counterOf(I);
      if (!GV)
        continue;
      Counters.insert(GV);
      if (!isa<LoadInst>(I))
        Writes.push_back(&I);
    }
    // The loads and adds feeding a store die with it.
    for (Instruction *I : Writes) {
      Value *Stored = isa<StoreInst>(I) ? cast<StoreInst>(I)->getValueOperand()
                                        : nullptr;
      I->eraseFromParent();
      if (Stored)
        RecursivelyDeleteTriviallyDeadInstructions(Stored);
    }
    for (GlobalVariable *GV : Counters) {
      GV->removeDeadConstantUsers();
      GlobalVariable *Data = recordOf(*GV);
      bool OnlyTheRecord = llvm::all_of(GV->users(), [&](User *U) {
        return isa<Constant>(U) && Data && refersTo(Data->getInitializer(),
                                                    cast<Constant>(U));
      });
      if (!Data || !OnlyTheRecord)
        continue; // something else still counts with it: leave it be
      if (GlobalVariable *CovRec = coverageRecordOf(
              fieldValue(*Data, NameRefField), fieldValue(*Data, FuncHashField)))
        erase(CovRec);
      SmallVector<GlobalVariable *, 2> Bitmaps;
      if (BitmapSection)
        for (GlobalVariable &B : M.globals())
          if (B.getSection() == *BitmapSection &&
              refersTo(Data->getInitializer(), &B))
            Bitmaps.push_back(&B);
      erase(Data);
      for (GlobalVariable *B : Bitmaps)
        erase(B);
      erase(GV);
      Changed = true;
    }
  }
  return Changed;
}

bool FunctionRecords::separateSharedDefinitions() {
  bool Changed = false;
  const std::string Source = M.getSourceFileName();
  for (GlobalVariable &Data : M.globals()) {
    if (Data.getSection() != DataSection || !Data.hasInitializer())
      continue;
    GlobalVariable *Counters = nullptr;
    for (GlobalVariable &GV : M.globals())
      if (GV.getSection() == CounterSection && refersTo(Data.getInitializer(), &GV))
        Counters = &GV;
    if (!Counters || Counters->hasLocalLinkage() || isObjectLocal(*Counters))
      continue;
    uint64_t NameRef = fieldValue(Data, NameRefField);
    uint64_t Hash = fieldValue(Data, FuncHashField);
    uint64_t Mixed = (MD5Hash(Source + ":" + utohexstr(Hash)) &
                      ~HashFlagBits) |
                     (Hash & HashFlagBits);
    if (GlobalVariable *CovRec = coverageRecordOf(NameRef, Hash))
      setField(*CovRec, CovRecFuncHashField, Mixed);
    setField(Data, FuncHashField, Mixed);
    markObjectLocal(*Counters);
    if (BitmapSection)
      for (GlobalVariable &B : M.globals())
        if (B.getSection() == *BitmapSection && refersTo(Data.getInitializer(), &B))
          markObjectLocal(B);
    Changed = true;
  }
  return Changed;
}

} // namespace

/// The metadata kind that marks a counters or bitmap global as local to its
/// object.
static constexpr StringLiteral ObjectLocalKind = "bpfcov.object_local";

bool isObjectLocal(const GlobalVariable &GV) {
  return GV.getMetadata(ObjectLocalKind) != nullptr;
}

void markObjectLocal(GlobalVariable &GV) {
  GV.setMetadata(ObjectLocalKind, MDNode::get(GV.getContext(), {}));
}

bool adjustFunctionRecords(Module &M) {
  FunctionRecords Records(M);
  bool Changed = Records.uninstrumentNakedFunctions();
  Changed |= Records.separateSharedDefinitions();
  return Changed;
}

bool prepareModule(Module &M) {
  bool Changed = dropArgumentKeepers(M);
  Changed |= adjustFunctionRecords(M);
  return Changed;
}

} // namespace bpfcov
