"""bpfcov gen and out on a real run: kernel counts land in llvm-cov's report, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import (
    PACKETS,
    XDP_SOURCE,
    bpfcov,
    build,
    expected_counts,
    gen_after_packets,
    llvm_majors,
    loaded,
    raw_version,
)

from bpfcov_build import profraw, toolchain
from bpfcov_build.bpf import harness
from bpfcov_build.errors import NotFoundError

pytestmark = pytest.mark.kernel


def test_run_to_llvm_cov_export(xdp_obj: Path, major: int, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "xdp.profraw")
    xdp, port = expected_counts()

    raw = profraw.decode((tmp_path / "xdp.profraw").read_bytes())
    assert raw.version == raw_version(major)
    assert (tmp_path / "xdp.profraw").stat().st_mode & 0o777 == 0o600

    out = bpfcov("out", "-f", "json", "-o", tmp_path / "cov.json", tmp_path / "xdp.profraw")
    assert out.returncode == 0, out.stderr
    export = json.loads((tmp_path / "cov.json").read_text())["data"][0]
    functions = {f["name"]: f for f in export["functions"]}
    assert functions["xdp_parser"]["count"] == xdp["entry"]
    verdict = functions["xdp_parser.bpf.c:port_verdict"]
    assert verdict["count"] == port["entry"]
    # Branches: [line, col, end line, end col, true count, false count, ...]
    branches = sorted((b[0], b[4], b[5]) for b in verdict["branches"])
    assert [(t, f) for _, t, f in branches] == [
        (port["if_dns"], port["entry"] - port["if_dns"]),
        (port["if_privileged"], port["entry"] - port["if_dns"] - port["if_privileged"]),
    ]
    parser_branches = {(b[0], b[1]): (b[4], b[5]) for b in functions["xdp_parser"]["branches"]}
    # `ip->protocol == IPPROTO_UDP && ip->ihl == 5`: the right side's branch.
    assert (xdp["and_rhs_true"], xdp["and_rhs"] - xdp["and_rhs_true"]) in parser_branches.values()

    text = bpfcov("out", "-f", "text", tmp_path / "xdp.profraw")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["File", "Functions", "Lines", "Regions", "Branches"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:] if not line.startswith("-")}
    # File  Functions  Lines  Regions  Branches, each "covered/total pct%"
    totals = export["totals"]
    assert rows["TOTAL"][0::2] == [
        f"{totals[m]['covered']}/{totals[m]['count']}"
        for m in ("functions", "lines", "regions", "branches")
    ]
    assert [Path(name).resolve() for name in rows if name != "TOTAL"] == [XDP_SOURCE]


def test_mixed_llvm_profiles_are_refused(major: int, tmp_path: Path) -> None:
    # The notes beside the profiles name two LLVMs; the refusal comes before any
    # of their tools is needed, so the second need not be installed.
    other = major + 1
    version = raw_version(major)
    layout = profraw.layout_for(version)
    profiles = []
    for noted in (major, other):
        path = tmp_path / f"p{noted}.profraw"
        rec = profraw.FunctionRecord(1, 2, (3,), (0,) * (layout.value_kind_last + 1))
        profraw.write_profraw(path, profraw.RawProfile(version, (rec,), b""))
        path.with_name(path.name + ".json").write_text(json.dumps({"llvm_major": noted}))
        profiles.append(path)
    result = bpfcov("out", "-f", "text", *profiles)
    assert result.returncode == 1
    assert result.stderr == (
        f"bpfcov: error: profiles from LLVM {major} and {other} cannot be merged; "
        "run bpfcov out once per LLVM\n"
    )


@pytest.mark.parametrize("content", [b"", b"not a profile at all", b"\x81rforpl\xff" + bytes(8)])
def test_bad_profraw_is_one_line(content: bytes, tmp_path: Path) -> None:
    bad = tmp_path / "bad.profraw"
    bad.write_bytes(content)
    result = bpfcov("out", "-f", "text", bad)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("bpfcov: error: ")
    assert "Traceback" not in result.stderr


def test_profile_and_object_of_different_llvms_are_refused(
    xdp_obj: Path, major: int, tmp_path: Path
) -> None:
    other = next((n for n in llvm_majors() if n != major), None)
    if other is None:
        pytest.skip(f"needs a second LLVM with a plugin; only LLVM {major} is here")
    other_obj = build(XDP_SOURCE, tmp_path / "other.bpf.o", other)
    with loaded(xdp_obj) as obj:
        harness.prog_test_run(obj.progs["xdp_parser"], PACKETS[0][0])
        assert bpfcov("gen", "-o", tmp_path / "x.profraw", obj.pin_dir).returncode == 0
    result = bpfcov(
        "out", "-f", "text", "--object", other_obj.with_suffix(".obj"), tmp_path / "x.profraw"
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"bpfcov: error: {other_obj.with_suffix('.obj')} was built by LLVM {other} but the "
        f"profiles are from LLVM {major}; give the matching --object, or rebuild\n"
    )


def test_truncated_profraw_is_one_line(xdp_obj: Path, tmp_path: Path) -> None:
    with loaded(xdp_obj) as obj:
        assert bpfcov("gen", "-o", tmp_path / "x.profraw", obj.pin_dir).returncode == 0
    data = (tmp_path / "x.profraw").read_bytes()
    (tmp_path / "x.profraw").write_bytes(data[: len(data) // 2])
    result = bpfcov("out", "-f", "json", "-o", tmp_path / "cov.json", tmp_path / "x.profraw")
    assert result.returncode == 1
    assert result.stderr.startswith(f"bpfcov: error: {tmp_path / 'x.profraw'}: ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "cov.json").exists()


def test_html_and_lcov_reports(xdp_obj: Path, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    xdp, port = expected_counts()

    html = bpfcov("out", "-f", "html", "-o", tmp_path / "html", tmp_path / "x.profraw")
    assert html.returncode == 0, html.stderr
    index = (tmp_path / "html" / "index.html").read_text()
    assert "xdp_parser.bpf.c" in index
    pages = "".join(p.read_text() for p in (tmp_path / "html").rglob("*.html"))
    assert "port_verdict" in pages
    assert not list(tmp_path.glob(".html.bpfcov.*"))

    lcov = bpfcov("out", "-f", "lcov", "-o", tmp_path / "cov.info", tmp_path / "x.profraw")
    assert lcov.returncode == 0, lcov.stderr
    records = (tmp_path / "cov.info").read_text().splitlines()
    assert f"SF:{XDP_SOURCE}" in records
    assert f"FNDA:{xdp['entry']},xdp_parser" in records
    assert f"FNDA:{port['entry']},xdp_parser.bpf.c:port_verdict" in records


def test_missing_llvm_tools_name_the_package() -> None:
    # No LLVM 37 here, nor in any apt source: each tool says so, and which LLVMs are here.
    chain = toolchain.Toolchain(37)
    for tool, package in (
        ("llvm-profdata", "llvm-37"),
        ("llvm-cov", "llvm-37"),
        ("clang", "clang-37"),
    ):
        with pytest.raises(NotFoundError) as err:
            chain.tool(tool)
        installed = llvm_majors()
        assert str(err.value) == (
            f"{tool}-37 not found, and this system's apt sources have no {package} package; "
            f"LLVM here: {', '.join(map(str, installed))} (e.g. BPFCOV_LLVM={installed[-1]})"
        )


def test_gen_errors_are_one_line(tmp_path: Path) -> None:
    missing = bpfcov("gen", tmp_path / "nope")
    assert (missing.returncode, missing.stderr) == (
        1,
        f"bpfcov: error: {tmp_path / 'nope'}: no such run directory "
        "(see bpfcov run's output, or bpfcov list)\n",
    )
    empty = Path("/sys/fs/bpf") / f"bpfcov-empty-{tmp_path.name}"
    empty.mkdir()
    try:
        result = bpfcov("gen", empty)
    finally:
        empty.rmdir()
    assert (result.returncode, result.stderr) == (
        1,
        f"bpfcov: error: {empty}: holds no coverage maps; was the program built with bpfcov-cc?\n",
    )
    both = bpfcov("gen", "--live", tmp_path)
    assert (both.returncode, both.stderr) == (
        2,
        "bpfcov gen: error: give a run directory or --live (not both) (see bpfcov gen --help)\n",
    )


def test_without_sidecar_the_objects_llvm_reads_the_profile(
    xdp_obj: Path, major: int, tmp_path: Path
) -> None:
    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    (tmp_path / "x.profraw.json").unlink()
    no_object = bpfcov("out", "-f", "text", tmp_path / "x.profraw")
    assert (no_object.returncode, no_object.stderr) == (
        1,
        f"bpfcov: error: {tmp_path / 'x.profraw'}: which object it belongs to is not "
        "known; give --object X.bpf.obj\n",
    )
    result = bpfcov(
        "out",
        "-f",
        "json",
        "-o",
        tmp_path / "cov.json",
        "--object",
        xdp_obj.with_suffix(".obj"),
        tmp_path / "x.profraw",
    )
    assert result.returncode == 0, result.stderr
    functions = json.loads((tmp_path / "cov.json").read_text())["data"][0]["functions"]
    assert {f["name"]: f["count"] for f in functions}["xdp_parser"] == expected_counts()[0]["entry"]
