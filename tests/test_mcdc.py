"""MC/DC coverage (LLVM >= 18, -fcoverage-mcdc): bitmaps from the kernel to llvm-cov."""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

import pytest
from support import (
    ACL_SOURCE,
    ACL_VECTORS,
    TCP,
    acl_packet,
    bpfcov,
    build,
    decision,
    executed_vectors,
    loaded,
    mcdc_majors,
    show_mcdc,
)

from bpfcov_build import bpf, layout
from bpfcov_build.bpf import harness

if TYPE_CHECKING:
    from pathlib import Path

    from support import Loaded

pytestmark = pytest.mark.kernel

MCDC_MAJORS = mcdc_majors()
XDP_DROP, XDP_PASS = 1, 2


def run_inputs(loaded_obj: Loaded, inputs: list[tuple[int, int, int]]) -> None:
    bss = next(name for name in loaded_obj.maps if name.endswith(".bss"))
    for proto, port, allow in inputs:
        loaded_obj.write_map(bss, struct.pack("<I", allow))
        result = harness.prog_test_run(loaded_obj.progs["xdp_acl"], acl_packet(proto, port))
        assert result.retval == (
            XDP_DROP if ACL_VECTORS[proto, port, allow][-1] == "T" else XDP_PASS
        )


def run_acl(obj: Path, inputs: list[tuple[int, int, int]], profile: Path) -> None:
    with loaded(obj) as loaded_obj:
        run_inputs(loaded_obj, inputs)
        gen = bpfcov("gen", "-o", profile, loaded_obj.pin_dir)
        assert gen.returncode == 0, gen.stderr


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
    return major, build(ACL_SOURCE, tmp_path / "acl.bpf.o", major, "-fcoverage-mcdc")


def test_every_condition_shown_independent(acl_obj: tuple[int, Path], tmp_path: Path) -> None:
    major, obj = acl_obj
    inputs = list(ACL_VECTORS) * 2
    run_acl(obj, inputs, tmp_path / "acl.profraw")
    show = decision(show_mcdc(major, obj, tmp_path / "acl.profraw"), 4)
    assert executed_vectors(show) == set(ACL_VECTORS.values())
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
    inputs = [v for v in ACL_VECTORS if v != (TCP, 22, 1)]  # never allowed: C4 never false
    run_acl(obj, inputs, tmp_path / "acl.profraw")
    show = decision(show_mcdc(major, obj, tmp_path / "acl.profraw"), 4)
    assert executed_vectors(show) == {ACL_VECTORS[v] for v in inputs}
    covered = {c: p.startswith("covered") for c, p in pairs(show).items()}
    assert covered == {"C1": True, "C2": True, "C3": True, "C4": False}
    assert_pairs_are_independence_pairs(show)
    assert "MC/DC Coverage for Decision: 75.00%" in show


def test_a_loader_that_gives_each_map_its_own_btf(
    acl_obj: tuple[int, Path], pins: Path, tmp_path: Path
) -> None:
    """cilium/ebpf gives every map a BTF object of its own and creates only the maps
    the code uses: the bitmaps map's trailer names its object, so gen puts it with
    its counters. The maps are pinned again as such a loader leaves them."""
    major, obj = acl_obj
    inputs = [v for v in ACL_VECTORS if v != (TCP, 22, 1)]
    used = (layout.Section.COUNTERS, layout.Section.BITMAPS, layout.Section.DATA)
    with loaded(obj) as loaded_obj:
        run_inputs(loaded_obj, inputs)
        for n, section in enumerate(used, 1):
            for run, kept in (("alone", used), ("no-bitmaps", used[::2])):
                if section in kept:
                    group = pins / run / f"{n}-btf{100 + n}"
                    group.mkdir(parents=True)
                    fd = loaded_obj.maps[layout.map_name(section)]
                    bpf.obj_pin(fd, group / layout.pin_name(section))
    gen = bpfcov("gen", "-o", tmp_path / "alone.profraw", pins / "alone")
    assert gen.returncode == 0, gen.stderr
    show = decision(show_mcdc(major, obj, tmp_path / "alone.profraw"), 4)
    assert executed_vectors(show) == {ACL_VECTORS[v] for v in inputs}
    assert "MC/DC Coverage for Decision: 75.00%" in show

    gen = bpfcov("gen", "-o", tmp_path / "none.profraw", pins / "no-bitmaps")
    assert gen.returncode == 1
    assert gen.stderr == (
        f"bpfcov: error: {pins / 'no-bitmaps' / '1-btf101'}: no .data.profbm map holds the "
        f"MC/DC bitmaps of {obj.with_suffix('.obj')} (did the loader create it?)\n"
    )
