"""bpfcov run → gen → out, with real loaders: exact counts in llvm-cov's report."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from support import (
    EXAMPLES,
    PACKETS,
    ROOT,
    TP_SOURCE,
    XDP_SOURCE,
    assert_xdp_report,
    bpfcov,
    build,
    build_loader,
    export,
    llvm_majors,
    run_dirs,
    script,
)

from bpfcov_build import bpf
from bpfcov_build.bpf import harness

pytestmark = pytest.mark.kernel

PID_FILTERED = ("getppid", "getuid", "getgid")


@pytest.fixture(scope="module")
def packets(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, int]]:
    """PACKETS as files, each with its repeat count."""
    out = tmp_path_factory.mktemp("packets")
    files = []
    for i, (packet, times) in enumerate(PACKETS):
        path = out / f"{i:02}.bin"
        path.write_bytes(packet)
        files.append((path, times))
    return files


def run_loader_packets(loader: Path, packets: list[tuple[Path, int]], pins: Path) -> None:
    # One loader run per repeat count would load the object several times; instead
    # the loader runs each packet file its own number of times in one process.
    args: list[object] = []
    for path, times in packets:
        args += [path] * times
    result = bpfcov("run", "--pin-dir", pins, "--", loader, *args)
    assert result.returncode == 0, result.stderr
    assert f"bpfcov: pinning coverage maps under {pins}" in result.stderr


def test_skeleton_loader_under_run(
    xdp_loader: Path, packets: list[tuple[Path, int]], pins: Path, tmp_path: Path
) -> None:
    run_loader_packets(xdp_loader, packets, pins)
    groups = [p.name for p in pins.iterdir()]
    assert len(groups) == 1 and groups[0].startswith("1-btf") and groups[0] != "1-btf0"
    gen = bpfcov("gen", "--unpin", "-o", tmp_path / "xdp.profraw", pins)
    assert gen.returncode == 0, gen.stderr
    assert not pins.exists()
    assert_xdp_report(export(tmp_path / "xdp.profraw", tmp_path))


def test_bpftool_loadall_under_run(xdp_obj: Path, pins: Path, tmp_path: Path) -> None:
    progs = Path("/sys/fs/bpf") / f"bpfcov-run-progs-{os.getpid()}"
    try:
        result = bpfcov(
            "run", "--pin-dir", pins, "--", "bpftool", "prog", "loadall", xdp_obj, progs
        )
        assert result.returncode == 0, result.stderr
        prog = bpf.obj_get(progs / "xdp_parser")
        try:
            for packet, times in PACKETS:
                harness.prog_test_run(prog, packet, repeat=times)
        finally:
            os.close(prog)
        gen = bpfcov("gen", "-o", tmp_path / "x.profraw", pins)
        assert gen.returncode == 0, gen.stderr
    finally:
        shutil.rmtree(progs, ignore_errors=True)
    assert_xdp_report(export(tmp_path / "x.profraw", tmp_path))


def test_snapshot_while_running_then_sigint_is_forwarded(
    xdp_loader: Path, packets: list[tuple[Path, int]], pins: Path, tmp_path: Path
) -> None:
    args: list[str] = ["-p"]
    for path, times in packets:
        args += [str(path)] * times
    proc = subprocess.Popen(
        [script("bpfcov"), "run", "--pin-dir", str(pins), "--", str(xdp_loader), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "ready":
                break
        gen = bpfcov("gen", "-o", tmp_path / "snap.profraw", pins)
        assert gen.returncode == 0, gen.stderr
        live = bpfcov(
            "gen",
            "--live",
            "-o",
            tmp_path / "live",
            pins.parent,
        )
        assert live.returncode != 0  # a run directory and --live do not go together
        live = bpfcov("gen", "--live", "-o", f"{tmp_path / 'live'}/")  # a new directory
        assert live.returncode == 0, live.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert_xdp_report(export(tmp_path / "snap.profraw", tmp_path))
    # The live scan found this loader's object among whatever else is loaded.
    ours = str(xdp_loader.parent / "xdp_parser.bpf.obj")
    found = [
        p
        for p in (tmp_path / "live").glob("*.profraw")
        if json.loads(p.with_name(p.name + ".json").read_text())["object"] == ours
    ]
    assert len(found) == 1
    assert_xdp_report(export(found[0], tmp_path))


def test_tracepoint_counts_under_run(major: int, pins: Path, tmp_path: Path) -> None:
    obj = build(TP_SOURCE, tmp_path / "sys_enter.bpf.o", major)
    loader = build_loader(
        obj, EXAMPLES / "tracepoint" / "sys_enter_loader.c", "sys_enter", tmp_path
    )
    calls = {"getppid": 7, "getuid": 5, "getgid": 3}
    result = bpfcov("run", "--pin-dir", pins, "--", loader, *calls.values())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["getppid", "7", "getuid", "5", "getgid", "3", "other", "0"]
    assert bpfcov("gen", "-o", tmp_path / "tp.profraw", pins).returncode == 0
    function = export(tmp_path / "tp.profraw", tmp_path)["sys_enter"]
    ours = sum(calls.values())
    entry = function["count"]
    branches = sorted((b[0], b[1], b[4], b[5]) for b in function["branches"])  # type: ignore[attr-defined]
    # if (pid != target_pid): every other process's calls were true, ours false.
    # for (i = 0; i < NWATCH; i++): entered once per call of ours, ends only for "other".
    # if (watched[i] == id): true once per call, false for the watched ids before it.
    (_, _, other_pid, our_pid), (_, _, loop_true, loop_false), (_, _, hit, miss) = branches
    assert our_pid == ours
    assert other_pid == entry - ours
    assert (loop_true, loop_false) == (7 * 1 + 5 * 2 + 3 * 3, 0)
    assert (hit, miss) == (ours, 5 * 1 + 3 * 2)


def test_two_objects_in_one_program_are_kept_apart(major: int, pins: Path, tmp_path: Path) -> None:
    objects = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        objects.append(build(XDP_SOURCE, tmp_path / name / "xdp_parser.bpf.o", major))
    progs = Path("/sys/fs/bpf") / f"bpfcov-two-{os.getpid()}"
    script_text = f"set -e; mkdir -p {progs}\n" + "".join(
        f"bpftool prog loadall {o} {progs}/{i}\n" for i, o in enumerate(objects)
    )
    try:
        result = bpfcov("run", "--pin-dir", pins, "--", "sh", "-c", script_text)
        assert result.returncode == 0, result.stderr
        assert len(list(pins.iterdir())) == 2
        for i, times in ((0, 3), (1, 5)):
            prog = bpf.obj_get(progs / str(i) / "xdp_parser")
            try:
                harness.prog_test_run(prog, PACKETS[1][0], repeat=times)
            finally:
                os.close(prog)
        out = tmp_path / "out"
        gen = bpfcov("gen", "-o", f"{out}/", pins)
        assert gen.returncode == 0, gen.stderr
    finally:
        shutil.rmtree(progs, ignore_errors=True)
    profiles = sorted(out.glob("*.profraw"))
    assert len(profiles) == 2
    counts = sorted(export(p, tmp_path)["xdp_parser"]["count"] for p in profiles)
    assert counts == [3, 5]


def test_run_errors_are_one_line(pins: Path) -> None:
    missing = bpfcov("run", "--", "no-such-command-xyz")
    assert (missing.returncode, missing.stderr) == (
        1,
        "bpfcov: error: no-such-command-xyz: command not found\n",
    )

    before = run_dirs()
    nothing = bpfcov("run", "--", "true")
    assert nothing.returncode == 0  # the program's
    assert nothing.stderr.splitlines()[-1] == (
        "bpfcov: warning: true created no coverage map; was it built with bpfcov-cc?"
    )
    assert run_dirs() == before
    required = bpfcov("run", "--require-coverage", "--", "true")
    assert required.returncode == 1
    assert required.stderr.splitlines()[-1] == (
        "bpfcov: error: true created no coverage map; was it built with bpfcov-cc?"
    )
    failing = bpfcov("run", "--require-coverage", "--", "sh", "-c", "exit 5")
    assert failing.returncode == 5
    assert run_dirs() == before

    pins.mkdir()
    (pins / "1-btf5").mkdir()
    busy = bpfcov("run", "--pin-dir", pins, "--", "true")
    assert (busy.returncode, busy.stderr) == (
        1,
        f"bpfcov: error: {pins} is in use by an earlier run; "
        "choose another --pin-dir or remove it\n",
    )

    not_bpffs = bpfcov("run", "--pin-dir", "/tmp/bpfcov-not-bpffs", "--", "true")
    assert not_bpffs.returncode == 1
    assert not_bpffs.stderr == (  # one line: nothing was started
        "bpfcov: error: /tmp/bpfcov-not-bpffs is not on a bpf filesystem: pin under /sys/fs/bpf\n"
    )


def test_not_root_is_one_line() -> None:
    result = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            script("bpfcov"),
            "run",
            "--",
            "true",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "bpfcov: error: bpfcov run needs root: it traces the program and pins its maps in bpffs\n"
    )


def test_exit_status_is_the_programs(pins: Path) -> None:
    result = bpfcov("run", "--pin-dir", pins, "--", "sh", "-c", "exit 42")
    assert result.returncode == 42


def test_llvm_versions_available() -> None:
    assert llvm_majors()


def test_list_and_clean_runs(
    xdp_loader: Path, packets: list[tuple[Path, int]], tmp_path: Path
) -> None:
    before = run_dirs()
    result = bpfcov("run", "--", xdp_loader, packets[0][0])
    assert result.returncode == 0, result.stderr
    (run,) = run_dirs() - before
    assert f"bpfcov: pinning coverage maps under {run}" in result.stderr
    try:
        listed = bpfcov("list", "--json")
        assert listed.returncode == 0, listed.stderr
        entry = next(r for r in json.loads(listed.stdout) if r["run"] == str(run))
        assert entry["objects"] == [str(xdp_loader.parent / "xdp_parser.bpf.obj")]
        assert entry["functions"] == 2
        text = bpfcov("list")
        assert str(run) in text.stdout and "xdp_parser.bpf.obj" in text.stdout

        refused = bpfcov("clean", tmp_path)
        assert (refused.returncode, refused.stderr) == (
            1,
            f"bpfcov: error: {tmp_path} is not a bpfcov run (pins of objects on bpffs); "
            "not removed\n",
        )
        cleaned = bpfcov("clean", run)
        assert (cleaned.returncode, cleaned.stdout) == (0, f"removed {run}\n")
        assert not run.exists()
    finally:
        shutil.rmtree(run, ignore_errors=True)


def test_pins_and_run_directories_are_for_root_only(
    xdp_loader: Path, packets: list[tuple[Path, int]], pins: Path, tmp_path: Path
) -> None:
    run_loader_packets(xdp_loader, packets[:1], pins)
    (group,) = pins.iterdir()
    assert pins.stat().st_mode & 0o777 == 0o700
    assert group.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in group.iterdir()} == {0o600}
    assert bpfcov("gen", "-o", tmp_path / "x.profraw", pins).returncode == 0
    assert (tmp_path / "x.profraw").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "x.profraw.json").stat().st_mode & 0o777 == 0o600


def test_a_loader_that_creates_only_the_counters_map(
    major: int, xdp_loader: Path, packets: list[tuple[Path, int]], pins: Path, tmp_path: Path
) -> None:
    """Loaders such as cilium/ebpf create only the maps the code references and give
    every map a BTF object of its own: the counters map alone must do.

    The run's maps are pinned again as such a loader leaves them (each map in a
    group of its own; .rodata.profn and .rodata.covmap never created), and gen
    reads the rest from the mapping object the counters' trailer names.
    """
    run_loader_packets(xdp_loader, packets, pins / "run")
    (group,) = [p for p in (pins / "run").iterdir() if p.is_dir()]
    alone = pins / "alone"
    alone.mkdir()
    for n, name in enumerate(("_data_profc", "_rodata_profd"), 1):
        (alone / f"{n}-btf{100 + n}").mkdir()
        with bpf.owned_fd(bpf.obj_get(group / name)) as fd:
            bpf.obj_pin(fd, alone / f"{n}-btf{100 + n}" / name)
    gen = bpfcov("gen", "-o", tmp_path / "alone.profraw", alone)
    assert gen.returncode == 0, gen.stderr
    assert_xdp_report(export(tmp_path / "alone.profraw", tmp_path))

    # The mapping object rebuilt from another source: its id no longer matches.
    obj = xdp_loader.parent / "xdp_parser.bpf.obj"
    saved = obj.read_bytes()
    try:
        source = tmp_path / "other.bpf.c"
        source.write_text(XDP_SOURCE.read_text().replace("return XDP_PASS;", "return 2;", 1))
        build(source, tmp_path / "other.bpf.o", major)
        shutil.copyfile(tmp_path / "other.bpf.obj", obj)
        gen = bpfcov("gen", "-o", tmp_path / "stale.profraw", alone)
    finally:
        obj.write_bytes(saved)
    assert gen.returncode == 1
    (line,) = gen.stderr.strip().splitlines()
    assert str(obj) in line
    assert "rebuilt" in line


def test_an_object_whose_programs_did_not_load_is_named_by_run_and_gen(
    major: int, pins: Path, tmp_path: Path
) -> None:
    refused = build(ROOT / "tests" / "progs" / "refused.bpf.c", tmp_path / "refused.bpf.o", major)
    mapping = refused.with_suffix(".obj")
    progs = Path("/sys/fs/bpf") / f"bpfcov-test-refused-{tmp_path.name}"
    load = f"bpftool prog loadall {refused} {progs} 2>/dev/null; exit 0"  # a loader that says 0
    try:
        run = bpfcov("run", "--pin-dir", pins, "--", "sh", "-c", load)
        required = bpfcov(
            "run", "--require-coverage", "--pin-dir", pins / "again", "--", "sh", "-c", load
        )
    finally:
        shutil.rmtree(progs, ignore_errors=True)
    assert run.returncode == 0  # the program's status
    (group,) = pins.glob("*-btf*")
    assert (
        f"bpfcov: warning: {group} ({mapping}): its maps were created but none of its "
        "programs loaded (see the program's errors above)"
    ) in run.stderr.splitlines()
    assert required.returncode == 1
    assert "bpfcov: error: " in required.stderr

    gen = bpfcov("gen", "-o", tmp_path / "x.profraw", pins)
    assert gen.returncode == 0, gen.stderr
    assert gen.stderr == (
        f"bpfcov: warning: {group} ({mapping}): none of its programs loaded, so "
        f"{tmp_path / 'x.profraw'} counts nothing; see the loader's errors\n"
    )


def test_the_end_of_a_run_says_the_pins_stay_until_clean(
    xdp_loader: Path, packets: list[tuple[Path, int]], pins: Path
) -> None:
    result = bpfcov("run", "--pin-dir", pins, "--", xdp_loader, packets[0][0])
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"bpfcov: 1 object(s) pinned, kept in kernel memory until bpfcov clean {pins}; "
        f"next: bpfcov gen {pins}"
    )
    assert not (next(pins.iterdir()) / "no-program-loaded").exists()


def test_the_default_run_directory_has_no_dot(tmp_path: Path) -> None:
    tool = tmp_path / "load.sh"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    result = bpfcov("run", "--", tool)
    assert result.returncode == 0, result.stderr  # bpffs would refuse 'load.sh-...'
    assert "pinning coverage maps under /sys/fs/bpf/bpfcov/load_sh-" in result.stderr
