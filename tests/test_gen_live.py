"""bpfcov gen --live: chosen by process and object, each profile's origin said, bad ones skipped.

Objects are loaded with bpftool and held open by this test's process (support.loaded
keeps a descriptor of every program and map), so ``--pid`` of this process picks
exactly them among whatever else the machine has loaded. One object has the
LLVM major its counters record changed in the ELF before loading (as an object of an LLVM
bpfcov does not write would say): gen skips it in one line and writes the rest.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from support import PACKETS, bpfcov, loaded

from bpfcov_build import profraw
from bpfcov_build.bpf import harness
from bpfcov_build.layout import Section, parse_counters_parts

pytestmark = pytest.mark.kernel

ME = os.getpid()
COMM = Path(f"/proc/{ME}/comm").read_text().strip()
FOREIGN_VERSION = 37  # a raw profile version no LLVM writes (yet)


def with_raw_version(obj: Path, version: int, out: Path) -> Path:
    """A copy of ``obj`` whose counters' trailer (and .rodata.covmap) say its LLVM
    writes raw profile version ``version``."""
    data = bytearray(obj.read_bytes())
    with obj.open("rb") as f:
        elf = ELFFile(f)
        offset = elf.get_section_by_name(Section.COVMAP.value)["sh_offset"]
        counters = elf.get_section_by_name(Section.COUNTERS.value)
        (part,) = parse_counters_parts(counters.data())
        trailer = counters["sh_offset"] + part.counters_size
    data[offset : offset + 8] = version.to_bytes(8, "little")  # the u64 raw version
    data[trailer + 8 : trailer + 16] = version.to_bytes(8, "little")  # RawVersion
    out.write_bytes(data)
    return out


def test_by_pid_and_object_with_origins(xdp_obj: Path, tp_obj: Path, tmp_path: Path) -> None:
    with loaded(xdp_obj) as xdp, loaded(tp_obj):
        harness.prog_test_run(xdp.progs["xdp_parser"], PACKETS[0][0], repeat=3)
        both = bpfcov("gen", "--live", "--pid", ME, "-o", f"{tmp_path / 'both'}/")
        assert both.returncode == 0, both.stderr
        written = sorted(tmp_path.joinpath("both").glob("*.profraw"))
        assert [p.name for p in written] == ["sys_enter.bpf.profraw", "xdp_parser.bpf.profraw"]
        for path in written:
            obj = (xdp_obj if path.name.startswith("xdp") else tp_obj).with_suffix(".obj")
            assert f"bpfcov: {path}: {obj}, pid {ME} ({COMM})\n" in both.stderr
        assert both.stderr.count("\n") == 2
        assert sorted(both.stdout.split()) == [str(p) for p in written]

        # by name (with --pid: other tests may load an object of that name meanwhile),
        # and by path, which is this test's own
        chosen = [
            ("--pid", str(ME), "--object", name)
            for name in ("xdp_parser.bpf.o", "xdp_parser.bpf.obj", "xdp_parser")
        ]
        chosen += [("--object", str(xdp_obj)), ("--object", str(xdp_obj.with_suffix(".obj")))]
        for args in chosen:
            one = bpfcov("gen", "--live", *args, "-o", tmp_path / "one.profraw")
            assert one.returncode == 0, (args, one.stderr)
            assert one.stdout == f"{tmp_path / 'one.profraw'}\n", args
            assert one.stderr == (
                f"bpfcov: {tmp_path / 'one.profraw'}: {xdp_obj.with_suffix('.obj')}, "
                f"pid {ME} ({COMM})\n"
            ), args
            counts = profraw.decode((tmp_path / "one.profraw").read_bytes()).records
            assert max(r.counters[0] for r in counts) >= 3

        none = bpfcov("gen", "--live", "--pid", ME, "--object", "nosuch", "-o", tmp_path)
        assert (none.returncode, none.stderr) == (
            1,
            f"bpfcov: error: no instrumented object to write for --pid {ME} --object nosuch "
            "(bpfcov list shows the pinned runs)\n",
        )


def test_an_object_it_cannot_write_is_skipped_in_one_line(xdp_obj: Path, tmp_path: Path) -> None:
    foreign = with_raw_version(xdp_obj, FOREIGN_VERSION, tmp_path / "foreign.bpf.o")
    with loaded(xdp_obj), loaded(foreign):
        result = bpfcov("gen", "--live", "--pid", ME, "-o", f"{tmp_path / 'out'}/")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "out").glob("*.profraw")] == ["xdp_parser.bpf.profraw"]
    skipped = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(skipped) == 1
    assert re.fullmatch(
        rf"bpfcov: warning: skipped map\d+: built by LLVM \d+, which writes raw profile "
        rf"version {FOREIGN_VERSION}; bpfcov knows versions [\d, ]+ \(see the README to add "
        rf"one\) \(pid {ME} .*\)",
        skipped[0],
    )
