"""Reports are about the user's code: libbpf's, system and generated headers left out.

The program is laid out as libbpf-bootstrap lays out its ``minimal`` example
(``tests/progs/bootstrap/``): libbpf's headers copied into ``.output/bpf/`` and
found with ``-I.output``, so clang does not see them as system headers. The
loader runs in this kernel under ``bpfcov run``; one write of its own and one of
a child run every line of ``minimal.bpf.c``, while ``bpf_helpers.h`` brings an
inline function nothing calls. Reports must say 100% by default and llvm-cov's
own figures with ``--include-system``; diff-cover reads the LCOV and Cobertura
reports of a change.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, bpf_cflags, bpfcov, llvm_cov, script

from bpfcov_build import sources, toolchain
from bpfcov_build.report import METRICS, summary_line

pytestmark = pytest.mark.kernel

BOOTSTRAP = ROOT / "tests" / "progs" / "bootstrap"
LIBBPF_INCLUDE = Path("/usr/include/bpf")
WRITES = 3
GIT = ("git", "-c", "user.name=bpfcov", "-c", "user.email=bpfcov@localhost")


def build_minimal(project: Path, major: int) -> Path:
    """minimal.bpf.c and its loader, built libbpf-bootstrap's way in ``project``."""
    output = project / ".output"
    (output / "bpf").mkdir(parents=True, exist_ok=True)
    for header in LIBBPF_INCLUDE.glob("*.h"):
        shutil.copy(header, output / "bpf")
    for name in ("minimal.bpf.c", "minimal.c"):
        if not (project / name).exists():
            shutil.copy(BOOTSTRAP / name, project / name)
    obj = output / "minimal.bpf.o"
    subprocess.run(
        [
            script("bpfcov-cc"),
            f"--bpfcov-llvm={major}",
            *bpf_cflags(),
            "-I.output",
            "-c",
            "minimal.bpf.c",
            "-o",
            obj,
        ],
        cwd=project,
        check=True,
    )
    skel = subprocess.run(
        ["bpftool", "gen", "skeleton", obj, "name", "minimal"], capture_output=True, check=True
    ).stdout
    (output / "minimal.skel.h").write_bytes(skel)
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Werror", "-I.output", "-o", "minimal", "minimal.c", "-lbpf"],
        cwd=project,
        check=True,
    )
    return obj


def run_minimal(project: Path, pins: Path) -> Path:
    """Runs the loader under bpfcov run and writes its profile; returns the profile."""
    run = bpfcov("run", "--pin-dir", pins, "--", "./minimal", WRITES, cwd=project)
    assert run.returncode == 0, run.stderr
    profile = project / "out" / "minimal.profraw"
    gen = bpfcov("gen", "-o", profile, pins)
    assert gen.returncode == 0, gen.stderr
    return profile


def export(profile: Path, *args: object) -> dict[str, Any]:
    out = profile.parent / "cov.json"
    result = bpfcov("out", "-f", "json", "-o", out, *args, profile, cwd=profile.parent.parent)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(out.read_text())["data"][0]
    return data


@pytest.fixture(scope="module")
def minimal(
    major: int, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, int]:  # project, profile, major
    project = tmp_path_factory.mktemp("bootstrap")
    obj = build_minimal(project, major)
    assert obj.with_suffix(".obj").exists()
    pins = Path("/sys/fs/bpf") / f"bpfcov-test-minimal-{project.name}"
    try:
        profile = run_minimal(project, pins)
    finally:
        shutil.rmtree(pins, ignore_errors=True)
    return project, profile, major


def test_a_fully_run_program_reports_100_percent(minimal: tuple[Path, Path, int]) -> None:
    project, profile, _ = minimal
    data = export(profile)
    assert [f["filename"] for f in data["files"]] == [str(project / "minimal.bpf.c")]
    for metric in METRICS:
        total = data["totals"][metric]
        assert total["count"] > 0, metric
        assert total["covered"] == total["count"], metric
    (on_write,) = [f for f in data["functions"] if f["name"] == "on_write"]
    ((_, _, _, _, others, own, *_),) = on_write["branches"]  # `pid != watched_pid`
    assert own == WRITES  # the loader's own writes take the printing path
    assert others >= 1  # the child's write (and any other process's) returns at once
    assert on_write["count"] == own + others


def test_with_the_headers_the_figures_are_llvm_covs_own(minimal: tuple[Path, Path, int]) -> None:
    project, profile, major = minimal
    data = export(profile, "--include-system")
    helpers = project / ".output" / "bpf" / "bpf_helpers.h"
    assert sorted(f["filename"] for f in data["files"]) == sorted(
        [str(helpers), str(project / "minimal.bpf.c")]
    )
    raw = json.loads(
        llvm_cov(
            major,
            "export",
            project / ".output" / "minimal.bpf.obj",
            profile,
            "-summary-only",
        )
    )["data"][0]
    assert data["totals"] == raw["totals"]
    assert data["totals"]["lines"]["percent"] < 100
    assert data["totals"]["functions"]["covered"] < data["totals"]["functions"]["count"]
    (header,) = [f for f in data["files"] if f["filename"] == str(helpers)]
    assert header["summary"]["lines"]["covered"] == 0


def test_thresholds_count_the_users_code(minimal: tuple[Path, Path, int]) -> None:
    _, profile, _ = minimal
    ok = bpfcov("out", "--fail-under-lines", "100", "--fail-under-functions", "100", profile)
    assert ok.returncode == 0, ok.stderr
    low = bpfcov("out", "--include-system", "--fail-under-lines", "100", profile)
    assert low.returncode == 3
    assert "lines coverage" in low.stderr


def test_include_and_exclude_choose_files(minimal: tuple[Path, Path, int]) -> None:
    project, profile, _ = minimal
    helpers = str(project / ".output" / "bpf" / "bpf_helpers.h")
    only_header = export(profile, "--include-system", "--exclude", "*.bpf.c")
    assert [f["filename"] for f in only_header["files"]] == [helpers]
    by_regex = export(profile, "--include-system", "--ignore-filename-regex", r"minimal\.bpf")
    assert [f["filename"] for f in by_regex["files"]] == [helpers]
    named = export(profile, "--include", ".output/bpf/bpf_helpers.h")  # kept: asked for
    assert [f["filename"] for f in named["files"]] == [helpers]
    relative = export(profile, "--include-regex", "minimal")
    assert [f["filename"] for f in relative["files"]] == [str(project / "minimal.bpf.c")]


def test_markdown_table_and_summary_line(minimal: tuple[Path, Path, int]) -> None:
    project, profile, _ = minimal
    totals = export(profile)["totals"]
    result = bpfcov("out", "-f", "markdown", "--summary", profile, cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"bpfcov: {summary_line(totals)}\n"
    assert result.stderr.startswith("bpfcov: coverage: functions 100.00% (1/1), lines 100.00% (")
    lines = result.stdout.splitlines()
    assert lines[0] == "| File | Functions | Lines | Regions | Branches |"
    assert lines[1] == "|:---|---:|---:|---:|---:|"
    cells = [f"100.00% ({totals[m]['covered']}/{totals[m]['count']})" for m in METRICS]
    assert lines[2] == "| `minimal.bpf.c` | " + " | ".join(cells) + " |"
    assert lines[3] == "| **Total** | " + " | ".join(f"**{c}**" for c in cells) + " |"
    assert len(lines) == 4
    written = bpfcov("out", "-f", "markdown", "-o", project / "cov.md", profile, cwd=project)
    assert written.returncode == 0, written.stderr
    assert (project / "cov.md").read_text() == result.stdout


def test_html_report_leaves_the_headers_out(minimal: tuple[Path, Path, int]) -> None:
    project, profile, _ = minimal
    result = bpfcov("out", "-f", "html", "-o", project / "html", profile)
    assert result.returncode == 0, result.stderr
    pages = sorted(p.name for p in (project / "html").rglob("*.html"))
    assert pages == ["index.html", "minimal.bpf.c.html"]
    index = (project / "html" / "index.html").read_text()
    assert "minimal.bpf.c" in index
    assert "bpf_helpers.h" not in index


def test_which_files_are_left_out() -> None:
    clang = str(toolchain.Toolchain(max(toolchain.installed_majors())).clang)
    dirs = sources.system_include_dirs(clang)
    resource = next(d for d in dirs if "/lib/clang/" in d)
    cases = {
        "/home/u/proj/.output/bpf/bpf_helpers.h": "libbpf header",
        "/home/u/proj/libbpf/src/bpf/bpf_tracing.h": "libbpf header",
        "/home/u/proj/.output/bpf/usdt.bpf.h": "libbpf header",
        "/usr/include/bpf/bpf_core_read.h": "libbpf header",
        "/usr/include/linux/bpf.h": "system header",
        f"{resource}/stddef.h": "system header",
        "/home/u/proj/vmlinux.h": "vmlinux.h",
        "/home/u/proj/x86/vmlinux_601.h": "vmlinux.h",
        "/home/u/proj/minimal.bpf.c": None,
        "/home/u/proj/bpf/my_helpers.h": None,  # the user's, in a dir named bpf
        "/home/u/proj/src/bpf_helpers.h": None,  # a file of that name outside bpf/
    }
    for path, why in cases.items():
        assert sources.why_left_out(path, dirs) == why, path


def test_ignore_regex_matches_one_path_only() -> None:
    import re

    path = "/p/a+b (1)/x.bpf.c"
    regex = sources.ignore_regex(path)
    assert re.fullmatch(regex[1:-1], path)  # POSIX ERE escapes read the same in Python
    assert not re.search(regex, "/p/a+b (1)/xxbpf.c")
    assert not re.search(regex, "/q" + path)


def test_diff_cover_reads_our_lcov_and_cobertura(major: int, tmp_path: Path) -> None:
    """A change adds a branch the run never takes: diff-cover says half its lines ran."""
    project = tmp_path / "repo"
    project.mkdir()
    for name in ("minimal.bpf.c", "minimal.c"):
        shutil.copy(BOOTSTRAP / name, project / name)
    (project / ".gitignore").write_text(".output/\nout/\ncov/\nminimal\n")

    def git(*args: str) -> None:
        subprocess.run([*GIT, *args], cwd=project, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-qm", "minimal")
    git("checkout", "-qb", "change")
    source = project / "minimal.bpf.c"
    text = source.read_text()
    early = "\tif (pid != watched_pid)\n\t\treturn 0;\n"
    assert early in text
    source.write_text(text.replace(early, early + "\tif (pid == 1)\n\t\treturn 1;\n"))
    git("commit", "-qam", "init is left alone")
    lines = source.read_text().splitlines()
    never_run = lines.index("\t\treturn 1;") + 1  # `if (pid == 1)` runs, `return 1;` never

    build_minimal(project, major)
    pins = Path("/sys/fs/bpf") / f"bpfcov-test-diff-{tmp_path.name}"
    try:
        profile = run_minimal(project, pins)
    finally:
        shutil.rmtree(pins, ignore_errors=True)
    report = bpfcov("out", "-f", "lcov,cobertura", "-o", project / "cov", profile)
    assert report.returncode == 0, report.stderr
    diff_cover = Path(sys.executable).with_name("diff-cover")
    for name in ("coverage.lcov", "cobertura.xml"):
        result = subprocess.run(
            [diff_cover, f"cov/{name}", "--compare-branch=main", "--fail-under=100"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1, result.stdout + result.stderr  # under 100%
        assert f"minimal.bpf.c (50.0%): Missing lines {never_run}" in result.stdout, name
        assert "Coverage: 50%" in result.stdout


def readme_cell(metric: dict[str, Any]) -> str:
    percent = f"{metric['percent']:.2f}".rstrip("0").rstrip(".")
    return f"{metric['covered']}/{metric['count']} {percent}%"


def readme_row(readme: list[str], label: str, major: int) -> str:
    """The README's row that starts with ``label`` and whose LLVM cell
    (``14-19``, or one major) holds ``major``."""
    rows = []
    for line in readme:
        if not line.startswith(label):
            continue
        majors = line[len(label) :].split("|", 1)[0].strip()
        first, _, last = majors.partition("-")
        if int(first) <= major <= int(last or first):
            rows.append(line)
    assert len(rows) == 1, f"README: give one row {label} for LLVM {major}"
    return rows[0]


def test_the_readme_shows_these_figures(minimal: tuple[Path, Path, int]) -> None:
    _, profile, major = minimal
    readme = (ROOT / "README.md").read_text().splitlines()
    for label, args in (
        ("| default: `minimal.bpf.c` |", ()),
        ("| `--include-system`: and `.output/bpf/bpf_helpers.h` |", ("--include-system",)),
    ):
        row = readme_row(readme, label, major)
        totals = export(profile, *args)["totals"]
        cells = "".join(f" {readme_cell(totals[m])} |" for m in METRICS)
        assert row.endswith(cells), (major, row)


def test_reports_bpfcov_wrote_are_replaced(minimal: tuple[Path, Path, int]) -> None:
    project, profile, _ = minimal
    for fmt in ("json", "lcov", "cobertura", "text", "markdown", "html"):
        target = project / "again" / f"report.{fmt}"
        for _ in range(2):  # the second run replaces what the first wrote
            result = bpfcov("out", "-f", fmt, "-o", target, profile)
            assert result.returncode == 0, (fmt, result.stderr)
    several = project / "again" / "all"
    for _ in range(2):
        formats = "json,lcov,cobertura,text,markdown,html"
        result = bpfcov("out", "-f", formats, "-o", several, profile)
        assert result.returncode == 0, result.stderr
    assert not list(project.rglob(".*.tmp")), "a temporary file was left"
