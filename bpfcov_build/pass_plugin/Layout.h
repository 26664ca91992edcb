//===-- Layout.h - The contract between the pass and the runtime -*- C++ -*-===//
//
// What the loadable object looks like to the bpfcov runtime. The facts
// themselves (section and global names, the object info and counters trailer
// fields, numbers) are declared once, in bpfcov/contract.def, which the Python
// runtime and the C helper read too; this header gives them C++ names:
//   BPFCOV_SECTION(Counters, ...)  -> layout::CountersSection
//   BPFCOV_GLOBAL(Trailer, ...)    -> layout::TrailerVar
//   BPFCOV_VALUE / BPFCOV_STRING   -> layout::TrailerMagic, MappingObjectEnv...
//   BPFCOV_OBJECT_INFO, BPFCOV_TRAILER, BPFCOV_BITMAP_TRAILER -> enums of
//   their fields, in order.
// A test builds an object and checks that both sides agree.
//
// Every section becomes one single-entry ARRAY map when libbpf loads the
// object, named after the section (libbpf adds no object prefix to custom
// .data.* / .rodata.* sections).
//
//===----------------------------------------------------------------------===//
#ifndef BPFCOV_LAYOUT_H
#define BPFCOV_LAYOUT_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>

namespace bpfcov::layout {

#define BPFCOV_SECTION(Id, Name)                                               \
  inline constexpr llvm::StringLiteral Id##Section = Name;
#define BPFCOV_GLOBAL(Id, Name) inline constexpr llvm::StringLiteral Id##Var = Name;
#define BPFCOV_VALUE(Id, Value) inline constexpr uint64_t Id = Value;
#define BPFCOV_STRING(Id, Value) inline constexpr llvm::StringLiteral Id = Value;
#include "bpfcov/contract.def"

/// The head of CovMapSection, in order (and each field's size in bytes).
enum class ObjectInfoField : size_t {
#define BPFCOV_OBJECT_INFO(Id, Bytes) Id,
#include "bpfcov/contract.def"
};
inline constexpr unsigned ObjectInfoBytes[] = {
#define BPFCOV_OBJECT_INFO(Id, Bytes) Bytes,
#include "bpfcov/contract.def"
};

/// The u64 fields of the counters trailer (TrailerVar, the last global of
/// CountersSection, see ObjectId.cpp), in order; the mapping object's path,
/// TrailerSize and TrailerMagic follow them.
enum class TrailerField : size_t {
#define BPFCOV_TRAILER(Id) Id,
#include "bpfcov/contract.def"
  Count
};

/// The u64 fields of the bitmaps trailer (BitmapTrailerVar, the last global
/// of BitmapsSection when it has bitmaps), in order; BitmapTrailerSize and
/// BitmapTrailerMagic follow them.
enum class BitmapTrailerField : size_t {
#define BPFCOV_BITMAP_TRAILER(Id) Id,
#include "bpfcov/contract.def"
  Count
};

/// How the loadable mode rewrites one field of a __profd_ record. The field
/// list itself comes from this LLVM's InstrProfData.inc (INSTR_PROF_DATA).
enum class FieldRewrite {
  Copy,          ///< Keep the value clang computed.
  CounterOffset, ///< Byte offset of the function's counters in CountersSection.
  BitmapOffset,  ///< Byte offset of the function's bitmap in BitmapsSection.
  Zero,          ///< A host pointer; meaningless on BPF, written as 0.
};

struct FieldRule {
  llvm::StringLiteral Name;
  FieldRewrite Rewrite;
};

/// Fields not named here are copied.
inline constexpr FieldRule FieldRules[] = {
    {"CounterPtr", FieldRewrite::CounterOffset},
    {"BitmapPtr", FieldRewrite::BitmapOffset},
    {"FunctionPointer", FieldRewrite::Zero},
    {"Values", FieldRewrite::Zero},
    // LLVM >= 23: the counters of GPU offload targets; a BPF program has none.
    {"UniformCounterPtr", FieldRewrite::Zero},
};

inline FieldRewrite rewriteOf(llvm::StringRef Field) {
  for (const FieldRule &Rule : FieldRules)
    if (Rule.Name == Field)
      return Rule.Rewrite;
  return FieldRewrite::Copy;
}

} // namespace bpfcov::layout

#endif // BPFCOV_LAYOUT_H
