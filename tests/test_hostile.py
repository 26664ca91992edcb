"""Hostile input: every reader fails with one line, never a traceback or a partial file.

The readers of raw profiles, of mapping objects and of the maps' contents are fuzzed
from real files for a fixed budget (hypothesis, derandomized): each input is either
read or refused with a BpfcovError.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import XDP_SOURCE, bpfcov, build, build_plain, gen_after_packets, llvm_majors

from bpfcov_build import profraw
from bpfcov_build.bpf import harness
from bpfcov_build.collect import MapGroup, read_group
from bpfcov_build.errors import BpfcovError
from bpfcov_build.layout import Section, mapping_object_info, parse_object_info

if TYPE_CHECKING:
    import subprocess

pytestmark = pytest.mark.kernel

FUZZ = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def mutations() -> st.SearchStrategy[list[tuple[str, int, int]]]:
    """Edits to a byte string: truncate at, flip a bit at, or overwrite a byte at."""
    edit = st.tuples(
        st.sampled_from(["cut", "flip", "set"]), st.integers(0, 1 << 20), st.integers(0, 255)
    )
    return st.lists(edit, min_size=1, max_size=4)


def mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for kind, where, value in edits:
        if not buf:
            break
        i = where % len(buf)
        if kind == "cut":
            del buf[i:]
        elif kind == "flip":
            buf[i] ^= 1 << (value % 8)
        else:
            buf[i] = value
    return bytes(buf)


@pytest.fixture(scope="module")
def real_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A real profile, mapping object and loadable object of the XDP example."""
    work = tmp_path_factory.mktemp("hostile")
    obj = build(XDP_SOURCE, work / "xdp_parser.bpf.o", max(llvm_majors()))
    gen_after_packets(obj, work / "x.profraw")
    return {
        "profraw": (work / "x.profraw").read_bytes(),
        "obj": obj.with_suffix(".obj").read_bytes(),
        "o": obj.read_bytes(),
    }


def test_profraw_reader_fuzzed(real_files: dict[str, bytes]) -> None:
    cases = []

    @FUZZ
    @given(mutations())
    def check(edits: list[tuple[str, int, int]]) -> None:
        cases.append(1)
        try:
            profraw.decode(mutate(real_files["profraw"], edits))
        except BpfcovError as exc:
            assert "\n" not in str(exc)

    check()
    print(f"\nprofraw reader: {len(cases)} fuzzed inputs, no crash")


def test_mapping_object_reader_fuzzed(real_files: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "fuzz.bpf.obj"
    cases = []

    @FUZZ
    @given(mutations())
    def check(edits: list[tuple[str, int, int]]) -> None:
        cases.append(1)
        path.write_bytes(mutate(real_files["obj"], edits))
        try:
            mapping_object_info(path)
        except BpfcovError as exc:
            assert "\n" not in str(exc)

    check()
    print(f"\nmapping-object reader: {len(cases)} fuzzed inputs, no crash")


def test_map_contents_reader_fuzzed(real_files: dict[str, bytes]) -> None:
    """What a loader (or anyone with access) may have left in the coverage maps."""
    import io

    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(real_files["o"]))
    sections = {
        s: elf.get_section_by_name(s.value).data()
        for s in Section
        if elf.get_section_by_name(s.value) is not None
    }
    cases = []

    @FUZZ
    @given(st.sampled_from(sorted(sections, key=str)), mutations())
    def check(section: Section, edits: list[tuple[str, int, int]]) -> None:
        cases.append(1)
        values = dict(sections)
        values[section] = mutate(values[section], edits)
        try:
            cov = read_group(MapGroup("fuzz", values))
            profraw.encode(cov.profile)
            parse_object_info(values[Section.COVMAP])
        except BpfcovError as exc:
            assert "\n" not in str(exc)

    check()
    print(f"\nmap-contents reader: {len(cases)} fuzzed inputs, no crash")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("bpfcov: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_objects_that_are_not_mapping_objects(major: int, tmp_path: Path) -> None:
    obj = build(XDP_SOURCE, tmp_path / "xdp_parser.bpf.o", major)
    gen_after_packets(obj, tmp_path / "x.profraw")
    plain = build_plain(XDP_SOURCE, tmp_path / "plain.o", major)
    cases = {
        "a host ELF": Path("/bin/true"),
        "a plain BPF object": plain,
        "the loadable object": obj,
        "not an ELF": Path(__file__),
        "missing": tmp_path / "nope.bpf.obj",
    }
    for what, bad in cases.items():
        out = tmp_path / f"{what}.json"
        error = one_line_error(
            bpfcov("out", "-f", "json", "-o", out, "--object", bad, tmp_path / "x.profraw")
        )
        assert str(bad) in error, what
        assert not out.exists(), what


def test_foreign_maps_in_a_run_directory(tmp_path: Path) -> None:
    from bpfcov_build import bpf

    run = Path("/sys/fs/bpf") / f"bpfcov-foreign-{tmp_path.name}"
    (run / "1-btf0").mkdir(parents=True)
    try:
        for section, size in (
            (Section.COUNTERS, 8),
            (Section.DATA, 7),
            (Section.NAMES, 1),
            (Section.COVMAP, 3),
        ):
            fd = harness.map_create(bpf.MapType.ARRAY, 4, size, 1, name="foreign")
            bpf.obj_pin(fd, run / "1-btf0" / f"_{section.value[1:].replace('.', '_')}")
        error = one_line_error(bpfcov("gen", "-o", tmp_path / "x.profraw", run))
        assert "1-btf0" in error
        assert not (tmp_path / "x.profraw").exists()
    finally:
        shutil.rmtree(run, ignore_errors=True)


def test_spaces_and_unicode_in_paths(major: int, tmp_path: Path) -> None:
    where = tmp_path / "my prögrams ✓"
    where.mkdir()
    source = where / "xdp parser.bpf.c"
    shutil.copy(XDP_SOURCE, source)
    obj = build(source, where / "xdp parser.bpf.o", major)
    assert obj.with_suffix(".obj").exists()
    gen_after_packets(obj, where / "run ✓.profraw")
    result = bpfcov("out", "-f", "html,text", "-o", where / "report ✓", where / "run ✓.profraw")
    assert result.returncode == 0, result.stderr
    assert "xdp parser.bpf.c" in result.stdout
    assert (where / "report ✓" / "html" / "index.html").exists()
