"""The contract between the bpf-cov pass and the runtime: sections, maps, object info.

The pass (``pass_plugin/Layout.h``) writes an instrumented ``.bpf.o`` with these
sections; libbpf turns each into a single-entry ARRAY map named after the section,
with no object prefix, truncated to 15 characters. The per-function records in
``.rodata.profd`` have exactly the layout of the raw profile's data record of the
LLVM that compiled the object (:mod:`bpfcov_build.profraw` declares those).
``tests/test_layout.py`` builds an object and checks both sides agree.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from pathlib import Path

from bpfcov_build.errors import FormatError, NotFoundError
from bpfcov_build.profraw import Field

__all__ = [
    "MAPPING_INFO_SECTION",
    "MAP_NAME_LEN",
    "NO_PROGRAM_LOADED",
    "OBJECT_INFO",
    "PART_ALIGN",
    "RUN_ROOT",
    "ObjectInfo",
    "Section",
    "map_name",
    "mapping_object_info",
    "parse_object_info",
    "parse_object_infos",
    "pin_name",
    "section_of_map",
]

#: libbpf and the kernel keep this many characters of a map name.
MAP_NAME_LEN = 15

#: Where ``bpfcov run`` pins a run unless told otherwise: one directory per run,
#: in it one directory per instrumented object, in it one pin per section.
RUN_ROOT = Path("/sys/fs/bpf/bpfcov")

#: An empty directory ``bpfcov run`` makes in an object's directory of pins when
#: the object's maps were created but none of its programs loaded (bpffs holds
#: directories and pins only, and no names with a dot).
NO_PROGRAM_LOADED = "no-program-loaded"


class Section(enum.StrEnum):
    """The sections of a loadable object, one map each."""

    COUNTERS = ".data.profc"
    """Every function's counters (u64), in data-record order."""
    BITMAPS = ".data.profbm"
    """MC/DC bitmap bytes (LLVM >= 18 with ``-fcoverage-mcdc``)."""
    DATA = ".rodata.profd"
    """Per-function data records, raw-profile layout, counter pointers as offsets."""
    NAMES = ".rodata.profn"
    """The function-name blob, copied verbatim into the profile."""
    COVMAP = ".rodata.covmap"
    """Object info (:data:`OBJECT_INFO`), then clang's coverage-mapping header."""


def map_name(section: Section) -> str:
    """The name libbpf gives the map of ``section``."""
    return section.value[:MAP_NAME_LEN]


_BY_MAP_NAME = {map_name(s): s for s in Section}


def section_of_map(name: str) -> Section | None:
    """The coverage section a map of this (kernel) name was made from, if any."""
    return _BY_MAP_NAME.get(name)


def pin_name(section: Section) -> str:
    """The file name bpftool's ``pinmaps`` gives that map (dots become ``_``)."""
    return map_name(section).replace(".", "_")


#: The fixed head of ``.rodata.covmap``, in section order. The coverage-mapping
#: header (``CovMapSize`` bytes, 8-aligned) follows, then the NUL-terminated path of
#: the mapping object. Names are those of the globals the pass emits.
OBJECT_INFO: tuple[tuple[str, Field], ...] = (
    ("__bpfcov_raw_version", Field("RawVersion", "Q")),
    ("__bpfcov_llvm_major", Field("LLVMMajor", "I")),
    ("__bpfcov_covmap_size", Field("CovMapSize", "I")),
)
_OBJECT_INFO = struct.Struct("<" + "".join(row.fmt for _, row in OBJECT_INFO))
#: The covmap global's name in the loadable object.
COVMAP_VAR = "__bpfcov_covmap"
#: The name blob's global in the loadable object (clang's ``__llvm_prf_nm``).
NAMES_VAR = "__bpfcov_names"
#: The mapping object's section (and global) holding the same head as
#: ``.rodata.covmap``, with no coverage header and an empty path.
MAPPING_INFO_SECTION = ".bpfcov.info"
#: The mapping object's path, as recorded by ``bpfcov-cc``.
OBJECT_PATH_VAR = "__bpfcov_object_path"


@dataclass(frozen=True)
class ObjectInfo:
    """What ``.rodata.covmap`` of one loaded object says about it."""

    raw_version: int
    llvm_major: int
    covmap: bytes
    object_path: str

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
PART_ALIGN = 8


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
    raw_version, llvm_major, covmap_size = _OBJECT_INFO.unpack_from(value, offset)
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
        raw_version=raw_version,
        llvm_major=llvm_major,
        covmap=bytes(value[start:path_start]),
        object_path=path.decode("utf-8", "surrogateescape"),
    )
    return info, path_start + len(path) + 1


def mapping_object_info(path: Path) -> ObjectInfo:
    """What a mapping object (``X.bpf.obj``) records of the LLVM that built it."""
    # pyelftools is imported here, not at start-up: bpfcov run never reads an ELF.
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with path.open("rb") as f:
            section = ELFFile(f).get_section_by_name(MAPPING_INFO_SECTION)
            data = section.data() if section is not None else None
    except FileNotFoundError as exc:
        msg = f"{path}: no such object; rebuild it with bpfcov-cc or give --object"
        raise NotFoundError(msg) from exc
    except (OSError, ELFError) as exc:
        msg = f"{path}: not an ELF object ({exc})"
        raise FormatError(msg) from exc
    if data is None:
        msg = f"{path}: not a mapping object built by bpfcov-cc (no {MAPPING_INFO_SECTION})"
        raise FormatError(msg)
    return parse_object_info(data)
