"""The coverage mapping of a mapping object: how llvm-cov derives each count.

clang gives a function a counter for some of its regions only; llvm-cov computes
the others as sums and differences of counters (the *expressions* of the
function's ``__llvm_covfun`` record): the code after an ``if`` is the ``if``'s
count minus its ``then`` count, and so on. So counters read from the kernel must
agree with one another: a difference that comes out negative is shown by llvm-cov
as 2^64 - 1 (or 2^63 - 1) runs of code that never ran.

Counters that are atomic (bpfcov-cc's default) agree once the programs are idle,
but a snapshot taken while they run reads each counter at its own moment, and
plain counters (``-fprofile-update=single``) lose increments when CPUs race.
:func:`repair` raises the fewest counters needed for every difference of a
function to be >= 0 again; ``bpfcov gen`` does it and says so.

This module reads what it needs of the records, as clang writes them (coverage
mapping format versions 4 to 7, LLVM 11 and later): per function its name
hash, structural hash, expressions, and which of them are differences.
Source ranges and file names are skipped: llvm-cov reads those itself.

Record layout (``__llvm_covfun``, little-endian, each record 8-aligned)::

    u64 NameRef, u32 DataSize, u64 FuncHash, u64 FilenamesRef, DataSize bytes:
      ULEB NumFiles, NumFiles x ULEB file index,
      ULEB NumExpressions, NumExpressions x (ULEB LHS, ULEB RHS),
      per file: ULEB NumRegions, NumRegions x region

A counter term is ``index << 2 | tag``, tag 0 = zero, 1 = counter ``index``,
2 = expression ``index`` as a difference, 3 = as a sum. A region starts with a
term; a zero term with more bits set names a special region kind (expansion,
skipped, branch with two terms, MC/DC decision or branch with their extra
numbers), then four ULEB numbers give its source range.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfcov_build.errors import FormatError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = [
    "COVFUN_SECTION",
    "FunctionMapping",
    "consistent",
    "parse_covfun",
    "read_mappings",
    "repair",
]

#: The ELF section of the per-function records in a mapping object.
COVFUN_SECTION = "__llvm_covfun"

_HEAD = struct.Struct("<QIQQ")
_RECORD_ALIGN = 8

# Counter terms (llvm::coverage::Counter's encoding).
_TAG_BITS = 2
_TAG_MASK = (1 << _TAG_BITS) - 1
_ZERO, _COUNTER, _SUBTRACT, _ADD = range(4)
# Special regions: a zero term with the expansion bit, or a kind above it.
_EXPANSION_BIT = 1 << _TAG_BITS
_KIND_SHIFT = _TAG_BITS + 1
_CODE, _EXPANSION, _SKIPPED, _GAP, _BRANCH, _MCDC_DECISION, _MCDC_BRANCH = range(7)

#: A counter term as clang encodes it: (tag, index).
Term = tuple[int, int]


@dataclass(frozen=True)
class FunctionMapping:
    """What llvm-cov computes one function's counts from."""

    name_ref: int
    func_hash: int
    expressions: tuple[tuple[Term, Term], ...]
    """Each expression's two operands; whether it adds or subtracts them is said
    by the terms that refer to it."""
    differences: frozenset[int]
    """The expressions some region or expression uses as LHS - RHS."""
    num_counters: int
    """One more than the highest counter index any term names (0 if none)."""


class _Reader:
    """ULEB128 numbers out of one record's data, with truncation as one error."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def uleb(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data) or shift > 63:
                msg = f"{self.what}: coverage record is truncated or malformed"
                raise FormatError(msg)
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def term(self) -> Term:
        encoded = self.uleb()
        return encoded & _TAG_MASK, encoded >> _TAG_BITS


def _function(name_ref: int, func_hash: int, data: bytes, what: str) -> FunctionMapping:
    r = _Reader(data, what)
    files = r.uleb()
    for _ in range(files):
        r.uleb()  # the file's index in the object's file names
    expressions = tuple((r.term(), r.term()) for _ in range(r.uleb()))
    terms: list[Term] = [t for pair in expressions for t in pair]
    for _ in range(files):
        for _ in range(r.uleb()):
            terms.extend(_region(r))
    for tag, index in terms:
        if tag in (_SUBTRACT, _ADD) and index >= len(expressions):
            msg = f"{what}: coverage record refers to a missing expression"
            raise FormatError(msg)
    differences = frozenset(i for tag, i in terms if tag == _SUBTRACT)
    counters = [i for tag, i in terms if tag == _COUNTER]
    return FunctionMapping(
        name_ref, func_hash, expressions, differences, max(counters, default=-1) + 1
    )


def _region(r: _Reader) -> list[Term]:
    """The counter terms of one region; its other fields are read past."""
    encoded = r.uleb()
    terms: list[Term] = []
    if encoded & _TAG_MASK:
        terms.append((encoded & _TAG_MASK, encoded >> _TAG_BITS))
    elif not encoded & _EXPANSION_BIT:
        kind = encoded >> _KIND_SHIFT
        if kind in (_BRANCH, _MCDC_BRANCH):
            terms += [r.term(), r.term()]
            if kind == _MCDC_BRANCH:
                r.uleb(), r.uleb(), r.uleb()  # condition id, true id, false id
        elif kind == _MCDC_DECISION:
            r.uleb(), r.uleb()  # bitmap index, number of conditions
        elif kind not in (_CODE, _SKIPPED, _GAP):
            msg = f"{r.what}: coverage region of unknown kind {kind}"
            raise FormatError(msg)
    for _ in range(4):  # line delta, column start, lines, column end
        r.uleb()
    return terms


def parse_covfun(data: bytes, what: str = "__llvm_covfun") -> list[FunctionMapping]:
    """Every function record of a ``__llvm_covfun`` section's bytes."""
    out = []
    pos = 0
    while pos + _HEAD.size <= len(data):
        name_ref, size, func_hash, _filenames = _HEAD.unpack_from(data, pos)
        if name_ref == size == func_hash == 0:  # padding at the end
            break
        start = pos + _HEAD.size
        if start + size > len(data):
            msg = f"{what}: coverage record runs past the section"
            raise FormatError(msg)
        out.append(_function(name_ref, func_hash, data[start : start + size], what))
        pos = -(-(start + size) // _RECORD_ALIGN) * _RECORD_ALIGN
    return out


def read_mappings(paths: Iterable[Path]) -> dict[tuple[int, int], FunctionMapping]:
    """The function records of mapping objects, by (name hash, structural hash)."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    out: dict[tuple[int, int], FunctionMapping] = {}
    for path in paths:
        try:
            with path.open("rb") as f:
                # One section per record where each is in a comdat (the mapping
                # object's are), or one for all (linked objects).
                sections = [
                    s.data() for s in ELFFile(f).iter_sections() if s.name == COVFUN_SECTION
                ]
        except FileNotFoundError as exc:
            msg = f"{path}: no such mapping object"
            raise NotFoundError(msg) from exc
        except (OSError, ELFError) as exc:
            msg = f"{path}: not an ELF object ({exc})"
            raise FormatError(msg) from exc
        for data in sections:
            for fn in parse_covfun(data, f"{path}: {COVFUN_SECTION}"):
                out.setdefault((fn.name_ref, fn.func_hash), fn)
    return out


class _Values:
    """The value of each term of one function over given counters, memoised."""

    def __init__(self, fn: FunctionMapping, counters: list[int]) -> None:
        self.fn = fn
        self.counters = counters
        self.memo: dict[Term, int] = {}

    def of(self, term: Term, depth: int = 0) -> int:
        tag, index = term
        if tag == _COUNTER:
            return self.counters[index] if index < len(self.counters) else 0
        if tag == _ZERO or depth > len(self.fn.expressions):  # a cycle: malformed
            return 0
        if term not in self.memo:
            lhs, rhs = self.fn.expressions[index]
            left, right = self.of(lhs, depth + 1), self.of(rhs, depth + 1)
            self.memo[term] = left - right if tag == _SUBTRACT else left + right
        return self.memo[term]

    def shortfall(self, index: int) -> int:
        """How much expression ``index``, as a difference, is below 0 (0 if not)."""
        lhs, rhs = self.fn.expressions[index]
        return max(0, self.of(rhs) - self.of(lhs))


def consistent(fn: FunctionMapping, counters: list[int]) -> bool:
    """Whether no difference of ``fn`` is negative over ``counters``."""
    values = _Values(fn, counters)
    return not any(values.shortfall(i) for i in fn.differences)


def _raise(term: Term, by: int, fn: FunctionMapping, counters: list[int], depth: int = 0) -> bool:
    """Adds ``by`` to the value of ``term`` by raising one counter it sums; False if none."""
    tag, index = term
    if tag == _COUNTER:
        if index >= len(counters):
            return False
        counters[index] += by
        return True
    if tag == _ZERO or depth > len(fn.expressions):
        return False
    lhs, rhs = fn.expressions[index]
    if _raise(lhs, by, fn, counters, depth + 1):
        return True
    return tag == _ADD and _raise(rhs, by, fn, counters, depth + 1)


def repair(fn: FunctionMapping, counters: list[int]) -> int:
    """Raises counters until every difference of ``fn`` is >= 0; how many it raised.

    Each round takes the first negative difference and raises the first counter
    its minuend sums by the shortfall. That can only make differences that
    subtract the raised counter negative, which later rounds fix further up the
    function. Gives up after a bounded number of rounds (malformed mappings).
    """
    before = list(counters)
    order = sorted(fn.differences)
    for _ in range(4 * (len(fn.expressions) + 1) * (len(counters) + 1)):
        values = _Values(fn, counters)
        negative = next((i for i in order if values.shortfall(i)), None)
        if negative is None:
            break
        lhs, _ = fn.expressions[negative]
        if not _raise(lhs, values.shortfall(negative), fn, counters):
            break
    return sum(1 for a, b in zip(before, counters, strict=True) if a != b)
