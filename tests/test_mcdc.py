"""MC/DC coverage (LLVM >= 18, -fcoverage-mcdc): bitmaps from the kernel to llvm-cov."""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

import pytest
from support import EXAMPLES, bpfcov, build, llvm_cov, loaded, mcdc_majors

from bpfcov_build import bpf

if TYPE_CHECKING:
    from pathlib import Path

ACL = EXAMPLES / "mcdc" / "acl.bpf.c"
MCDC_MAJORS = mcdc_majors()
XDP_DROP, XDP_PASS = 1, 2
TCP, UDP = 6, 17


def packet(proto: int, dport: int) -> bytes:
    eth = bytes(12) + struct.pack("!H", 0x0800)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, proto, 0, bytes(4), bytes(4))
    l4 = struct.pack("!HHIIBBHHH", 4000, dport, 0, 0, 0x50, 0, 0, 0, 0)
    return eth + ip + l4


# (proto, port, allow_remote_login) → the conditions llvm-cov shows for
# `ip->protocol == TCP && (port == 22 || port == 23) && !allow_remote_login`:
# T/F where evaluated, "-" where short-circuited; then the decision.
VECTORS = {
    (TCP, 22, 0): ("T", "T", "-", "T", "T"),
    (UDP, 22, 0): ("F", "-", "-", "-", "F"),
    (TCP, 80, 0): ("T", "F", "F", "-", "F"),
    (TCP, 23, 0): ("T", "F", "T", "T", "T"),
    (TCP, 22, 1): ("T", "T", "-", "F", "F"),
}


def run_acl(obj: Path, inputs: list[tuple[int, int, int]], profile: Path) -> None:
    with loaded(obj) as loaded_obj:
        bss = next(name for name in loaded_obj.maps if name.endswith(".bss"))
        for proto, port, allow in inputs:
            loaded_obj.write_map(bss, struct.pack("<I", allow))
            result = bpf.prog_test_run(loaded_obj.progs["xdp_acl"], packet(proto, port))
            assert result.retval == (
                XDP_DROP if VECTORS[proto, port, allow][-1] == "T" else XDP_PASS
            )
        gen = bpfcov("gen", "-o", profile, loaded_obj.pin_dir)
        assert gen.returncode == 0, gen.stderr


def show_mcdc(major: int, obj: Path, profile: Path) -> str:
    return llvm_cov(major, "show", obj.with_suffix(".obj"), profile, "-show-mcdc")


def decision(show: str, conditions: int) -> str:
    """The MC/DC block of the decision with that many conditions."""
    blocks = [
        b for b in show.split("MC/DC Decision Region") if f"Number of Conditions: {conditions}" in b
    ]
    assert len(blocks) == 1, show
    return blocks[0]


def executed_vectors(show: str) -> set[tuple[str, ...]]:
    rows = re.findall(r"\{\s*([TF-](?:,\s*[TF-])*)\s*=\s*([TF])\s*\}", show)
    return {(*(c.strip() for c in conds.split(",")), result) for conds, result in rows}


def pairs(show: str) -> dict[str, str]:
    return dict(re.findall(r"(C\d)-Pair: (covered: \(\d+,\d+\)|not covered)", show))


def numbered_vectors(show: str) -> dict[int, tuple[str, ...]]:
    rows = re.findall(r"(\d+) \{\s*([TF-](?:,\s*[TF-])*)\s*=\s*([TF])\s*\}", show)
    return {int(n): (*(c.strip() for c in conds.split(",")), result) for n, conds, result in rows}


def is_independence_pair(a: tuple[str, ...], b: tuple[str, ...], cond: int) -> bool:
    """Only condition ``cond`` (0-based) flips the decision: it is evaluated in both
    and differs, the results differ, and every condition evaluated in both agrees."""
    *ca, ra = a
    *cb, rb = b
    others = [i for i in range(len(ca)) if i != cond and "-" not in (ca[i], cb[i])]
    return (
        "-" not in (ca[cond], cb[cond])
        and ca[cond] != cb[cond]
        and ra != rb
        and all(ca[i] == cb[i] for i in others)
    )


def assert_pairs_are_independence_pairs(show: str) -> None:
    vectors = numbered_vectors(show)
    for cond, text in pairs(show).items():
        if text == "not covered":
            continue
        i, j = map(int, re.findall(r"\d+", text))
        assert is_independence_pair(vectors[i], vectors[j], int(cond[1:]) - 1), (cond, text)


@pytest.fixture(params=MCDC_MAJORS, ids=[f"llvm{n}" for n in MCDC_MAJORS])
def acl_obj(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[int, Path]:
    major = int(request.param)
    return major, build(ACL, tmp_path / "acl.bpf.o", major, "-fcoverage-mcdc")


def test_every_condition_shown_independent(acl_obj: tuple[int, Path], tmp_path: Path) -> None:
    major, obj = acl_obj
    inputs = list(VECTORS) * 2
    run_acl(obj, inputs, tmp_path / "acl.profraw")
    show = decision(show_mcdc(major, obj, tmp_path / "acl.profraw"), 4)
    assert executed_vectors(show) == set(VECTORS.values())
    assert {c: p.startswith("covered") for c, p in pairs(show).items()} == {
        "C1": True,
        "C2": True,
        "C3": True,
        "C4": True,
    }
    assert_pairs_are_independence_pairs(show)
    assert "MC/DC Coverage for Decision: 100.00%" in show


def test_a_missing_vector_leaves_its_condition_uncovered(
    acl_obj: tuple[int, Path], tmp_path: Path
) -> None:
    major, obj = acl_obj
    inputs = [v for v in VECTORS if v != (TCP, 22, 1)]  # never allowed: C4 never false
    run_acl(obj, inputs, tmp_path / "acl.profraw")
    show = decision(show_mcdc(major, obj, tmp_path / "acl.profraw"), 4)
    assert executed_vectors(show) == {VECTORS[v] for v in inputs}
    covered = {c: p.startswith("covered") for c, p in pairs(show).items()}
    assert covered == {"C1": True, "C2": True, "C3": True, "C4": False}
    assert_pairs_are_independence_pairs(show)
    assert "MC/DC Coverage for Decision: 75.00%" in show
