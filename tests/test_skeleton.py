"""bpfcov skel and <bpfcov/save.h>: a loader keeps its own coverage, no bpfcov run."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from support import (
    BPFFS,
    PACKETS,
    ROOT,
    XDP_COUNTERS,
    XDP_SOURCE,
    bpfcov,
    build_plain,
    expected_counts,
)

from bpfcov_build.contract import GLOBALS, SECTIONS, STRINGS
from bpfcov_build.layout import GROUP_INFIX, Section

pytestmark = pytest.mark.kernel

PROGS = Path(__file__).resolve().parent / "progs"


def include_dir() -> str:
    result = bpfcov("skel", "--include-dir")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def compile_loader(source: Path, obj: Path, out_dir: Path) -> Path:
    out_dir.mkdir(exist_ok=True)
    skel = bpfcov("skel", obj, "--name", "xdp_parser", "-o", out_dir / "xdp_parser.skel.h")
    assert skel.returncode == 0, skel.stderr
    binary = out_dir / source.stem
    subprocess.run(
        [
            "gcc",
            "-O2",
            "-Wall",
            "-Werror",
            f"-I{out_dir}",
            f"-I{include_dir()}",
            "-o",
            binary,
            source,
            "-lbpf",
        ],
        check=True,
    )
    return binary


def packet_files(tmp_path: Path) -> list[Path]:
    files = []
    for i, (packet, times) in enumerate(PACKETS):
        path = tmp_path / f"p{i}.bin"
        path.write_bytes(packet)
        files += [path] * times
    return files


def test_save_h_reads_the_contract(tmp_path: Path) -> None:
    """What C sees through <bpfcov/save.h> is what the runtime reads from contract.def."""
    source = tmp_path / "sections.c"
    source.write_text(
        "#include <bpfcov/save.h>\n"
        "int main(void) {\n"
        "  for (size_t i = 0; i < sizeof(bpfcov__sections) / sizeof(*bpfcov__sections); i++)\n"
        "    puts(bpfcov__sections[i]);\n"
        "  puts(bpfcov__group_infix());\n"
        "  return 0;\n"
        "}\n"
    )
    program = tmp_path / "sections"
    subprocess.run(
        ["gcc", "-Wall", "-Wextra", "-Werror", "-I", include_dir(), source, "-o", program],
        check=True,
    )
    lines = subprocess.run([program], capture_output=True, text=True, check=True).stdout
    assert lines.splitlines() == [*(s.value for s in Section), GROUP_INFIX]


def test_the_contract_has_one_home() -> None:
    """No source of the package spells a name of contract.def as a literal again."""
    literals = [*SECTIONS.values(), *GLOBALS.values(), *STRINGS.values()]
    package = ROOT / "bpfcov_build"
    again = [
        (path.relative_to(ROOT), literal)
        for path in sorted(package.rglob("*"))
        if path.suffix in {".py", ".cpp", ".h", ".c", ".build"} and path.name != "contract.py"
        for literal in literals
        if f'"{literal}"' in (text := path.read_text()) or f"'{literal}'" in text
    ]
    assert not again, f"declare these in contract.def only: {again}"


def test_skeleton_exposes_typed_coverage_members(xdp_obj: Path, tmp_path: Path) -> None:
    header = bpfcov("skel", xdp_obj, "--name", "xdp_parser").stdout
    assert "struct xdp_parser__data_profc {" in header
    assert f"unsigned long long __profc_xdp_parser[{len(XDP_COUNTERS)}];" in header
    assert "xdp_parser__bpfcov_save(struct xdp_parser *skel, const char *dir)" in header
    loader = compile_loader(PROGS / "read_counters.c", xdp_obj, tmp_path / "build")
    packet = tmp_path / "p.bin"
    packet.write_bytes(PACKETS[1][0])
    out = subprocess.run([loader, packet, "9"], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["9", str(len(XDP_COUNTERS))]


def test_loader_saves_its_own_coverage(xdp_obj: Path, tmp_path: Path) -> None:
    loader = compile_loader(PROGS / "save_loader.c", xdp_obj, tmp_path / "build")
    save_dir = BPFFS / f"bpfcov-save-{tmp_path.name}"
    try:
        subprocess.run([loader, save_dir, *packet_files(tmp_path)], check=True)
        gen = bpfcov("gen", "-o", tmp_path / "x.profraw", save_dir)
        assert gen.returncode == 0, gen.stderr
    finally:
        shutil.rmtree(save_dir, ignore_errors=True)
    out = bpfcov("out", "-f", "json", "-o", tmp_path / "x.json", tmp_path / "x.profraw")
    assert out.returncode == 0, out.stderr
    functions = json.loads((tmp_path / "x.json").read_text())["data"][0]["functions"]
    xdp, port = expected_counts()
    counts = {f["name"]: f["count"] for f in functions}
    assert counts == {"xdp_parser": xdp["entry"], "xdp_parser.bpf.c:port_verdict": port["entry"]}


def test_same_loader_builds_against_a_plain_skeleton(major: int, tmp_path: Path) -> None:
    plain = build_plain(XDP_SOURCE, tmp_path / "xdp_parser.bpf.o", major)
    loader = compile_loader(PROGS / "save_loader.c", plain, tmp_path / "build")
    save_dir = BPFFS / f"bpfcov-save-plain-{tmp_path.name}"
    subprocess.run([loader, save_dir, *packet_files(tmp_path)[:3]], check=True)
    assert not save_dir.exists()  # nothing to save, nothing made


def test_skel_errors_are_one_line(tmp_path: Path) -> None:
    missing = bpfcov("skel", tmp_path / "nope.bpf.o")
    assert (missing.returncode, missing.stderr) == (
        1,
        f"bpfcov: error: {tmp_path / 'nope.bpf.o'}: no such object\n",
    )
    bad_name = bpfcov("skel", XDP_SOURCE, "--name", "9lives")
    assert (bad_name.returncode, bad_name.stderr) == (
        2,  # bad usage, checked before the object is read
        "bpfcov skel: error: --name 9lives: a skeleton name must be a C identifier"
        " (see bpfcov skel --help)\n",
    )
