"""Counts that never lie: a program that every CPU runs at once, built with plain
``bpfcov-cc`` (no coverage flags), reported through bpfcov run, gen and out.

``tests/progs/race/race.bpf.c`` is a raw tracepoint on sys_enter whose loader keeps
every CPU making system calls, with the kernel's run statistics on, and prints the
kernel's own run count of the program after detaching it. The report must say
exactly that many entries, nothing more in any region than in the function, and 0
for the code after a check that never passes. Snapshots taken while it runs must
never show a region above the function or a wrapped negative count, nor more runs
of the never-passed code than runs in flight (one per CPU); a profile
whose source was rebuilt after the run is refused, not shown as 0%.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import TYPE_CHECKING, Any

import pytest
from support import ROOT, XDP_SOURCE, bpfcov, build, build_loader, loaded, script

from bpfcov_build import covmap
from bpfcov_build.layout import parse_counters_parts

if TYPE_CHECKING:
    from pathlib import Path

RACE = ROOT / "tests" / "progs" / "race"
SOURCE = RACE / "race.bpf.c"
LOADER = RACE / "race_loader.c"
#: llvm-cov shows a negative difference of counters as about 2^63 or 2^64.
IMPOSSIBLE = 1 << 62
CPUS = len(os.sched_getaffinity(0))
pytestmark = [
    pytest.mark.kernel,
    pytest.mark.slow,
    pytest.mark.skipif(CPUS < 2, reason="needs two CPUs to run a program on both"),
]


def line_of(text: str, source: Path = SOURCE) -> int:
    """The line of ``source`` holding ``text`` (exactly one does)."""
    lines = [n for n, line in enumerate(source.read_text().splitlines(), 1) if text in line]
    assert len(lines) == 1, (text, lines)
    return lines[0]


def race_loader(major: int, out: Path, *flags: str) -> tuple[Path, Path]:
    """race.bpf.o built by bpfcov-cc with ``flags``, and its loader; in ``out``."""
    obj = build(SOURCE, out / "race.bpf.o", major, *flags)
    return obj, build_loader(obj, LOADER, "race", out)


def report(profile: Path, tmp_path: Path, *extra: object) -> dict[str, Any]:
    """The race function of ``bpfcov out -f json`` of ``profile``."""
    out = tmp_path / f"{profile.stem}.json"
    result = bpfcov("out", "-f", "json", "-o", out, *extra, profile)
    assert result.returncode == 0, result.stderr
    (function,) = json.loads(out.read_text())["data"][0]["functions"]
    assert function["name"] == "race"
    return dict(function)


def assert_possible(function: dict[str, Any], *, exact: bool = True, in_flight: int = 0) -> None:
    """No region above the function's entry (race has no loop), none wrapped, and
    (``exact``) at most ``in_flight`` for the code after the check no task passes:
    a snapshot taken while a run is between its entry and its return counts that
    run as past the check (one run per CPU at most: the kernel runs a raw
    tracepoint's program once at a time on each CPU)."""
    entry = function["count"]
    assert 0 < entry < IMPOSSIBLE
    for region in function["regions"]:
        assert 0 <= region[4] <= entry, (region, entry)
    for branch in function["branches"]:
        assert branch[4] + branch[5] <= entry, (branch, entry)
    hits = line_of("&hits")
    never = [r[4] for r in function["regions"] if r[0] == hits]
    assert never, f"no region on line {hits}"
    if exact:
        assert max(never) <= in_flight, never


def run_cnt(stdout: str) -> int:
    """The kernel's run count the loader printed."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("run_cnt ")]
    return int(line.split()[1])


def test_default_build_is_exact_on_every_cpu(major: int, pins: Path, tmp_path: Path) -> None:
    """Entry count == the kernel's run_cnt, with every CPU running the program."""
    _, loader = race_loader(major, tmp_path)
    run = bpfcov("run", "--pin-dir", pins, "--", loader, "2")
    assert run.returncode == 0, run.stderr
    runs = run_cnt(run.stdout)
    assert runs > 100_000, "the load did not run the program much"
    gen = bpfcov("gen", "-o", tmp_path / "race.profraw", pins)
    assert gen.returncode == 0, gen.stderr
    assert "raised" not in gen.stderr  # atomic counters agree as read
    function = report(tmp_path / "race.profraw", tmp_path)
    print(f"\nrace llvm{major}: {CPUS} CPUs, run_cnt {runs}, entry count {function['count']}")
    assert function["count"] == runs
    assert_possible(function)


def test_plain_counters_never_show_impossible_counts(
    major: int, pins: Path, tmp_path: Path
) -> None:
    """-fprofile-update=single loses increments; gen's repair keeps the report sane."""
    _, loader = race_loader(major, tmp_path, "-fprofile-update=single")
    run = bpfcov("run", "--pin-dir", pins, "--", loader, "2")
    assert run.returncode == 0, run.stderr
    runs = run_cnt(run.stdout)
    gen = bpfcov("gen", "-o", tmp_path / "race.profraw", pins)
    assert gen.returncode == 0, gen.stderr
    function = report(tmp_path / "race.profraw", tmp_path)
    print(
        f"\nrace llvm{major}, plain counters: run_cnt {runs}, entry count {function['count']} "
        f"({100 * (runs - function['count']) / runs:.2f}% lost); gen: {gen.stderr.strip()!r}"
    )
    assert function["count"] <= runs
    # Lost increments are not known: the repair keeps every count possible, not exact.
    assert_possible(function, exact=False)


def test_snapshots_under_load_are_consistent(major: int, pins: Path, tmp_path: Path) -> None:
    """bpfcov gen of the run, and --live, while every CPU runs the program: counts
    that can be."""
    obj, loader = race_loader(major, tmp_path)
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [script("bpfcov"), "run", "--pin-dir", str(pins), "--", str(loader), "4", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    snapshots = []
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the loader never started its load"
            time.sleep(0.05)
        for n in range(6):
            snap = tmp_path / f"snap{n}.profraw"
            # the run's pins, and (every other time) the live maps of this object
            where = ("--live", "--object", obj) if n % 2 else (pins,)
            gen = bpfcov("gen", "-o", snap, *where)
            assert gen.returncode == 0, gen.stderr
            snapshots.append((snap, gen.stderr))
            time.sleep(0.2)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    counts = []
    for snap, _ in snapshots:
        function = report(snap, tmp_path)
        assert_possible(function, in_flight=CPUS)
        counts.append(function["count"])
    assert counts == sorted(counts)  # later snapshots saw more
    repaired = sum("raised" in err for _, err in snapshots)
    print(f"\nrace llvm{major}: {len(snapshots)} snapshots under load, {repaired} repaired by gen")
    gen = bpfcov("gen", "-o", tmp_path / "final.profraw", pins)
    assert gen.returncode == 0, gen.stderr
    assert report(tmp_path / "final.profraw", tmp_path)["count"] == run_cnt(stdout)


def test_gen_repairs_counters_that_disagree(major: int, tmp_path: Path) -> None:
    """Counters that no run can give (a return taken more often than the function
    was entered) are raised by gen, which says so in one line."""
    obj = build(SOURCE, tmp_path / "race.bpf.o", major)
    (fn,) = [f for f in covmap.read_mappings([obj.with_suffix(".obj")]).values() if f.func_hash]
    with loaded(obj) as prog:
        value = prog.map_value(".data.profc")
        (part,) = parse_counters_parts(value)
        n = part.counters_size // 8
        assert n == fn.num_counters
        values = [0] * n
        values[0] = 5  # entered 5 times ...
        bad = values.copy()
        for i in range(1, n):  # ... and every other counter 9 times
            bad[i] = 9
        assert not covmap.consistent(fn, bad)
        packed = b"".join(v.to_bytes(8, "little") for v in bad)
        prog.write_map(".data.profc", packed + value[part.counters_size :])
        gen = bpfcov("gen", "-o", tmp_path / "bad.profraw", prog.pin_dir)
    assert gen.returncode == 0, gen.stderr
    warning = [line for line in gen.stderr.splitlines() if "raised" in line]
    assert len(warning) == 1, gen.stderr
    assert "bad.profraw" in warning[0]
    function = report(tmp_path / "bad.profraw", tmp_path)
    for region in function["regions"]:
        assert 0 <= region[4] <= function["count"] < IMPOSSIBLE, region
    for branch in function["branches"]:
        assert branch[4] + branch[5] <= function["count"], branch


def test_rebuilt_source_is_refused(major: int, tmp_path: Path) -> None:
    """A profile from before an edit and rebuild, or another object: one line, exit 1."""
    source = tmp_path / "race.bpf.c"
    source.write_text(SOURCE.read_text())
    obj = build(source, tmp_path / "race.bpf.o", major)
    with loaded(obj) as prog:
        gen = bpfcov("gen", "-o", tmp_path / "race.profraw", prog.pin_dir)
        assert gen.returncode == 0, gen.stderr
    profile = tmp_path / "race.profraw"
    report(profile, tmp_path)  # matches as built

    edited = "if (ctx->args[1] & 3)\n\t\t__sync_fetch_and_add(&odd, 2);\n\tif (ctx->args[1] & 1)"
    source.write_text(source.read_text().replace("if (ctx->args[1] & 1)", edited))
    build(source, obj, major)
    out = bpfcov("out", "-f", "json", "-o", tmp_path / "x.json", profile)
    assert out.returncode == 1, out.stdout
    assert "Traceback" not in out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert str(profile) in line
    assert str(obj.with_suffix(".obj")) in line
    assert "source changed" in line
    assert "--ignore-mismatch" in line
    assert not (tmp_path / "x.json").exists()

    forced = bpfcov("out", "-f", "json", "-o", tmp_path / "x.json", "--ignore-mismatch", profile)
    assert forced.returncode == 0, forced.stderr
    assert "do not match" in forced.stderr

    other = build(XDP_SOURCE, tmp_path / "xdp.bpf.o", major)
    out = bpfcov("out", "--object", other.with_suffix(".obj"), profile)
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert "another object" in line
    assert str(other.with_suffix(".obj")) in line
