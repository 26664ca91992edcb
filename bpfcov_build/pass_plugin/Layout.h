//===-- Layout.h - The contract between the pass and the runtime -*- C++ -*-===//
//
// What the loadable object looks like to the bpfcov runtime. The Python
// module bpfcov_build/layout.py declares the same facts; a test builds an
// object and checks that both sides agree.
//
// Every section below becomes one single-entry ARRAY map when libbpf loads
// the object, named after the section (libbpf adds no object prefix to
// custom .data.* / .rodata.* sections).
//
//===----------------------------------------------------------------------===//
#ifndef BPFCOV_LAYOUT_H
#define BPFCOV_LAYOUT_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace bpfcov::layout {

/// Counters: every function's __profc_ array, in data-record order, 8-byte
/// aligned and contiguous. Written by the programs.
inline constexpr llvm::StringLiteral CountersSection = ".data.profc";
/// MC/DC bitmap bytes (LLVM >= 18 with -fcoverage-mcdc), in record order.
inline constexpr llvm::StringLiteral BitmapSection = ".data.profbm";
/// Per-function data records, each field a scalar global, laid out exactly
/// like the raw profile's data record of this LLVM.
inline constexpr llvm::StringLiteral DataSection = ".rodata.profd";
/// The (usually zlib-compressed) function-name blob, copied verbatim.
inline constexpr llvm::StringLiteral NamesSection = ".rodata.profn";
/// What the runtime needs to know about the object, then the coverage
/// mapping header; see the globals below.
inline constexpr llvm::StringLiteral CovMapSection = ".rodata.covmap";

/// In the mapping object: the same object info as CovMapSection starts with
/// (raw version, LLVM major, a covmap size of 0, an empty path), so that the
/// runtime can tell which LLVM an llvm-cov object needs.
inline constexpr llvm::StringLiteral MappingInfoSection = ".bpfcov.info";
inline constexpr llvm::StringLiteral MappingInfoVar = "__bpfcov_info";

/// The name blob's global (clang's __llvm_prf_nm): nothing named __llvm_*
/// stays in the loadable object.
inline constexpr llvm::StringLiteral NamesVar = "__bpfcov_names";

/// The globals of CovMapSection, in section order:
///   u64 raw profile version | u32 LLVM major | u32 covmap size |
///   u64 object id | covmap bytes (8-aligned) | NUL-terminated path of the
///   mapping object.
inline constexpr llvm::StringLiteral RawVersionVar = "__bpfcov_raw_version";
inline constexpr llvm::StringLiteral LLVMMajorVar = "__bpfcov_llvm_major";
inline constexpr llvm::StringLiteral CovMapSizeVar = "__bpfcov_covmap_size";
inline constexpr llvm::StringLiteral ObjectIdVar = "__bpfcov_object_id";

/// The last global of CountersSection, after every function's counters, so
/// that the counters map alone says which object it belongs to (see
/// ObjectId.cpp). u64 fields, then the mapping object's path, NUL-terminated
/// and zero-padded to 8 bytes, then u64 TrailerSize (all of it, in bytes) and
/// u64 Magic, last:
///   ObjectId | RawVersion | LLVMMajor | NumRecords | CountersSize |
///   BitmapSize | path | TrailerSize | Magic
inline constexpr llvm::StringLiteral CountersTrailerVar = "__bpfcov_trailer";
inline constexpr uint64_t CountersTrailerMagic = 0x3154564f43465042; // "BPFCOVT1"
inline constexpr llvm::StringLiteral CovMapVar = "__bpfcov_covmap";
inline constexpr llvm::StringLiteral ObjectPathVar = "__bpfcov_object_path";

/// How the loadable mode rewrites one field of a __profd_ record. The field
/// list itself comes from this LLVM's InstrProfData.inc (INSTR_PROF_DATA).
enum class FieldRewrite {
  Copy,          ///< Keep the value clang computed.
  CounterOffset, ///< Byte offset of the function's counters in CountersSection.
  BitmapOffset,  ///< Byte offset of the function's bitmap in BitmapSection.
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
