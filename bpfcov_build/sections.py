"""The names of a loadable object's coverage sections, of their maps and pins.

What ``bpfcov run`` needs to tell a coverage map by its name and pin it, without the
binary layouts (:mod:`bpfcov_build.layout`), which re-exports these names. All come
from ``contract.def`` (:mod:`bpfcov_build.contract`).
"""

from __future__ import annotations

import enum
from pathlib import Path

from bpfcov_build.contract import SECTIONS, STRINGS, VALUES

__all__ = [
    "GROUP_INFIX",
    "MAP_NAME_LEN",
    "NO_PROGRAM_LOADED",
    "RUN_ROOT",
    "Section",
    "map_name",
    "pin_name",
    "section_of_map",
]

#: libbpf and the kernel keep this many characters of a map name.
MAP_NAME_LEN = VALUES["MapNameLen"]

#: Where ``bpfcov run`` pins a run unless told otherwise: one directory per run,
#: in it one directory per instrumented object, in it one pin per section.
RUN_ROOT = Path(STRINGS["RunRoot"])

#: An empty directory ``bpfcov run`` makes in an object's directory of pins when
#: the object's maps were created but none of its programs loaded (bpffs holds
#: directories and pins only, and no names with a dot).
NO_PROGRAM_LOADED = STRINGS["NoProgramLoaded"]
#: An object's directory of pins in a run directory: ``<n>-btf<btf id>``.
GROUP_INFIX = STRINGS["GroupInfix"]


class Section(enum.StrEnum):
    """The sections of a loadable object, one map each."""

    COUNTERS = SECTIONS["Counters"]
    """Every function's counters (u64), in data-record order, then the trailer."""
    BITMAPS = SECTIONS["Bitmaps"]
    """MC/DC bitmap bytes (LLVM >= 18 with ``-fcoverage-mcdc``)."""
    DATA = SECTIONS["Data"]
    """Per-function data records, raw-profile layout, counter pointers as offsets."""
    NAMES = SECTIONS["Names"]
    """The function-name blob, copied verbatim into the profile."""
    COVMAP = SECTIONS["CovMap"]
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
