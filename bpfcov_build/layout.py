"""The contract between the bpf-cov pass and the runtime: sections, maps, object info.

The pass (``pass_plugin/Layout.h``) writes an instrumented ``.bpf.o`` with these
sections, whose names, fields and numbers both read from ``contract.def``
(:mod:`bpfcov_build.contract`); libbpf turns each into a single-entry ARRAY map
named after the section, with no object prefix, truncated to 15 characters. The
per-function records in ``.rodata.profd`` have exactly the layout of the raw
profile's data record of the LLVM that compiled the object
(:mod:`bpfcov_build.profraw` declares those). ``tests/test_layout.py`` builds an
object and checks both sides agree.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfcov_build.contract import BITMAP_TRAILER, GLOBALS, STRINGS, TRAILER, VALUES
from bpfcov_build.contract import OBJECT_INFO as _INFO_FIELDS
from bpfcov_build.errors import FormatError, NotFoundError
from bpfcov_build.profraw import Field

# The names of sections, maps and pins, re-exported: they are part of this contract.
from bpfcov_build.sections import (
    GROUP_INFIX,
    MAP_NAME_LEN,
    NO_PROGRAM_LOADED,
    RUN_ROOT,
    Section,
    map_name,
    pin_name,
    section_of_map,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "BITMAPS_TRAILER",
    "BITMAPS_TRAILER_MAGIC",
    "COUNTERS_TRAILER",
    "COUNTERS_TRAILER_MAGIC",
    "COVMAP_VAR",
    "GROUP_INFIX",
    "MAPPING_INFO_SECTION",
    "MAP_NAME_LEN",
    "NAMES_VAR",
    "NO_PROGRAM_LOADED",
    "OBJECT_INFO",
    "PART_ALIGN",
    "RUN_ROOT",
    "BitmapsPart",
    "CountersPart",
    "MappingImage",
    "ObjectInfo",
    "Section",
    "map_name",
    "mapping_object_image",
    "mapping_object_info",
    "parse_bitmaps_parts",
    "parse_counters_parts",
    "parse_object_info",
    "parse_object_infos",
    "pin_name",
    "section_of_map",
]

#: The fixed head of ``.rodata.covmap``, in section order. The coverage-mapping
#: header (``CovMapSize`` bytes, 8-aligned) follows, then the NUL-terminated path of
#: the mapping object. Names are those of the globals the pass emits.
_UNSIGNED = {4: "I", 8: "Q"}
OBJECT_INFO: tuple[tuple[str, Field], ...] = tuple(
    (GLOBALS[name], Field(name, _UNSIGNED[size])) for name, size in _INFO_FIELDS.items()
)
_OBJECT_INFO = struct.Struct("<" + "".join(row.fmt for _, row in OBJECT_INFO))
#: The covmap global's name in the loadable object.
COVMAP_VAR = GLOBALS["CovMap"]
#: The name blob's global in the loadable object (clang's ``__llvm_prf_nm``).
NAMES_VAR = GLOBALS["Names"]
#: The mapping object's section (and global) holding the same head as
#: ``.rodata.covmap``, with no coverage header and an empty path.
MAPPING_INFO_SECTION = STRINGS["MappingInfoSection"]


@dataclass(frozen=True)
class ObjectInfo:
    """What ``.rodata.covmap`` of one loaded object says about it."""

    raw_version: int
    llvm_major: int
    covmap: bytes
    object_path: str
    object_id: int = 0
    """The id both objects of one compile carry (``pass_plugin/ObjectId.cpp``)."""

    @property
    def covmap_version(self) -> int:
        """The coverage-mapping format version in clang's header (0 if absent)."""
        if len(self.covmap) < 16:
            return 0
        return int.from_bytes(self.covmap[12:16], "little")


#: Objects linked into one (``bpftool gen object``) keep their sections in link
#: order: ``.rodata.covmap`` then holds one object info per object linked, each
#: starting 8-aligned, and every other section holds the objects' parts one after
#: the other, each part's offsets counting from its own start.
PART_ALIGN = VALUES["PartAlign"]


#: The end of each object's part of ``.data.profc``, after its counters: the
#: counters map alone says which object it is (a loader may create no other
#: coverage map). Fields in order, then the mapping object's path, NUL-terminated
#: and zero-padded to 8 bytes, then ``TrailerSize`` (all of it) and the magic.
COUNTERS_TRAILER: tuple[Field, ...] = tuple(Field(name, "Q") for name in TRAILER)
_TRAILER_HEAD = struct.Struct("<" + "".join(f.fmt for f in COUNTERS_TRAILER))
_TRAILER_TAIL = struct.Struct("<QQ")  # TrailerSize, Magic
#: The last word of every object's part of ``.data.profc``: "BPFCOVT1".
COUNTERS_TRAILER_MAGIC = VALUES["TrailerMagic"]
#: The end of each object's part of ``.data.profbm`` (objects with MC/DC bitmaps
#: only), after its bitmaps: the fields, then its size and the magic "BPFCOVB1".
BITMAPS_TRAILER: tuple[Field, ...] = tuple(Field(name, "Q") for name in BITMAP_TRAILER)
_BITMAPS_HEAD = struct.Struct("<" + "".join(f.fmt for f in BITMAPS_TRAILER))
BITMAPS_TRAILER_MAGIC = VALUES["BitmapTrailerMagic"]


@dataclass(frozen=True)
class CountersPart:
    """One object's part of a ``.data.profc`` value: its counters and trailer."""

    start: int
    """Where its counters start in the value (the records' offsets count from here)."""
    object_id: int
    raw_version: int
    llvm_major: int
    num_records: int
    counters_size: int
    bitmap_size: int
    object_path: str


@dataclass(frozen=True)
class BitmapsPart:
    """One object's part of a ``.data.profbm`` value: its MC/DC bitmaps."""

    start: int
    """Where its bitmaps start in the value (the records' offsets count from here)."""
    object_id: int
    bitmap_size: int


def _parts(
    value: bytes,
    section: Section,
    head: struct.Struct,
    magic: int,
    names: tuple[str, ...],
    size_field: str,
) -> list[tuple[int, dict[str, int], bytes]]:
    """Each object's part of a map value whose parts end with a trailer, in order.

    For each: where the part starts, its trailer's fields, and the bytes between
    those fields and the trailer's size word.

    Read from the end: a trailer's last two words are its size and ``magic``, and the
    part's own bytes (``size_field`` of them) come just before it.
    """
    parts: list[tuple[int, dict[str, int], bytes]] = []
    end = len(value)
    missing = f"{section} has no bpfcov trailer; was it built by an older bpfcov-cc?"
    while end > 0:
        if end < _TRAILER_TAIL.size + head.size:
            raise FormatError(missing)
        size, found = _TRAILER_TAIL.unpack_from(value, end - _TRAILER_TAIL.size)
        if found != magic or size > end or size < head.size + _TRAILER_TAIL.size:
            raise FormatError(missing)
        trailer = end - size
        fields = dict(zip(names, head.unpack_from(value, trailer), strict=True))
        start = trailer - fields[size_field]
        if start < 0:
            msg = f"{section}: a trailer counts more bytes than the map holds"
            raise FormatError(msg)
        parts.append((start, fields, value[trailer + head.size : end - _TRAILER_TAIL.size]))
        end = start
    return parts[::-1]


def parse_counters_parts(value: bytes) -> tuple[CountersPart, ...]:
    """The parts of a ``.data.profc`` value, in link order (one unless linked)."""
    return tuple(
        CountersPart(
            start=start,
            object_id=named["ObjectId"],
            raw_version=named["RawVersion"],
            llvm_major=named["LLVMMajor"],
            num_records=named["NumRecords"],
            counters_size=named["CountersSize"],
            bitmap_size=named["BitmapSize"],
            object_path=text.partition(b"\0")[0].decode("utf-8", "surrogateescape"),
        )
        for start, named, text in _parts(
            value, Section.COUNTERS, _TRAILER_HEAD, COUNTERS_TRAILER_MAGIC, TRAILER,
            "CountersSize",
        )
    )  # fmt: skip


def parse_bitmaps_parts(value: bytes) -> tuple[BitmapsPart, ...]:
    """The parts of a ``.data.profbm`` value, in link order (one unless linked)."""
    return tuple(
        BitmapsPart(start=start, object_id=named["ObjectId"], bitmap_size=named["BitmapSize"])
        for start, named, _ in _parts(
            value, Section.BITMAPS, _BITMAPS_HEAD, BITMAPS_TRAILER_MAGIC, BITMAP_TRAILER,
            "BitmapSize",
        )
    )  # fmt: skip


def parse_object_infos(value: bytes) -> tuple[ObjectInfo, ...]:
    """Reads the value of the ``.rodata.covmap`` map (or section).

    One object info per object linked into the loaded one: one, unless objects were
    linked.
    """
    infos = []
    offset = 0
    while True:
        info, end = _parse_object_info_at(value, offset)
        infos.append(info)
        offset = -(-end // PART_ALIGN) * PART_ALIGN
        if not any(value[offset:]):
            return tuple(infos)


def parse_object_info(value: bytes) -> ObjectInfo:
    """The first (usually the only) object info of a ``.rodata.covmap`` value."""
    return parse_object_infos(value)[0]


def _parse_object_info_at(value: bytes, offset: int) -> tuple[ObjectInfo, int]:
    """The object info at ``offset`` of a ``.rodata.covmap`` value, and where it ends."""
    if len(value) - offset < _OBJECT_INFO.size:
        msg = f"{Section.COVMAP} is {len(value)} bytes, too short for bpfcov's object info"
        raise FormatError(msg)
    named = dict(zip(_INFO_FIELDS, _OBJECT_INFO.unpack_from(value, offset), strict=True))
    covmap_size = named["CovMapSize"]
    start = offset + _OBJECT_INFO.size
    path_start = start + covmap_size
    if path_start > len(value):
        msg = f"{Section.COVMAP} says its coverage header has {covmap_size} bytes, more than it has"
        raise FormatError(msg)
    path, nul, _ = value[path_start:].partition(b"\0")
    if not nul:
        msg = f"{Section.COVMAP} has no NUL-terminated object path"
        raise FormatError(msg)
    info = ObjectInfo(
        raw_version=named["RawVersion"],
        llvm_major=named["LLVMMajor"],
        covmap=bytes(value[start:path_start]),
        object_path=path.decode("utf-8", "surrogateescape"),
        object_id=named["ObjectId"],
    )
    return info, path_start + len(path) + 1


@dataclass(frozen=True)
class MappingImage:
    """A mapping object's info, data records and name blob.

    ``bpfcov gen`` reads them when a loader did not create an object's static maps.
    """

    info: ObjectInfo
    records: bytes
    """clang's data records, in order (their pointers are unrelocated: unused)."""
    names: bytes


def mapping_object_image(path: Path) -> MappingImage:
    """The info, data records and names of a mapping object (``X.bpf.obj``)."""
    sections = _mapping_sections(path, (MAPPING_INFO_SECTION, *_MAPPING_STATIC))
    info = sections[MAPPING_INFO_SECTION]
    if not info:
        msg = f"{path}: not a mapping object built by bpfcov-cc (no {MAPPING_INFO_SECTION})"
        raise FormatError(msg)
    records, names = (sections[name] for name in _MAPPING_STATIC)
    return MappingImage(parse_object_info(info), records, names)


#: clang's sections of the data records and the name blob (one per comdat).
_MAPPING_STATIC = ("__llvm_prf_data", "__llvm_prf_names")


def _mapping_sections(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of each named section of ``path``, all of that name in order."""
    # pyelftools is imported here, not at start-up: bpfcov run never reads an ELF.
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    found = dict.fromkeys(names, b"")
    try:
        with path.open("rb") as f:
            for section in ELFFile(f).iter_sections():
                if section.name in found:
                    found[section.name] += section.data()
    except FileNotFoundError as exc:
        msg = f"{path}: no such object; rebuild it with bpfcov-cc or give --object"
        raise NotFoundError(msg) from exc
    except (OSError, ELFError) as exc:
        msg = f"{path}: not an ELF object ({exc})"
        raise FormatError(msg) from exc
    return found


def mapping_object_info(path: Path) -> ObjectInfo:
    """What a mapping object (``X.bpf.obj``) records of the LLVM that built it."""
    data = _mapping_sections(path, (MAPPING_INFO_SECTION,))[MAPPING_INFO_SECTION]
    if not data:
        msg = f"{path}: not a mapping object built by bpfcov-cc (no {MAPPING_INFO_SECTION})"
        raise FormatError(msg)
    return parse_object_info(data)
