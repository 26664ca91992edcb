"""Jumps too far for the BPF instruction set, found in BPF assembly (clang ``-S``).

Before ``-mcpu=v4`` a BPF jump holds its offset in 16 bits: at most 32,767
instructions forward, 32,768 back. The back end has no way around that and stops
("Branch target out of insn range") without naming the function. Counting code
makes functions longer, so a program close to the limit can cross it only when
instrumented. :func:`far_jumps` reads the assembly of the same compile, where
every instruction is one line (``ld_imm64``, written ``rN = ... ll``, takes two
slots; a ``.rept`` of inline asm counts as often as it repeats), and names the
functions whose jumps do not fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfcov_build import cc_options

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "BACKEND_MESSAGE",
    "FIRST_REFUSING_MAJOR",
    "MAX_BACKWARD",
    "MAX_FORWARD",
    "FarJump",
    "far_jumps",
    "longest_function",
]

#: What the BPF back end says when a jump does not fit.
BACKEND_MESSAGE = cc_options.STRINGS["BackendMessage"]
#: The first LLVM whose BPF back end says so. LLVM 14's writes the offset cut to 16
#: bits without a word: the jump lands elsewhere.
FIRST_REFUSING_MAJOR = cc_options.VALUES["FirstRefusingMajor"]
MAX_FORWARD = 2**15 - 1
MAX_BACKWARD = -(2**15)

_FUNCTION = re.compile(r"^\s*\.type\s+([^,\s]+),\s*@function")
_LABEL = re.compile(r"^([.\w$]+):")
_JUMP = re.compile(r"\bgoto\s+([.\w$]+)\s*$")
_REPT = re.compile(r"^\.rept\s+(\d+)$")


@dataclass(frozen=True)
class FarJump:
    """The farthest jump of a function that does not fit in 16 bits."""

    function: str
    distance: int  # in instructions, from the one after the jump


def far_jumps(assembly: str) -> list[FarJump]:
    """Every function of ``assembly`` with a jump farther than 16 bits reach."""
    found: list[FarJump] = []
    functions: set[str] = set()
    current: str | None = None
    labels: dict[str, int] = {}
    jumps: list[tuple[int, str]] = []
    slot = 0
    repeats: list[tuple[int, int]] = []  # (slot where a .rept starts, times), innermost last

    def close() -> None:
        worst = 0
        for at, target in jumps:
            if target in labels:
                distance = labels[target] - (at + 1)
                if not MAX_BACKWARD <= distance <= MAX_FORWARD and abs(distance) > abs(worst):
                    worst = distance
        if current is not None and worst:
            found.append(FarJump(current, worst))

    for raw in assembly.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if match := _FUNCTION.match(line):
            functions.add(match.group(1))
            continue
        if match := _LABEL.match(line):
            name = match.group(1)
            if name in functions:
                close()
                current, labels, jumps, slot = name, {}, [], 0
            else:
                labels[name] = slot
            continue
        text = line.strip()
        if current is None or not text:
            continue
        if match := _REPT.match(text):  # inline asm as LLVM 14 prints it
            repeats.append((slot, int(match.group(1))))
            continue
        if text == ".endr" and repeats:
            start, times = repeats.pop()
            slot = start + (slot - start) * times
            continue
        if text.startswith("."):
            continue
        if match := _JUMP.search(text):
            jumps.append((slot, match.group(1)))
        slot += 2 if text.endswith(" ll") else 1
    close()
    return found


def longest_function(obj: Path) -> int:
    """The size of the longest function of BPF object ``obj``, in instructions (0: none)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    insn = 8
    with obj.open("rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            return 0
        sizes = [s["st_size"] for s in symtab.iter_symbols() if s["st_info"]["type"] == "STT_FUNC"]
    return max(sizes, default=0) // insn
