"""The facts the pass, its C helper and the runtime share, read from ``contract.def``.

``include/bpfcov/contract.def`` declares each fact once, as one macro call a line
(``BPFCOV_SECTION(Counters, ".data.profc")``): the pass and ``save.h`` include it
as C, this module reads the same lines as text. Each family is a dict from the
call's identifier to its literal, in the file's order.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "BITMAP_TRAILER",
    "CONTRACT",
    "GLOBALS",
    "OBJECT_INFO",
    "SECTIONS",
    "STRINGS",
    "TRAILER",
    "VALUES",
]

#: The file, shipped with the package beside ``save.h``.
CONTRACT = Path(__file__).with_name("include") / "bpfcov" / "contract.def"

_CALL = re.compile(r"^BPFCOV_([A-Z_]+)\((\w+)(?:, (\"[^\"\\]*\"|0x[0-9a-fA-F]+|\d+))?\)")


def _read() -> dict[str, dict[str, str | int | None]]:
    families: dict[str, dict[str, str | int | None]] = {}
    for line in CONTRACT.read_text().splitlines():
        call = _CALL.match(line)
        if call is None:
            continue
        family, name, literal = call.groups()
        value: str | int | None = None
        if literal is not None:
            value = literal[1:-1] if literal.startswith('"') else int(literal, 0)
        families.setdefault(family, {})[name] = value
    return families


def _strings(family: dict[str, str | int | None]) -> dict[str, str]:
    return {name: value for name, value in family.items() if isinstance(value, str)}


def _ints(family: dict[str, str | int | None]) -> dict[str, int]:
    return {name: value for name, value in family.items() if isinstance(value, int)}


_FAMILIES = _read()
#: Section of a loadable object, by identifier (``Counters`` → ``.data.profc``).
SECTIONS = _strings(_FAMILIES["SECTION"])
#: The globals the pass emits, by identifier.
GLOBALS = _strings(_FAMILIES["GLOBAL"])
#: The head of ``.rodata.covmap``: field → size in bytes, in order.
OBJECT_INFO = _ints(_FAMILIES["OBJECT_INFO"])
#: The u64 fields of the counters trailer, in order.
TRAILER = tuple(_FAMILIES["TRAILER"])
#: The u64 fields of the bitmaps trailer, in order.
BITMAP_TRAILER = tuple(_FAMILIES["BITMAP_TRAILER"])
#: Numbers (``TrailerMagic``, ``MinLLVMMajor`` ...).
VALUES = _ints(_FAMILIES["VALUE"])
#: Strings (``RunRoot``, ``MappingObjectEnv`` ...).
STRINGS = _strings(_FAMILIES["STRING"])
