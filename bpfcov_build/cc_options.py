"""What bpfcov-cc knows of clang's command line, read from ``driver.def``.

``include/bpfcov/driver.def`` declares each fact once, as one macro call a line
(``BPFCOV_CC_SEPARATE("-o")``): the native launcher includes it as C, this module
reads the same lines as text, so both classify a compiler call by one table.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "ALIASES",
    "BPF_ARCHES",
    "COVERAGE_FLAGS",
    "DRIVER",
    "INPUT_LANGUAGES",
    "INPUT_SUFFIXES",
    "NO_OBJECT",
    "NO_OBJECT_PREFIXES",
    "SEPARATE",
    "STRINGS",
    "VALUES",
]

#: The file, shipped with the package beside ``contract.def``.
DRIVER = Path(__file__).with_name("include") / "bpfcov" / "driver.def"

_CALL = re.compile(r"^BPFCOV_CC_([A-Z_]+)\((.*?)\)(?:\s*/\*.*)?$")
_ARG = re.compile(r'\s*(?:"([^"\\]*)"|(\w+))\s*(?:,|$)')


def _read() -> dict[str, list[tuple[str, ...]]]:
    families: dict[str, list[tuple[str, ...]]] = {}
    for line in DRIVER.read_text().splitlines():
        call = _CALL.match(line)
        if call is None:
            continue
        family, args = call.groups()
        values = tuple(s or w for s, w in _ARG.findall(args))
        families.setdefault(family, []).append(values)
    return families


_FAMILIES = _read()


def _firsts(family: str) -> frozenset[str]:
    return frozenset(args[0] for args in _FAMILIES[family])


def _pairs(family: str) -> dict[str, str]:
    return {args[0]: args[1] for args in _FAMILIES[family]}


#: Options whose value is the next argument.
SEPARATE = _firsts("SEPARATE")
#: Long option → the short one it means (``--output`` → ``-o``).
ALIASES = _pairs("ALIAS")
#: Options, and prefixes of options, after which clang writes no object.
NO_OBJECT = _firsts("NO_OBJECT")
NO_OBJECT_PREFIXES = tuple(args[0] for args in _FAMILIES["NO_OBJECT_PREFIX"])
#: The triple architectures of the BPF target.
BPF_ARCHES = _firsts("BPF_ARCH")
#: Input kind (``C``, ``Asm``, ``IR``, ``Linker``) by suffix, and by ``-x`` language.
INPUT_SUFFIXES = _pairs("SUFFIX")
INPUT_LANGUAGES = _pairs("LANGUAGE")
#: The front end's flags that turn coverage on, in order.
COVERAGE_FLAGS = tuple(args[0] for args in _FAMILIES["COVERAGE_FLAG"])
#: Single facts by identifier (``Prog``, ``BackendMessage``, ``FirstRefusingMajor`` ...).
STRINGS = _pairs("STRING")
VALUES = {name: int(value, 0) for name, value in _pairs("VALUE").items()}
