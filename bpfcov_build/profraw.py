"""Read and write LLVM raw instrumentation profiles (``.profraw``).

The bpfcov runtime reads a BPF program's coverage counters out of kernel maps and must
hand ``llvm-profdata merge`` a raw profile of the exact raw version that LLVM major
expects: every llvm-profdata accepts only its own raw version
(``INSTR_PROF_RAW_VERSION``, which ``llvm/ProfileData/InstrProfData.inc`` defines).

Every binary layout is declared once, as data. A :class:`RawLayout` holds one raw
version's header and per-function data record as tables of :class:`Field` rows, one row
per member of ``INSTR_PROF_RAW_HEADER`` / ``INSTR_PROF_DATA`` in
``llvm/ProfileData/InstrProfData.inc``, in file order and named as there.
:data:`LAYOUTS` maps a raw version to its layout; packing and unpacking are driven by
those rows through :mod:`struct`, with no per-field read or write code. Supporting
another raw version is one more :class:`RawLayout` entry.

File layout, as written by :func:`encode` and read by :func:`decode`::

    header | binary ids | data records | pad | counters (u64) | pad
           | [v9 on: bitmap bytes | pad to 8] | names | pad to 8
           | [v10 on: vtable records | pad | vtable names | pad] | value-profile data

v11's uniform counters belong to GPU offload targets; a BPF program has none, and a
profile that has some is refused.

Counters and bitmaps are found through relative pointers: record *i*'s ``CounterPtr``
minus (``CountersDelta`` - *i* x record size) is the byte offset of its counters in the
counters section; ``BitmapPtr`` and ``BitmapDelta`` work the same way (as compiler-rt's
writer and llvm-profdata's reader compute them).

The writer uses the simplest layout llvm-profdata accepts: no binary ids, no paddings around the
counters, ``CountersDelta`` = number of records x record size; ``NamesDelta``,
``FunctionPointer``, ``Values`` and v11's uniform-counter and offload fields all 0.
The names blob (usually zlib-compressed LLVM name data) is copied verbatim in both
directions.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from bpfcov_build import fsutil
from bpfcov_build.errors import FormatError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = [
    "LAYOUTS",
    "RAW_MAGIC",
    "SUPPORTED_VERSIONS",
    "VARIANT_FLAGS",
    "Field",
    "FunctionRecord",
    "RawLayout",
    "RawProfile",
    "Span",
    "decode",
    "encode",
    "layout_for",
    "read_record",
    "write_profraw",
]

RAW_MAGIC = 0xFF6C70726F667281
"""``INSTR_PROF_RAW_MAGIC_64``, "\\xfflprofr\\x81".

On disk (little-endian, 64-bit targets only) ``81 72 66 6f 72 70 6c ff``.
"""

_RAW_MAGIC_32 = 0xFF6C70726F665281  # "lprofR": a profile from a 32-bit target.
_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_U16 = (1 << 16) - 1
_COUNTER = struct.Struct("<Q")  # Front-end instrumentation counters are u64.
_PROFILE_ALIGN = 8  # Names, bitmaps and vtable sections are padded to this.

VARIANT_FLAGS: Mapping[str, int] = {
    "IR_PROF": 1 << 56,
    "CSIR_PROF": 1 << 57,
    "INSTR_ENTRY": 1 << 58,
    "DBG_CORRELATE": 1 << 59,
    "BYTE_COVERAGE": 1 << 60,
    "FUNCTION_ENTRY_ONLY": 1 << 61,
    "MEMPROF": 1 << 62,
    "TEMPORAL_PROF": 1 << 63,
}
"""Named ``VARIANT_MASK_*`` bits of the header's Version word (``InstrProfData.inc``)."""

# Flags under which the counters are not the u64 array this module reads and writes.
_UNSUPPORTED_FLAGS = ("BYTE_COVERAGE",)


# --------------------------------------------------------------------------------------
# Layout tables
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One row of a layout table: a struct member, in file order.

    ``name`` is the member's name in ``InstrProfData.inc`` (empty for padding),
    ``code`` a :mod:`struct` format character (``x`` for padding bytes) and ``count``
    the array length (the number of padding bytes for ``x``). ``key`` is the name the
    code uses when ``name`` differs between versions (v8's ``DataSize`` is v10's
    ``NumData``); it defaults to ``name``.
    """

    name: str
    code: str
    count: int = 1
    key: str = ""

    @property
    def is_padding(self) -> bool:
        """Whether this row is unnamed padding rather than a member."""
        return self.code == "x"

    @property
    def ident(self) -> str:
        """The name packing and unpacking use for this row."""
        return self.key or self.name

    @property
    def fmt(self) -> str:
        """The row's :mod:`struct` format, without byte-order prefix."""
        return self.code if self.count == 1 else f"{self.count}{self.code}"

    @property
    def size(self) -> int:
        """The row's size in bytes."""
        return struct.calcsize("<" + self.fmt)


def _u64(name: str, key: str = "") -> Field:
    return Field(name, "Q", key=key)


def _i64(name: str) -> Field:
    return Field(name, "q")


# Header rows. Every header member is declared uint64_t; the deltas hold address
# differences, so they are read as signed.
_HEADER_V8 = (  # LLVM 14-17
    _u64("Magic"),
    _u64("Version"),
    _u64("BinaryIdsSize"),
    _u64("DataSize", key="NumData"),  # a count of records despite its name
    _u64("PaddingBytesBeforeCounters"),
    _u64("CountersSize", key="NumCounters"),  # a count of counters despite its name
    _u64("PaddingBytesAfterCounters"),
    _u64("NamesSize"),
    _i64("CountersDelta"),
    _u64("NamesDelta"),
    _u64("ValueKindLast"),
)
_HEADER_V9 = (  # LLVM 18: MC/DC bitmaps
    _u64("Magic"),
    _u64("Version"),
    _u64("BinaryIdsSize"),
    _u64("NumData"),
    _u64("PaddingBytesBeforeCounters"),
    _u64("NumCounters"),
    _u64("PaddingBytesAfterCounters"),
    _u64("NumBitmapBytes"),
    _u64("PaddingBytesAfterBitmapBytes"),
    _u64("NamesSize"),
    _i64("CountersDelta"),
    _i64("BitmapDelta"),
    _u64("NamesDelta"),
    _u64("ValueKindLast"),
)
_HEADER_V10 = (  # LLVM 19-22: vtables
    _u64("Magic"),
    _u64("Version"),
    _u64("BinaryIdsSize"),
    _u64("NumData"),
    _u64("PaddingBytesBeforeCounters"),
    _u64("NumCounters"),
    _u64("PaddingBytesAfterCounters"),
    _u64("NumBitmapBytes"),
    _u64("PaddingBytesAfterBitmapBytes"),
    _u64("NamesSize"),
    _i64("CountersDelta"),
    _i64("BitmapDelta"),
    _u64("NamesDelta"),
    _u64("NumVTables"),
    _u64("VNamesSize"),
    _u64("ValueKindLast"),
)
_HEADER_V11 = (  # LLVM 23: uniform counters (of GPU offload targets)
    _u64("Magic"),
    _u64("Version"),
    _u64("BinaryIdsSize"),
    _u64("NumData"),
    _u64("PaddingBytesBeforeCounters"),
    _u64("NumCounters"),
    _u64("PaddingBytesAfterCounters"),
    _u64("NumBitmapBytes"),
    _u64("PaddingBytesAfterBitmapBytes"),
    _u64("NumUniformCounters"),
    _u64("PaddingBytesAfterUniformCounters"),
    _i64("UniformCountersDelta"),
    _u64("NamesSize"),
    _i64("CountersDelta"),
    _i64("BitmapDelta"),
    _u64("NamesDelta"),
    _u64("NumVTables"),
    _u64("VNamesSize"),
    _u64("ValueKindLast"),
)

# Per-function data record (__profd_*) rows, 64-bit targets (IntPtrT = 8 bytes).
# Padding rows stand where the C struct's alignment puts bytes.
_RECORD_V8 = (
    _u64("NameRef"),
    _u64("FuncHash"),
    _i64("CounterPtr"),
    _u64("FunctionPointer"),
    _u64("Values"),
    Field("NumCounters", "I"),
    Field("NumValueSites", "H", 2),  # IPVK_Last + 1
)
_RECORD_V9 = (
    _u64("NameRef"),
    _u64("FuncHash"),
    _i64("CounterPtr"),
    _i64("BitmapPtr"),
    _u64("FunctionPointer"),
    _u64("Values"),
    Field("NumCounters", "I"),
    Field("NumValueSites", "H", 2),  # IPVK_Last + 1
    Field("NumBitmapBytes", "I"),
    Field("", "x", 4),  # the record's alignment (8) rounds 60 bytes up to 64
)
_RECORD_V10 = (
    _u64("NameRef"),
    _u64("FuncHash"),
    _i64("CounterPtr"),
    _i64("BitmapPtr"),
    _u64("FunctionPointer"),
    _u64("Values"),
    Field("NumCounters", "I"),
    Field("NumValueSites", "H", 3),  # IPVK_Last + 1
    Field("", "x", 2),  # NumBitmapBytes' alignment
    Field("NumBitmapBytes", "I"),
)
_RECORD_V11 = (
    _u64("NameRef"),
    _u64("FuncHash"),
    _i64("CounterPtr"),
    _i64("UniformCounterPtr"),
    _i64("BitmapPtr"),
    _u64("FunctionPointer"),
    _u64("Values"),
    Field("NumCounters", "I"),
    Field("NumValueSites", "H", 3),  # IPVK_Last + 1
    Field("OffloadDeviceWaveSize", "H"),
    Field("NumBitmapBytes", "I"),
)

# INSTR_PROF_VTABLE_DATA rows (v10 on). Only their size matters: we write no vtables.
_VTABLE = (
    _u64("VTableNameHash"),
    _u64("VTablePointer"),
    Field("VTableSize", "I"),
    Field("", "x", 4),
)


def _compile(rows: tuple[Field, ...]) -> struct.Struct:
    return struct.Struct("<" + "".join(row.fmt for row in rows))


def _unpack_rows(
    rows: tuple[Field, ...], compiled: struct.Struct, data: bytes, offset: int
) -> dict[str, tuple[int, ...]]:
    """Unpack one struct at ``offset``; each member comes back as a tuple of items."""
    flat = compiled.unpack_from(data, offset)
    out: dict[str, tuple[int, ...]] = {}
    pos = 0
    for row in rows:
        if row.is_padding:
            continue
        out[row.ident] = tuple(flat[pos : pos + row.count])
        pos += row.count
    return out


def _pack_rows(
    rows: tuple[Field, ...],
    compiled: struct.Struct,
    values: Mapping[str, int | tuple[int, ...]],
) -> bytes:
    """Pack one struct; ``values`` must name every member (extra names are ignored)."""
    flat: list[int] = []
    for row in rows:
        if row.is_padding:
            continue
        value = values[row.ident]
        items = value if isinstance(value, tuple) else (value,)
        if len(items) != row.count:
            msg = f"{row.name} needs {row.count} values, got {len(items)}"
            raise FormatError(msg)
        flat.extend(items)
    try:
        return compiled.pack(*flat)
    except struct.error as exc:
        msg = f"a value does not fit its raw profile field: {exc}"
        raise FormatError(msg) from exc


@dataclass(frozen=True)
class RawLayout:
    """The binary layout of one raw profile version (64-bit little-endian targets).

    ``header``, ``record`` and ``vtable_record`` are the member tables of
    ``INSTR_PROF_RAW_HEADER``, ``INSTR_PROF_DATA`` and ``INSTR_PROF_VTABLE_DATA``.
    ``value_kind_last`` is ``IPVK_Last`` (``NumValueSites`` has one more entry).
    ``variant_bits`` is how many top bits of the Version word hold variant flags
    (``VARIANT_MASKS_ALL``).
    """

    version: int
    header: tuple[Field, ...]
    record: tuple[Field, ...]
    value_kind_last: int
    variant_bits: int
    vtable_record: tuple[Field, ...] = ()

    @cached_property
    def header_struct(self) -> struct.Struct:
        """The compiled header struct."""
        return _compile(self.header)

    @cached_property
    def record_struct(self) -> struct.Struct:
        """The compiled data record struct."""
        return _compile(self.record)

    @property
    def header_size(self) -> int:
        """Header size in bytes."""
        return self.header_struct.size

    @property
    def record_size(self) -> int:
        """Data record size in bytes."""
        return self.record_struct.size

    @property
    def vtable_record_size(self) -> int:
        """Size in bytes of one vtable record (0 when the version has none)."""
        return _compile(self.vtable_record).size if self.vtable_record else 0

    @property
    def variant_mask(self) -> int:
        """The bits of the Version word that hold variant flags."""
        return (_U64 >> (64 - self.variant_bits)) << (64 - self.variant_bits)

    @property
    def has_bitmaps(self) -> bool:
        """Whether records carry MC/DC bitmaps (``BitmapPtr``, ``NumBitmapBytes``)."""
        return any(row.ident == "BitmapPtr" for row in self.record)

    @property
    def label(self) -> str:
        """``raw profile version N`` for messages."""
        return f"raw profile version {self.version}"

    def unpack_header(self, data: bytes) -> dict[str, int]:
        """Unpack the header at the start of ``data`` (which must be long enough)."""
        raw = _unpack_rows(self.header, self.header_struct, data, 0)
        return {key: items[0] for key, items in raw.items()}

    def pack_header(self, values: Mapping[str, int]) -> bytes:
        """Pack a header from member values keyed by :attr:`Field.ident`."""
        return _pack_rows(self.header, self.header_struct, values)

    def unpack_record(self, data: bytes, offset: int) -> dict[str, tuple[int, ...]]:
        """Unpack the data record at ``offset``; each member as a tuple of its items."""
        return _unpack_rows(self.record, self.record_struct, data, offset)

    def pack_record(self, values: Mapping[str, int | tuple[int, ...]]) -> bytes:
        """Pack a data record from member values keyed by :attr:`Field.ident`."""
        return _pack_rows(self.record, self.record_struct, values)


_ALL_LAYOUTS = (
    RawLayout(
        version=8,  # LLVM 14-17
        header=_HEADER_V8,
        record=_RECORD_V8,
        value_kind_last=1,
        variant_bits=8,
    ),
    RawLayout(
        version=9,  # LLVM 18
        header=_HEADER_V9,
        record=_RECORD_V9,
        value_kind_last=1,
        variant_bits=32,
    ),
    RawLayout(
        version=10,  # LLVM 19-22
        header=_HEADER_V10,
        record=_RECORD_V10,
        value_kind_last=2,
        variant_bits=32,
        vtable_record=_VTABLE,
    ),
    RawLayout(
        version=11,  # LLVM 23
        header=_HEADER_V11,
        record=_RECORD_V11,
        value_kind_last=2,
        variant_bits=32,
        vtable_record=_VTABLE,
    ),
)

LAYOUTS: dict[int, RawLayout] = {layout.version: layout for layout in _ALL_LAYOUTS}
"""Every raw version bpfcov reads and writes, keyed by raw version.

Which LLVM writes which version is not looked up here (the comments only say which
were tested): the pass records its own LLVM's ``INSTR_PROF_RAW_VERSION``, and that
version selects the row, so a new LLVM that keeps a known version needs no change."""

SUPPORTED_VERSIONS: tuple[int, ...] = tuple(sorted(LAYOUTS))
"""The raw versions :func:`encode` and :func:`decode` accept."""


def layout_for(version: int) -> RawLayout:
    """Return the layout of raw ``version`` (without variant flags).

    Raises :class:`FormatError` for a version this module has no layout for.
    """
    layout = LAYOUTS.get(version)
    if layout is None:
        known = ", ".join(map(str, SUPPORTED_VERSIONS))
        msg = f"unsupported raw profile version {version}; bpfcov knows versions {known}"
        raise FormatError(msg)
    return layout


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionRecord:
    """One function's profile: identity, counters and (v10) MC/DC bitmap bytes.

    ``name_ref`` is the MD5-based hash of the function's PGO name, ``func_hash`` the
    structural hash clang computed, ``num_value_sites`` has ``IPVK_Last + 1`` entries.
    """

    name_ref: int
    func_hash: int
    counters: tuple[int, ...]
    num_value_sites: tuple[int, ...]
    bitmap: bytes = b""


@dataclass(frozen=True)
class RawProfile:
    """A whole raw profile.

    ``names`` is the names section exactly as stored (possibly zlib-compressed LLVM name
    data), without its padding. ``variant_flags`` holds the high bits of the Version
    word (0 for clang's front-end instrumentation).
    Binary ids, vtables and value-profile data are not kept.
    """

    version: int
    records: tuple[FunctionRecord, ...]
    names: bytes
    variant_flags: int = 0


@dataclass(frozen=True)
class Span:
    """Where a data record's pointers point: ``size`` bytes of ``data`` from ``start``.

    The counters or the bitmap bytes of a raw profile, or of one object's part of a
    coverage map (``bpfcov gen``): :func:`read_record` reads a record against both.
    """

    name: str
    """What it is, for errors: ``counters section``, ``.data.profc`` ..."""
    data: bytes
    start: int
    size: int


def read_record(
    rec: Mapping[str, tuple[int, ...]],
    what: str,
    counters: Span,
    counter_offset: int,
    bitmaps: Span,
    bitmap_offset: int,
) -> FunctionRecord:
    """One function's profile from its unpacked data record ``rec`` (``what`` names it).

    The offsets are those of its counters and bitmap bytes from the spans' starts, as
    the caller's format makes them of the record's pointers. Raises
    :class:`FormatError` when it has no counters, or either lies outside its span.
    """
    num_counters = rec["NumCounters"][0]
    if num_counters == 0:
        msg = f"{what} has no counters"
        raise FormatError(msg)
    if (
        counter_offset % _COUNTER.size
        or counter_offset < 0
        or counter_offset + num_counters * _COUNTER.size > counters.size
    ):
        msg = (
            f"{what}: counter offset {counter_offset} with {num_counters} counters lies "
            f"outside the {counters.size}-byte {counters.name}"
        )
        raise FormatError(msg)
    values = struct.unpack_from(f"<{num_counters}Q", counters.data, counters.start + counter_offset)
    bitmap = b""
    num_bytes = rec.get("NumBitmapBytes", (0,))[0]
    if num_bytes:
        if bitmap_offset < 0 or bitmap_offset + num_bytes > bitmaps.size:
            msg = (
                f"{what}: bitmap offset {bitmap_offset} with {num_bytes} bytes lies "
                f"outside the {bitmaps.size}-byte {bitmaps.name}"
            )
            raise FormatError(msg)
        at = bitmaps.start + bitmap_offset
        bitmap = bitmaps.data[at : at + num_bytes]
    return FunctionRecord(
        name_ref=rec["NameRef"][0],
        func_hash=rec["FuncHash"][0],
        counters=tuple(values),
        num_value_sites=tuple(rec["NumValueSites"]),
        bitmap=bitmap,
    )


def _pad(size: int) -> int:
    """Bytes of padding that bring ``size`` to a multiple of the profile alignment."""
    return -size % _PROFILE_ALIGN


def _check_flags(layout: RawLayout, flags: int) -> None:
    if flags & ~layout.variant_mask & _U64:
        msg = (
            f"{layout.label}: Version word bits {flags:#x} are set outside its "
            f"{layout.variant_bits} variant-flag bits"
        )
        raise FormatError(msg)
    for name in _UNSUPPORTED_FLAGS:
        if flags & VARIANT_FLAGS[name]:
            msg = f"{layout.label} with variant flag {name} is not supported"
            raise FormatError(msg)


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _check_record(layout: RawLayout, index: int, rec: FunctionRecord) -> None:
    what = f"record {index} (NameRef {rec.name_ref:#x})"
    problem = ""
    if not 0 <= rec.name_ref <= _U64 or not 0 <= rec.func_hash <= _U64:
        problem = "NameRef and FuncHash must be unsigned 64-bit values"
    elif not 1 <= len(rec.counters) <= _U32:
        problem = f"has {len(rec.counters)} counters; llvm-profdata needs 1 to {_U32}"
    elif len(rec.num_value_sites) != layout.value_kind_last + 1:
        problem = (
            f"has {len(rec.num_value_sites)} NumValueSites entries; "
            f"{layout.label} needs {layout.value_kind_last + 1}"
        )
    elif any(sites != 0 for sites in rec.num_value_sites):
        problem = "has value sites, but no value-profile data can be written"
    elif rec.bitmap and not layout.has_bitmaps:
        problem = f"has MC/DC bitmap bytes, which {layout.label} cannot hold"
    elif len(rec.bitmap) > _U32:
        problem = f"has {len(rec.bitmap)} bitmap bytes, more than a u32 can count"
    if problem:
        msg = f"cannot encode {what}: {problem}"
        raise FormatError(msg)


def encode(profile: RawProfile) -> bytes:
    """Return the complete ``.profraw`` file for ``profile``.

    Layout: header, data records, counters, [bitmap bytes padded to 8], names padded
    to 8. Counters are masked to 64 bits. Raises :class:`FormatError` if the profile
    does not fit its version (wrong number of value sites, bitmaps in v8, ...).
    """
    layout = layout_for(profile.version)
    _check_flags(layout, profile.variant_flags)
    for index, rec in enumerate(profile.records):
        _check_record(layout, index, rec)

    rsize = layout.record_size
    num_data = len(profile.records)
    num_counters = sum(len(rec.counters) for rec in profile.records)
    num_bitmap_bytes = sum(len(rec.bitmap) for rec in profile.records)
    # Counters directly follow the records, bitmaps directly follow the counters.
    counters_delta = num_data * rsize
    bitmap_delta = counters_delta + _COUNTER.size * num_counters

    header = layout.pack_header(
        {
            "Magic": RAW_MAGIC,
            "Version": profile.version | profile.variant_flags,
            "BinaryIdsSize": 0,
            "NumData": num_data,
            "PaddingBytesBeforeCounters": 0,
            "NumCounters": num_counters,
            "PaddingBytesAfterCounters": 0,
            "NumBitmapBytes": num_bitmap_bytes,
            "PaddingBytesAfterBitmapBytes": _pad(num_bitmap_bytes),
            "NumUniformCounters": 0,
            "PaddingBytesAfterUniformCounters": 0,
            "UniformCountersDelta": 0,
            "NamesSize": len(profile.names),
            "CountersDelta": counters_delta,
            "BitmapDelta": bitmap_delta,
            "NamesDelta": 0,
            "NumVTables": 0,
            "VNamesSize": 0,
            "ValueKindLast": layout.value_kind_last,
        }
    )
    records: list[bytes] = []
    counter_off = 0
    bitmap_off = 0
    for index, rec in enumerate(profile.records):
        records.append(
            layout.pack_record(
                {
                    "NameRef": rec.name_ref,
                    "FuncHash": rec.func_hash,
                    "CounterPtr": counters_delta + counter_off - index * rsize,
                    "UniformCounterPtr": 0,
                    "BitmapPtr": bitmap_delta + bitmap_off - index * rsize,
                    "FunctionPointer": 0,
                    "Values": 0,
                    "NumCounters": len(rec.counters),
                    "NumValueSites": rec.num_value_sites,
                    "OffloadDeviceWaveSize": 0,
                    "NumBitmapBytes": len(rec.bitmap),
                }
            )
        )
        counter_off += _COUNTER.size * len(rec.counters)
        bitmap_off += len(rec.bitmap)

    counters = struct.pack(
        f"<{num_counters}Q",
        *(c & _U64 for rec in profile.records for c in rec.counters),
    )
    bitmaps = b"".join(rec.bitmap for rec in profile.records)
    if layout.has_bitmaps:
        bitmaps += bytes(_pad(num_bitmap_bytes))
    names = profile.names + bytes(_pad(len(profile.names)))
    return b"".join((header, *records, counters, bitmaps, names))


def write_profraw(path: Path, profile: RawProfile) -> None:
    """Encode ``profile`` and write it to ``path`` whole, mode 0600, synced.

    :func:`bpfcov_build.fsutil.replace_file` writes it: a reader sees no file (or
    the previous one) or the complete new file, and nothing is left on failure.
    """
    fsutil.replace_file(path, encode(profile), what="raw profile", mode=0o600, durable=True)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def _version_layout(data: bytes) -> tuple[RawLayout, int]:
    """Check magic and Version word; return the layout and the variant flags."""
    if len(data) < 16:
        msg = f"raw profile is {len(data)} bytes, too short for magic and version"
        raise FormatError(msg)
    magic, word = struct.unpack_from("<QQ", data)
    if magic != RAW_MAGIC:
        if magic == int.from_bytes(RAW_MAGIC.to_bytes(8, "little"), "big"):
            msg = "raw profile is big-endian; only little-endian profiles are supported"
        elif magic == _RAW_MAGIC_32:
            msg = "raw profile is from a 32-bit target; only 64-bit ones are supported"
        else:
            msg = f"not an LLVM raw profile: magic {magic:#018x}, want {RAW_MAGIC:#018x}"
        raise FormatError(msg)
    # Version numbers fit in the low 32 bits, which select the layout; that layout's
    # variant mask then says which of the high 32 bits may be set.
    layout = layout_for(word & _U32)
    flags = word & ~_U32 & _U64
    _check_flags(layout, flags)
    return layout, flags


def decode(data: bytes) -> RawProfile:
    """Parse a raw profile of any supported version.

    Counters and bitmaps are located through each record's relative pointer exactly as
    the LLVM reader does. Binary ids, vtables and value-profile data are skipped.
    Raises :class:`FormatError` for anything malformed: bad magic, unknown version,
    truncation, sections larger than the file, pointers outside their section.
    """
    data = bytes(data)
    layout, flags = _version_layout(data)
    if len(data) < layout.header_size:
        msg = (
            f"raw profile truncated: {layout.label} needs a {layout.header_size}-byte "
            f"header, file has {len(data)} bytes"
        )
        raise FormatError(msg)
    hdr = layout.unpack_header(data)

    def get(key: str) -> int:
        return hdr.get(key, 0)

    if get("NumUniformCounters") or get("PaddingBytesAfterUniformCounters"):
        msg = f"{layout.label} with uniform counters (of a GPU offload target) is not supported"
        raise FormatError(msg)

    rsize = layout.record_size
    num_data = get("NumData")
    counters_size = get("NumCounters") * _COUNTER.size
    bitmap_size = get("NumBitmapBytes")
    names_size = get("NamesSize")
    vtables_size = get("NumVTables") * layout.vtable_record_size
    vnames_size = get("VNamesSize")

    # (what, size of the section, bytes skipped after it), in file order.
    sections = (
        ("header", layout.header_size, 0),
        ("binary ids", get("BinaryIdsSize"), 0),
        ("data records", num_data * rsize, get("PaddingBytesBeforeCounters")),
        ("counters", counters_size, get("PaddingBytesAfterCounters")),
        ("bitmap bytes", bitmap_size, get("PaddingBytesAfterBitmapBytes")),
        ("names", names_size, _pad(names_size)),
        ("vtable records", vtables_size, _pad(vtables_size)),
        ("vtable names", vnames_size, _pad(vnames_size)),
    )
    starts: dict[str, int] = {}
    pos = 0
    for what, size, skip in sections:
        starts[what] = pos
        end = pos + size + skip
        if end > len(data):
            msg = (
                f"raw profile truncated or corrupt: {what} ({size} bytes at {pos}"
                f"{f', then {skip} padding bytes' if skip else ''}) end at byte {end}, "
                f"file has {len(data)} bytes"
            )
            raise FormatError(msg)
        pos = end

    counters = Span("counters section", data, starts["counters"], counters_size)
    bitmaps = Span("bitmap section", data, starts["bitmap bytes"], bitmap_size)
    counters_delta = get("CountersDelta")
    bitmap_delta = get("BitmapDelta")
    records: list[FunctionRecord] = []
    for index in range(num_data):
        rec = layout.unpack_record(data, starts["data records"] + index * rsize)
        # A record's pointers are relative to the record itself (LLVM >= 14's reader).
        here = index * rsize
        records.append(
            read_record(
                rec,
                f"record {index} (NameRef {rec['NameRef'][0]:#x})",
                counters,
                rec["CounterPtr"][0] - (counters_delta - here),
                bitmaps,
                rec["BitmapPtr"][0] - (bitmap_delta - here) if "BitmapPtr" in rec else 0,
            )
        )

    names_start = starts["names"]
    return RawProfile(
        version=layout.version,
        records=tuple(records),
        names=data[names_start : names_start + names_size],
        variant_flags=flags,
    )
