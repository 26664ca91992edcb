//===-- LoadableMode.cpp - The object the kernel loads --------------------===//
//
// FILE
//   LoadableMode.cpp
//
// DESCRIPTION
//   clang's lowered coverage counters are shaped for a host process: private
//   globals in __llvm_prf_* sections, data records holding pointers
//   (relocations the BPF ELF cannot carry), comdats, a runtime to register
//   with. libbpf and the verifier reject all of that. Loadable mode moves
//   every piece into a .data.* / .rodata.* section that libbpf turns into a
//   map, so the counts can be read from user space while the program runs:
//
//     __profc_<fn>  [N x i64]       -> .data.profc   (external, zero, BTF)
//     __profbm_<fn> [K x i8]        -> .data.profbm  (LLVM >= 18, MC/DC)
//     (each section's identity)     -> a trailer after the counters, and one
//                                      after the bitmaps (contract.def)
//     __profd_<fn>  { fields... }   -> .rodata.profd, one scalar global per
//                                      field (and one for the record's tail
//                                      padding, if any); CounterPtr/BitmapPtr
//                                      become the byte offset in .data.profc
//                                      / .data.profbm, host pointers become 0
//     __llvm_prf_nm                 -> .rodata.profn, as __bpfcov_names
//     __llvm_coverage_mapping       -> .rodata.covmap, after what the
//                                      runtime needs: raw profile version,
//                                      LLVM major, the mapping object's path
//     __covrec_*                    -> removed (the mapping object has them)
//
//   The counter increments stay as clang wrote them, except those the
//   optimiser sank into a common successor, which go back onto the edges
//   they came from (UnsinkCounters.cpp); those that are all a block in a
//   loop, or a block that copies of one check lead to, does, which become
//   adds of the branch condition in the blocks before (FoldCounterBlocks.cpp);
//   and atomic adds to one counter in one block, which become one
//   (MergeCounterAdds.cpp). Every global placed in a section gets debug
//   info, so that the BPF back end describes it in BTF: libbpf then gives
//   the maps the object's BTF id, which is how the runtime groups the maps
//   of one object, and bpftool's skeleton exposes the globals by name.
//   Names become C identifiers for the same reason.
//
// USAGE
//   opt -load-pass-plugin=libBPFCov.so -passes='bpf-cov<loadable>' in.bc -o out.bc
//   clang -target bpf ... -fprofile-instr-generate -fcoverage-mapping
//         -fpass-plugin=libBPFCov.so -c prog.bpf.c
//
//===----------------------------------------------------------------------===//
#include "BPFCov.h"
#include "Compat.h"
#include "Layout.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/BinaryFormat/Dwarf.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DIBuilder.h"
#include "llvm/IR/DataLayout.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/GetElementPtrTypeIterator.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Operator.h"
#include "llvm/ProfileData/InstrProf.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <memory>
#include <optional>
#include <vector>

#define DEBUG_TYPE "bpf-cov"

using namespace llvm;

namespace bpfcov {

namespace {

/// The fields of a __profd_ record, in order, as this LLVM declares them.
/// "NumValueSites[IPVK_Last+1]" is cut at its '['.
const StringRef DataFieldNames[] = {
#define INSTR_PROF_DATA(Type, LLVMType, Name, Init) StringRef(#Name),
#include "llvm/ProfileData/InstrProfData.inc"
};

StringRef fieldName(unsigned Index) {
  return DataFieldNames[Index].take_until([](char C) { return C == '['; });
}

/// Who sees the symbol of a global of ours. Counters and data-record fields
/// are named after their function, which is one in a program, unless it is
/// weak. The object info and the name blob have the same names in every
/// object, and a weak function may be defined in several: they are local to
/// it, so that bpftool gen object links instrumented objects (their sections
/// then follow one another, see layout.py).
enum class SymbolScope { Global, Object };

/// One instrumented function: its data record and what the record points to.
struct ProfiledFunction {
  GlobalVariable *Data = nullptr;
  GlobalVariable *Counters = nullptr;
  GlobalVariable *Bitmap = nullptr; ///< MC/DC only.
  uint64_t CounterOffset = 0;
  uint64_t BitmapOffset = 0;
  /// Global for a function that is one in a program; Object for a weak one,
  /// which other objects may define too (see FunctionRecords.cpp).
  SymbolScope Scope = SymbolScope::Global;
};

/// The global in Section that constant C refers to, if any (a record's
/// CounterPtr is `sub (ptrtoint @__profc_f, ptrtoint @__profd_f)`).
GlobalVariable *findReferencedGlobal(Constant *C, StringRef Section) {
  if (auto *GV = dyn_cast<GlobalVariable>(C))
    return GV->getSection() == Section ? GV : nullptr;
  for (Use &Op : C->operands())
    if (auto *OpC = dyn_cast<Constant>(Op.get()))
      if (GlobalVariable *GV = findReferencedGlobal(OpC, Section))
        return GV;
  return nullptr;
}

/// The byte offset of Pointer from Base, as an i64 computed at B's insertion
/// point (a constant when the GEPs are). Pointer is Base or a chain of GEPs
/// on it; anything else gives null.
Value *byteOffsetFrom(IRBuilder<> &B, const DataLayout &DL, Value *Base,
                      Value *Pointer) {
  if (Pointer == Base)
    return B.getInt64(0);
  auto *GEP = dyn_cast<GEPOperator>(Pointer);
  if (!GEP)
    return nullptr;
  Value *Off = byteOffsetFrom(B, DL, Base, GEP->getPointerOperand());
  if (!Off)
    return nullptr;
  for (gep_type_iterator GTI = gep_type_begin(GEP), E = gep_type_end(GEP);
       GTI != E; ++GTI) {
    Value *Index = GTI.getOperand();
    if (StructType *STy = GTI.getStructTypeOrNull()) {
      uint64_t Field = cast<ConstantInt>(Index)->getZExtValue();
      Off = B.CreateAdd(
          Off, B.getInt64(DL.getStructLayout(STy)->getElementOffset(Field)));
      continue;
    }
    uint64_t Stride = DL.getTypeAllocSize(GTI.getIndexedType());
    Off = B.CreateAdd(
        Off, B.CreateMul(B.CreateSExtOrTrunc(Index, B.getInt64Ty()),
                         B.getInt64(Stride)));
  }
  return Off;
}

class LoadableRewriter {
public:
  LoadableRewriter(Module &M, StringRef ObjectPath)
      : M(M), DL(M.getDataLayout()), ObjectPath(ObjectPath) {
    if (!M.debug_compile_units().empty()) {
      CU = *M.debug_compile_units().begin();
      DIB = std::make_unique<DIBuilder>(M, /*AllowUnresolved=*/true, CU);
    }
  }

  bool run();

private:
  bool isInstrumented() const;
  std::vector<ProfiledFunction> collectProfiledFunctions();
  void placeCounters(std::vector<ProfiledFunction> &Functions);
  void dropDeadAtomicLoads(GlobalVariable *Counters);
  void placeBitmaps(std::vector<ProfiledFunction> &Functions);
  GlobalVariable *padToWords(GlobalVariable *Bitmap);
  void widenAtomicBitmapUpdates(GlobalVariable *Bitmap);
  void emitCountersTrailer(const std::vector<ProfiledFunction> &Functions);
  void emitBitmapsTrailer();
  void emitTrailer(StringRef Name, StringRef Section, ArrayRef<uint64_t> Fields,
                   std::optional<StringRef> Text, uint64_t Magic);
  void splitDataRecords(const std::vector<ProfiledFunction> &Functions);
  void placeNames();
  void emitObjectInfo();
  void dropCoverageRecords();

  /// Gives GV its place in Section: external (or, per object, internal),
  /// dso_local, no comdat, a C identifier for a name, debug info for BTF,
  /// last in the section.
  void placeInSection(GlobalVariable *GV, StringRef Section,
                      SymbolScope Scope = SymbolScope::Global);
  GlobalVariable *createGlobal(StringRef Name, Constant *Init,
                               StringRef Section, bool IsConstant,
                               SymbolScope Scope = SymbolScope::Global);
  void describeForBTF(GlobalVariable *GV, SymbolScope Scope);
  DIType *debugTypeFor(Type *Ty);
  std::string uniqueIdentifier(StringRef Name);

  Module &M;
  const DataLayout &DL;
  StringRef ObjectPath;
  DICompileUnit *CU = nullptr;
  std::unique_ptr<DIBuilder> DIB;
  uint64_t Id = 0;
  uint64_t CountersSize = 0;
  uint64_t BitmapSize = 0;
};

bool LoadableRewriter::run() {
  if (!compat::isBPFModule(M) || !isInstrumented())
    return false;
  prepareModule(M);
  Id = objectId(M); // as the mapping object's, which is made after preparing
  std::vector<ProfiledFunction> Functions = collectProfiledFunctions();
  stripProfileRuntime(M);
  for (Function &F : M) { // while the counters are in clang's section
    unsinkCounterUpdates(F);
    foldCounterBlocks(F);
    mergeCounterAdds(F);
  }
  placeCounters(Functions);
  placeBitmaps(Functions);
  emitCountersTrailer(Functions);
  emitBitmapsTrailer();
  splitDataRecords(Functions);
  placeNames();
  emitObjectInfo();
  dropCoverageRecords();
  if (DIB)
    DIB->finalize();
  return true;
}

/// Whether clang instrumented the module: it then has the runtime hook, and
/// a name blob or coverage mapping even when no function got counters.
bool LoadableRewriter::isInstrumented() const {
  return M.getNamedValue(getInstrProfRuntimeHookVarName()) ||
         M.getNamedGlobal(getInstrProfNamesVarName()) ||
         M.getNamedGlobal(getCoverageMappingVarName());
}

/// Every __profd_ record of the module, in module order, with its counters
/// and bitmap.
std::vector<ProfiledFunction> LoadableRewriter::collectProfiledFunctions() {
  const std::string DataSection = compat::dataSectionName();
  const std::string CounterSection = compat::counterSectionName();
  const std::optional<std::string> BitmapSection = compat::bitmapSectionName();

  std::vector<ProfiledFunction> Functions;
  for (GlobalVariable &GV : M.globals()) {
    if (GV.getSection() != DataSection || !GV.hasInitializer())
      continue;
    ProfiledFunction F;
    F.Data = &GV;
    F.Counters = findReferencedGlobal(GV.getInitializer(), CounterSection);
    if (BitmapSection)
      F.Bitmap = findReferencedGlobal(GV.getInitializer(), *BitmapSection);
    if (!F.Counters)
      report_fatal_error(Twine("bpf-cov: data record '") + GV.getName() +
                         "' has no counters");
    if (isObjectLocal(*F.Counters))
      F.Scope = SymbolScope::Object;
    Functions.push_back(F);
  }
  return Functions;
}

/// Counters go to .data.profc, contiguous and in record order, so that each
/// function's byte offset there is known here.
void LoadableRewriter::placeCounters(std::vector<ProfiledFunction> &Functions) {
  uint64_t Offset = 0;
  for (ProfiledFunction &F : Functions) {
    F.Counters->setAlignment(Align(8));
    dropDeadAtomicLoads(F.Counters);
    placeInSection(F.Counters, layout::CountersSection, F.Scope);
    F.CounterOffset = Offset;
    Offset += alignTo(DL.getTypeAllocSize(F.Counters->getValueType()), 8);
  }
  CountersSize = Offset;
}

/// The counters map's own identity, after the counters (layout::
/// TrailerVar): which object, which LLVM, how many records and bytes
/// of counters and bitmaps it has, and where its mapping object is. The
/// counters' offsets stay where the records say; a reader finds the trailer
/// from the end of the map (its last two words).
void LoadableRewriter::emitCountersTrailer(
    const std::vector<ProfiledFunction> &Functions) {
  using layout::TrailerField;
  uint64_t Fields[size_t(TrailerField::Count)] = {};
  Fields[size_t(TrailerField::ObjectId)] = Id;
  Fields[size_t(TrailerField::RawVersion)] = INSTR_PROF_RAW_VERSION;
  Fields[size_t(TrailerField::LLVMMajor)] = LLVM_VERSION_MAJOR;
  Fields[size_t(TrailerField::NumRecords)] = Functions.size();
  Fields[size_t(TrailerField::CountersSize)] = CountersSize;
  Fields[size_t(TrailerField::BitmapSize)] = BitmapSize;
  emitTrailer(layout::TrailerVar, layout::CountersSection, Fields, ObjectPath,
              layout::TrailerMagic);
}

/// The bitmaps map's own identity, after the bitmaps (layout::
/// BitmapTrailerVar), so that it can be matched to its counters map when a
/// loader gives each map a BTF object of its own (cilium/ebpf). An object
/// without MC/DC bitmaps has no .data.profbm, and no trailer there.
void LoadableRewriter::emitBitmapsTrailer() {
  if (BitmapSize == 0)
    return;
  using layout::BitmapTrailerField;
  uint64_t Fields[size_t(BitmapTrailerField::Count)] = {};
  Fields[size_t(BitmapTrailerField::ObjectId)] = Id;
  Fields[size_t(BitmapTrailerField::BitmapSize)] = BitmapSize;
  emitTrailer(layout::BitmapTrailerVar, layout::BitmapsSection, Fields,
              /*Text=*/std::nullopt, layout::BitmapTrailerMagic);
}

/// A trailer global, last in Section and local to the object: the u64
/// Fields, then Text (if any) NUL-terminated and zero-padded to 8 bytes,
/// then u64 its whole size and u64 Magic.
void LoadableRewriter::emitTrailer(StringRef Name, StringRef Section,
                                   ArrayRef<uint64_t> Fields,
                                   std::optional<StringRef> Text,
                                   uint64_t Magic) {
  LLVMContext &Ctx = M.getContext();
  Type *Int64Ty = Type::getInt64Ty(Ctx);
  std::string Padded;
  if (Text) {
    Padded = Text->str();
    Padded.resize(alignTo(Padded.size() + 1, 8), '\0');
  }
  uint64_t Size = 8 * (Fields.size() + 2) + Padded.size();
  SmallVector<Constant *, 8> Head;
  for (uint64_t Field : Fields)
    Head.push_back(ConstantInt::get(Int64Ty, Field));
  SmallVector<Constant *, 4> Parts{
      ConstantArray::get(ArrayType::get(Int64Ty, Head.size()), Head)};
  if (!Padded.empty())
    Parts.push_back(ConstantDataArray::getRaw(Padded, Padded.size(),
                                              Type::getInt8Ty(Ctx)));
  Parts.push_back(ConstantInt::get(Int64Ty, Size));
  Parts.push_back(ConstantInt::get(Int64Ty, Magic));
  Constant *Trailer = ConstantStruct::getAnon(Parts);
  GlobalVariable *GV = createGlobal(Name, Trailer, Section,
                                    /*IsConstant=*/false, SymbolScope::Object);
  GV->setAlignment(Align(8));
  if (DL.getTypeAllocSize(Trailer->getType()) != Size)
    report_fatal_error(Twine("bpf-cov: ") + Name +
                       " is not laid out as contract.def says");
}

/// With -fprofile-update=atomic, the optimiser can split an atomic add of a
/// condition's value per path and leave, on the path that adds 0, an atomic
/// load whose value nobody uses. Such a load does nothing, but the BPF back
/// ends of LLVM 14 and 15 cannot select it ("Cannot select: AtomicLoad") and
/// the whole compile fails; remove it.
void LoadableRewriter::dropDeadAtomicLoads(GlobalVariable *Counters) {
  SmallVector<Value *, 8> Pointers{Counters};
  SmallVector<LoadInst *, 4> Dead;
  while (!Pointers.empty()) {
    Value *Pointer = Pointers.pop_back_val();
    for (User *U : Pointer->users()) {
      if (auto *Load = dyn_cast<LoadInst>(U)) {
        if (Load->isAtomic() && Load->use_empty())
          Dead.push_back(Load);
      } else if (isa<GEPOperator>(U) || isa<BitCastOperator>(U)) {
        Pointers.push_back(U);
      }
    }
  }
  for (LoadInst *Load : Dead)
    Load->eraseFromParent();
}

/// MC/DC bitmaps go to .data.profbm in record order, each 8-aligned and
/// padded to whole 64-bit words (see widenAtomicBitmapUpdates). Functions
/// without decisions have an empty bitmap, which takes no space and is
/// removed.
void LoadableRewriter::placeBitmaps(std::vector<ProfiledFunction> &Functions) {
  uint64_t Offset = 0;
  for (ProfiledFunction &F : Functions) {
    if (!F.Bitmap)
      continue;
    F.BitmapOffset = Offset;
    if (DL.getTypeAllocSize(F.Bitmap->getValueType()) == 0) {
      F.Bitmap = nullptr; // dropped with the record that refers to it
      continue;
    }
    F.Bitmap = padToWords(F.Bitmap);
    widenAtomicBitmapUpdates(F.Bitmap);
    placeInSection(F.Bitmap, layout::BitmapsSection, F.Scope);
    Offset += DL.getTypeAllocSize(F.Bitmap->getValueType());
  }
  BitmapSize = Offset;
}

/// A bitmap of K bytes becomes [roundup(K, 8) x i8], 8-aligned, so that every
/// byte of it lies in a 64-bit word of its own global. The data record keeps
/// K as NumBitmapBytes: the padding is never part of the profile.
GlobalVariable *LoadableRewriter::padToWords(GlobalVariable *Bitmap) {
  uint64_t Size = DL.getTypeAllocSize(Bitmap->getValueType());
  Bitmap->setAlignment(Align(8));
  if (Size % 8 == 0)
    return Bitmap;
  auto *Ty = ArrayType::get(Type::getInt8Ty(M.getContext()), alignTo(Size, 8));
  auto *Padded = new GlobalVariable(M, Ty, Bitmap->isConstant(),
                                    Bitmap->getLinkage(),
                                    Constant::getNullValue(Ty), "", Bitmap);
  Padded->copyAttributesFrom(Bitmap);
  Padded->setAlignment(Align(8));
  Padded->takeName(Bitmap);
  Bitmap->replaceAllUsesWith(Padded);
  Bitmap->eraseFromParent();
  return Padded;
}

/// With -fprofile-update=atomic, clang (LLVM >= 19) sets MC/DC bitmap bits
/// with `atomicrmw or i8`, which BPF cannot encode (its atomics are 32 and
/// 64 bits wide). Each becomes an atomic or of the 64-bit word that holds
/// the byte, with the bits shifted to that byte's place:
///
///   atomicrmw or ptr (@bm + Off), i8 V
///     -> atomicrmw or ptr (@bm + (Off & ~7)), i64 (zext V << 8*byte(Off & 7))
///
/// The other bytes of the word get 0 bits, so no test vector is lost or
/// invented when several CPUs set bits at once.
void LoadableRewriter::widenAtomicBitmapUpdates(GlobalVariable *Bitmap) {
  SmallVector<std::pair<Value *, AtomicRMWInst *>, 8> Updates;
  // The pointers derived from the bitmap, through GEPs.
  SmallVector<Value *, 8> Worklist{Bitmap};
  while (!Worklist.empty()) {
    Value *Pointer = Worklist.pop_back_val();
    for (User *U : Pointer->users()) {
      if (auto *RMW = dyn_cast<AtomicRMWInst>(U)) {
        if (RMW->getPointerOperand() == Pointer &&
            RMW->getOperation() == AtomicRMWInst::Or &&
            RMW->getValOperand()->getType()->isIntegerTy(8))
          Updates.push_back({Pointer, RMW});
      } else if (isa<GEPOperator>(U)) {
        Worklist.push_back(U);
      }
    }
  }
  Type *Int64Ty = Type::getInt64Ty(M.getContext());
  for (auto &[Pointer, RMW] : Updates) {
    IRBuilder<> B(RMW);
    Value *Off = byteOffsetFrom(B, DL, Bitmap, Pointer);
    if (!Off)
      report_fatal_error("bpf-cov: an MC/DC bitmap update the pass cannot "
                         "widen to 64 bits");
    Value *Word = B.CreateGEP(B.getInt8Ty(), Bitmap,
                              B.CreateAnd(Off, ~uint64_t(7)), "bpfcov.word");
    Value *Byte = B.CreateAnd(Off, 7);
    if (DL.isBigEndian())
      Byte = B.CreateSub(B.getInt64(7), Byte);
    Value *Shift = B.CreateShl(Byte, 3);
    Value *Bits = B.CreateZExt(RMW->getValOperand(), Int64Ty);
    auto *ConstShift = dyn_cast<ConstantInt>(Shift);
    if (!ConstShift || !ConstShift->isZero())
      Bits = B.CreateShl(Bits, Shift);
    AtomicRMWInst *Wide =
        B.CreateAtomicRMW(AtomicRMWInst::Or, Word, Bits, MaybeAlign(8),
                          RMW->getOrdering(), RMW->getSyncScopeID());
    if (!RMW->use_empty())
      RMW->replaceAllUsesWith(
          B.CreateTrunc(B.CreateLShr(Wide, Shift), RMW->getType()));
    RMW->eraseFromParent();
  }
}

/// Each record becomes one scalar global per field in .rodata.profd, laid
/// out exactly like the record (natural alignment, record order), so the
/// runtime reads the section as an array of raw-profile data records.
void LoadableRewriter::splitDataRecords(
    const std::vector<ProfiledFunction> &Functions) {
  std::vector<GlobalVariable *> Emptied;
  for (const ProfiledFunction &F : Functions) {
    auto *Record = cast<ConstantStruct>(F.Data->getInitializer());
    StructType *RecordTy = Record->getType();
    const StructLayout *SL = DL.getStructLayout(RecordTy);
    if (RecordTy->getNumElements() != std::size(DataFieldNames))
      report_fatal_error("bpf-cov: __profd_ record does not match "
                         "InstrProfData.inc of this LLVM");

    uint64_t Offset = 0;
    for (unsigned I = 0, E = RecordTy->getNumElements(); I != E; ++I) {
      Type *FieldTy = RecordTy->getElementType(I);
      Constant *Value = Record->getAggregateElement(I);
      Type *Int64Ty = Type::getInt64Ty(M.getContext());
      const layout::FieldRewrite Rewrite = layout::rewriteOf(fieldName(I));
      // One rule per field: a pointer is meaningless on BPF, so the table
      // must say what each pointer field becomes.
      if (FieldTy->isPointerTy() && Rewrite == layout::FieldRewrite::Copy)
        report_fatal_error(Twine("bpf-cov: data-record field ") + fieldName(I) +
                           " is a pointer that Layout.h's FieldRules do not "
                           "rewrite");
      switch (Rewrite) {
      case layout::FieldRewrite::Copy:
        break;
      case layout::FieldRewrite::CounterOffset:
        Value = ConstantInt::get(Int64Ty, F.CounterOffset);
        break;
      case layout::FieldRewrite::BitmapOffset:
        Value = ConstantInt::get(Int64Ty, F.BitmapOffset);
        break;
      case layout::FieldRewrite::Zero:
        Value = ConstantInt::get(Int64Ty, 0);
        break;
      }

      createGlobal((F.Data->getName() + "_" + fieldName(I)).str(), Value,
                   layout::DataSection, /*IsConstant=*/true, F.Scope);
      Offset = alignTo(Offset, DL.getABITypeAlign(Value->getType()));
      if (Offset != SL->getElementOffset(I))
        report_fatal_error(Twine("bpf-cov: field ") + fieldName(I) +
                           " would not sit where the record has it");
      Offset += DL.getTypeAllocSize(Value->getType());
    }
    // The record's alignment can leave bytes after its last field (LLVM 18's
    // record: 60 bytes of fields, 64 in all); they are written out, so that
    // the section is the records and nothing else.
    if (uint64_t Tail = SL->getSizeInBytes() - Offset) {
      Type *TailTy = ArrayType::get(Type::getInt8Ty(M.getContext()), Tail);
      createGlobal((F.Data->getName() + "_TailPadding").str(),
                   Constant::getNullValue(TailTy), layout::DataSection,
                   /*IsConstant=*/true, F.Scope);
    }
    LLVM_DEBUG(dbgs() << "bpf-cov: split " << F.Data->getName() << " into "
                      << RecordTy->getNumElements() << " fields\n");
    Emptied.push_back(F.Data);
  }

  auto IsEmptied = [&](const GlobalValue &GV) {
    return llvm::is_contained(Emptied, &GV);
  };
  removeFromUsedLists(M, IsEmptied);
  for (GlobalVariable *Data : Emptied) {
    Data->removeDeadConstantUsers();
    Data->eraseFromParent();
  }
  // Zero-sized MC/DC bitmaps were only referenced by the records.
  const std::optional<std::string> BitmapSection = compat::bitmapSectionName();
  if (BitmapSection)
    for (GlobalVariable &GV : llvm::make_early_inc_range(M.globals()))
      if (GV.getSection() == *BitmapSection) {
        GV.removeDeadConstantUsers();
        if (GV.use_empty())
          GV.eraseFromParent();
      }
}

/// The function-name blob (zlib-compressed unless clang was told otherwise)
/// goes to .rodata.profn unchanged; the runtime copies it into the profile.
void LoadableRewriter::placeNames() {
  if (GlobalVariable *Names =
          M.getGlobalVariable(getInstrProfNamesVarName(), true)) {
    Names->setName(layout::NamesVar);
    placeInSection(Names, layout::NamesSection, SymbolScope::Object);
  }
}

/// .rodata.covmap: the facts the runtime needs to write a profile this LLVM
/// accepts and to find the mapping object, then clang's coverage header.
void LoadableRewriter::emitObjectInfo() {
  LLVMContext &Ctx = M.getContext();
  GlobalVariable *CovMap = M.getGlobalVariable(getCoverageMappingVarName(), true);
  // The values of the head's fields, named as contract.def names them.
  const uint64_t RawVersionValue = INSTR_PROF_RAW_VERSION;
  const uint64_t LLVMMajorValue = LLVM_VERSION_MAJOR;
  const uint64_t CovMapSizeValue =
      CovMap ? DL.getTypeAllocSize(CovMap->getValueType()) : 0;
  const uint64_t ObjectIdValue = Id;
  // One global per field, in contract.def's order, each of its size.
  const std::pair<StringRef, uint64_t> Head[] = {
#define BPFCOV_OBJECT_INFO(Field, Bytes) {layout::Field##Var, Field##Value},
#include "bpfcov/contract.def"
  };
  for (size_t I = 0; I != std::size(Head); ++I) {
    Type *Ty = Type::getIntNTy(Ctx, 8 * layout::ObjectInfoBytes[I]);
    createGlobal(Head[I].first, ConstantInt::get(Ty, Head[I].second),
                 layout::CovMapSection, true, SymbolScope::Object);
  }
  if (CovMap) {
    CovMap->setName(layout::CovMapVar);
    CovMap->setAlignment(Align(8));
    placeInSection(CovMap, layout::CovMapSection, SymbolScope::Object);
  }
  createGlobal(layout::ObjectPathVar,
               ConstantDataArray::getString(Ctx, ObjectPath, true),
               layout::CovMapSection, true, SymbolScope::Object);
}

/// The per-function coverage records (__covrec_*) are for llvm-cov only and
/// live on in the mapping object.
void LoadableRewriter::dropCoverageRecords() {
  const std::string CovFunSection = compat::coverageRecordSectionName();
  auto IsRecord = [&](const GlobalValue &GV) {
    auto *Var = dyn_cast<GlobalVariable>(&GV);
    return Var && Var->getSection() == CovFunSection;
  };
  removeFromUsedLists(M, IsRecord);
  for (GlobalVariable &GV : llvm::make_early_inc_range(M.globals())) {
    if (!IsRecord(GV))
      continue;
    Comdat *C = GV.getComdat();
    GV.eraseFromParent();
    if (C)
      M.getComdatSymbolTable().erase(C->getName());
  }
}

void LoadableRewriter::placeInSection(GlobalVariable *GV, StringRef Section,
                                      SymbolScope Scope) {
  // llvm.used marks a section SHF_GNU_RETAIN; a section that mixes retained
  // and plain globals is split in two of the same name, which libbpf turns
  // into two maps of one name. External globals are kept anyway; the local
  // ones go in llvm.compiler.used below.
  removeFromUsedLists(M, [GV](const GlobalValue &Used) { return &Used == GV; });
  if (Comdat *C = GV->getComdat()) {
    GV->setComdat(nullptr);
    bool Used = false;
    for (GlobalObject &GO : M.global_objects())
      Used |= GO.getComdat() == C;
    if (!Used)
      M.getComdatSymbolTable().erase(C->getName());
  }
  GV->setName(uniqueIdentifier(GV->getName()));
  GV->setSection(Section);
  GV->setLinkage(Scope == SymbolScope::Global ? GlobalValue::ExternalLinkage
                                               : GlobalValue::InternalLinkage);
  GV->setVisibility(GlobalValue::DefaultVisibility);
  GV->setDSOLocal(true);
  GV->setUnnamedAddr(GlobalValue::UnnamedAddr::None);
  compat::moveToEnd(M, GV);
  describeForBTF(GV, Scope);
  // Nothing in the code refers to the object info or the names, and the
  // back end drops unreferenced local globals; llvm.compiler.used keeps them
  // and, unlike llvm.used, sets no section flag.
  if (Scope == SymbolScope::Object)
    appendToCompilerUsed(M, {GV});
}

GlobalVariable *LoadableRewriter::createGlobal(StringRef Name, Constant *Init,
                                               StringRef Section,
                                               bool IsConstant,
                                               SymbolScope Scope) {
  auto *GV = new GlobalVariable(M, Init->getType(), IsConstant,
                                GlobalValue::ExternalLinkage, Init, Name);
  GV->setAlignment(DL.getABITypeAlign(Init->getType()));
  placeInSection(GV, Section, Scope);
  return GV;
}

/// BTF comes from debug info: without a DIGlobalVariable the section gets no
/// BTF DATASEC, its map no BTF id and the skeleton no members. Modules built
/// without -g have no compile unit to attach to and stay without.
void LoadableRewriter::describeForBTF(GlobalVariable *GV, SymbolScope Scope) {
  if (!DIB)
    return;
  DIGlobalVariableExpression *Expr = DIB->createGlobalVariableExpression(
      CU, GV->getName(), /*LinkageName=*/"", CU->getFile(), /*LineNo=*/0,
      debugTypeFor(GV->getValueType()),
      /*IsLocalToUnit=*/Scope == SymbolScope::Object);
  GV->addDebugInfo(Expr);
}

DIType *LoadableRewriter::debugTypeFor(Type *Ty) {
  if (auto *IntTy = dyn_cast<IntegerType>(Ty)) {
    switch (IntTy->getBitWidth()) {
    case 64:
      return DIB->createBasicType("unsigned long long", 64,
                                  dwarf::DW_ATE_unsigned);
    case 32:
      return DIB->createBasicType("unsigned int", 32, dwarf::DW_ATE_unsigned);
    case 16:
      return DIB->createBasicType("unsigned short", 16,
                                  dwarf::DW_ATE_unsigned);
    default:
      break;
    }
  }
  Type *ElemTy = Type::getInt8Ty(M.getContext());
  uint64_t Count = DL.getTypeAllocSize(Ty);
  if (auto *ArrTy = dyn_cast<ArrayType>(Ty)) {
    if (ArrTy->getElementType()->isIntegerTy()) {
      ElemTy = ArrTy->getElementType();
      Count = ArrTy->getNumElements();
    }
  }
  DIType *ElemDI =
      ElemTy->isIntegerTy(8)
          ? DIB->createBasicType("unsigned char", 8, dwarf::DW_ATE_unsigned_char)
          : debugTypeFor(ElemTy);
  uint64_t ElemBits = DL.getTypeAllocSizeInBits(ElemTy);
  return DIB->createArrayType(
      Count * ElemBits, DL.getABITypeAlign(ElemTy).value() * 8, ElemDI,
      DIB->getOrCreateArray({DIB->getOrCreateSubrange(0, Count)}));
}

/// BTF, the kernel and C skeletons accept only C identifiers as variable
/// names; clang's names carry the source path of static functions
/// ("__profc_prog.bpf.c_classify").
std::string LoadableRewriter::uniqueIdentifier(StringRef Name) {
  std::string Id;
  for (char C : Name)
    Id += (isAlnum(C) || C == '_') ? C : '_';
  if (Id.empty() || isDigit(Id[0]))
    Id.insert(0, "_");
  std::string Candidate = Id;
  for (unsigned N = 1;; ++N) {
    GlobalValue *Existing = M.getNamedValue(Candidate);
    if (!Existing || Existing->getName() == Name)
      return Candidate;
    Candidate = Id + "_" + std::to_string(N);
  }
}

} // namespace

PreservedAnalyses LoadablePass::run(Module &M, ModuleAnalysisManager &) {
  return LoadableRewriter(M, ObjectPath).run() ? PreservedAnalyses::none()
                                               : PreservedAnalyses::all();
}

} // namespace bpfcov
