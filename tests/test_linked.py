"""Instrumented objects linked into one with ``bpftool gen object``.

The linker lays each section's parts one after the other; the object infos in
``.rodata.covmap`` name every object linked in. bpfcov reads each part's records
against its own part of the counters and hands llvm-cov every mapping object.
"""

from __future__ import annotations

import json
import struct
import subprocess
from typing import TYPE_CHECKING

import pytest
from support import ROOT, bpfcov, build, mcdc_majors

from bpfcov_build import bpf, collect, sidecar
from bpfcov_build.bpf import harness
from bpfcov_build.errors import FormatError
from bpfcov_build.layout import Section, parse_counters_parts, parse_object_infos

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.kernel

LINKED = ROOT / "tests" / "progs" / "linked"
#: Whose clang has -fcoverage-mcdc (clang 18 and newer).
MCDC_MAJORS = mcdc_majors()


def test_linked_objects_count_exactly(major: int, pins: Path, tmp_path: Path) -> None:
    pins.mkdir()
    first = build(LINKED / "first.bpf.c", tmp_path / "first.bpf.o", major)
    second = build(LINKED / "second.bpf.c", tmp_path / "second.bpf.o", major)
    linked = tmp_path / "both.bpf.o"
    subprocess.run(["bpftool", "gen", "object", linked, first, second], check=True)

    progs = pins / "progs"
    run = bpfcov(
        "run", "--pin-dir", pins / "run", "--", "bpftool", "prog", "loadall", linked, progs
    )
    assert run.returncode == 0, run.stderr
    sizes = {64: 3, 90: 2, 120: 4}
    for name in ("first", "second"):
        with bpf.owned_fd(bpf.obj_get(progs / name)) as fd:
            for size, times in sizes.items():
                harness.prog_test_run(fd, bytes(size), repeat=times)

    profile = tmp_path / "both.profraw"
    gen = bpfcov("gen", "-o", profile, pins / "run")
    assert gen.returncode == 0, gen.stderr
    note = json.loads(profile.with_name(profile.name + ".json").read_text())
    assert note["objects"] == [str(tmp_path / "first.bpf.obj"), str(tmp_path / "second.bpf.obj")]
    out = bpfcov("out", "-f", "json", "-o", tmp_path / "both.json", profile)
    assert out.returncode == 0, out.stderr
    found = {
        f["name"]: (f["count"], sorted((b[0], b[4], b[5]) for b in f["branches"]))
        for f in json.loads((tmp_path / "both.json").read_text())["data"][0]["functions"]
    }
    runs = sum(sizes.values())
    over_100 = sum(n for size, n in sizes.items() if size > 100)
    under_80 = sum(n for size, n in sizes.items() if size < 80)
    assert found == {
        "first": (runs, [(18, over_100, runs - over_100)]),
        "first.bpf.c:helper": (runs, [(10, over_100, runs - over_100)]),
        "second": (runs, [(17, under_80, runs - under_80)]),
        "second.bpf.c:helper": (runs, [(9, under_80, runs - under_80)]),
    }


def _info(path: str, covmap: bytes = b"", raw_version: int = 10, llvm_major: int = 42) -> bytes:
    """One object info as the pass lays it out (parsing takes any versions)."""
    head = struct.pack("<QIIQ", raw_version, llvm_major, len(covmap), 0)
    return head + covmap + path.encode() + b"\0"


def test_object_infos_of_linked_objects_are_read_in_order() -> None:
    one = _info("/a/first.bpf.obj", bytes(range(16)))
    padded = one + bytes(-len(one) % 8)
    infos = parse_object_infos(padded + _info("/b/second.bpf.obj"))
    assert [i.object_path for i in infos] == ["/a/first.bpf.obj", "/b/second.bpf.obj"]
    assert infos[0].covmap == bytes(range(16))
    assert [i.object_path for i in parse_object_infos(one + bytes(8))] == ["/a/first.bpf.obj"]


def _sections(obj: Path) -> dict[Section, bytes]:
    from elftools.elf.elffile import ELFFile

    with obj.open("rb") as f:
        elf = ELFFile(f)
        return {
            s: elf.get_section_by_name(s.value).data()
            for s in (Section.COUNTERS, Section.DATA, Section.NAMES, Section.COVMAP)
        }


def test_the_counters_trailer_decides_what_the_parts_are(major: int, tmp_path: Path) -> None:
    """A .rodata.covmap of another object is passed over for the mapping object's
    own records; counters of parts built by different LLVMs are refused."""
    values = _sections(build(LINKED / "first.bpf.c", tmp_path / "first.bpf.o", major))
    assert len(collect.read_group(collect.MapGroup("one", values)).profile.records) == 2

    covmap = values[Section.COVMAP] + bytes(-len(values[Section.COVMAP]) % 8)
    raw_version, llvm_major, _ = struct.unpack_from("<QII", covmap)
    extra = {**values, Section.COVMAP: covmap + _info("/x.obj", b"", raw_version, llvm_major)}
    assert len(collect.read_group(collect.MapGroup("two", extra)).profile.records) == 2

    counters = values[Section.COUNTERS]
    (part,) = parse_counters_parts(counters)
    other = bytearray(counters)
    struct.pack_into("<Q", other, part.counters_size + 16, 99)  # the trailer's LLVMMajor
    mixed = {**values, Section.COUNTERS: counters + bytes(other)}
    with pytest.raises(FormatError, match="built by different LLVMs"):
        collect.read_group(collect.MapGroup("mixed", mixed))


def test_sidecar_names_every_object_and_reads_older_notes(tmp_path: Path) -> None:
    profile = tmp_path / "p.profraw"
    sidecar.write(profile, ["/a/first.bpf.obj", "/b/second.bpf.obj"], 42)
    assert sidecar.objects(profile) == ["/a/first.bpf.obj", "/b/second.bpf.obj"]
    assert sidecar.read(profile)["object"] == "/a/first.bpf.obj"
    sidecar.path_of(profile).write_text('{"object": "/a/only.bpf.obj", "llvm_major": 42}')
    assert sidecar.objects(profile) == ["/a/only.bpf.obj"]
    sidecar.path_of(profile).write_text('{"objects": [3], "object": ""}')
    assert sidecar.objects(profile) == []
    sidecar.path_of(profile).write_text("not json")
    assert sidecar.objects(profile) == []


def _report(obj: Path, base: Path, tmp_path: Path) -> dict[str, object]:
    """Each program of ``obj`` run on a few packet sizes under bpfcov run; its JSON report."""
    base.mkdir()
    run = bpfcov(
        "run", "--pin-dir", base / "run", "--", "bpftool", "prog", "loadall", obj, base / "p"
    )
    assert run.returncode == 0, run.stderr
    for prog in (base / "p").iterdir():
        with bpf.owned_fd(bpf.obj_get(prog)) as fd:
            for size in (14, 50, 51, 150):
                harness.prog_test_run(fd, bytes(size), repeat=2)
    profile = tmp_path / f"{base.name}.profraw"
    assert bpfcov("gen", "-o", profile, base / "run").returncode == 0
    out = tmp_path / f"{base.name}.json"
    assert bpfcov("out", "-f", "json", "-o", out, profile).returncode == 0
    return {f["name"]: f for f in json.loads(out.read_text())["data"][0]["functions"]}


@pytest.mark.parametrize("major", MCDC_MAJORS, ids=[f"llvm{n}" for n in MCDC_MAJORS])
def test_linked_mcdc_bitmaps_match_the_objects_run_alone(
    major: int, pins: Path, tmp_path: Path
) -> None:
    acl = build(
        ROOT / "examples" / "mcdc" / "acl.bpf.c", tmp_path / "acl.bpf.o", major, "-fcoverage-mcdc"
    )
    decision = build(
        LINKED / "decision.bpf.c", tmp_path / "decision.bpf.o", major, "-fcoverage-mcdc"
    )
    linked = tmp_path / "both.bpf.o"
    subprocess.run(["bpftool", "gen", "object", linked, acl, decision], check=True)
    pins.mkdir()
    alone = {**_report(acl, pins / "acl", tmp_path), **_report(decision, pins / "dec", tmp_path)}
    together = _report(linked, pins / "both", tmp_path)
    assert alone == together
    assert all(f["mcdc_records"] for f in together.values())
