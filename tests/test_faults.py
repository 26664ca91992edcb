"""Nothing lost under faults and odd process shapes: kills, crashes, many objects, two runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from support import (
    BPFFS,
    EXAMPLES,
    PACKETS,
    TP_SOURCE,
    XDP_SOURCE,
    assert_xdp_report,
    bpfcov,
    build,
    expected_counts,
    export,
    script,
)

pytestmark = pytest.mark.kernel

PROGS = Path(__file__).resolve().parent / "progs"


def packet_args(tmp_path: Path) -> list[str]:
    args = []
    for i, (packet, times) in enumerate(PACKETS):
        path = tmp_path / f"p{i}.bin"
        path.write_bytes(packet)
        args += [str(path)] * times
    return args


def start_paused(loader: Path, pins: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    """bpfcov run of the loader with -p: it runs the packets, says "ready", waits."""
    pidfile = tmp_path / "loader.pid"
    shell = f'echo $$ > {pidfile}; exec {loader} -p "$@"'
    proc = subprocess.Popen(
        [
            script("bpfcov"),
            "run",
            "--pin-dir",
            str(pins),
            "--",
            "sh",
            "-c",
            shell,
            "sh",
            *packet_args(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc, int(pidfile.read_text())
    proc.wait()
    raise AssertionError(proc.stderr.read() if proc.stderr else "no ready")


def state_of(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_program_killed_mid_run_loses_nothing(xdp_loader: Path, pins: Path, tmp_path: Path) -> None:
    proc, pid = start_paused(xdp_loader, pins, tmp_path)
    os.kill(pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == 128 + signal.SIGKILL
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    assert bpfcov("gen", "-o", tmp_path / "x.profraw", pins).returncode == 0
    assert_xdp_report(export(tmp_path / "x.profraw", tmp_path))


def test_bpfcov_run_killed_leaves_the_program_running(
    xdp_loader: Path, pins: Path, tmp_path: Path
) -> None:
    proc, pid = start_paused(xdp_loader, pins, tmp_path)
    proc.kill()  # SIGKILL to bpfcov run itself
    proc.wait(timeout=30)
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    time.sleep(0.2)
    assert state_of(pid) not in {"t", "T"}, "left stopped under ptrace"
    tracer = [
        line
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("TracerPid:")
    ]
    assert tracer == ["TracerPid:\t0"]
    os.kill(pid, signal.SIGTERM)  # the loader exits its own way
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and state_of(pid) != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert bpfcov("gen", "-o", tmp_path / "x.profraw", pins).returncode == 0
    assert_xdp_report(export(tmp_path / "x.profraw", tmp_path))


def test_three_objects_in_one_process(major: int, pins: Path, tmp_path: Path) -> None:
    objs = []
    for name, source in (("a", XDP_SOURCE), ("b", TP_SOURCE), ("c", XDP_SOURCE)):
        (tmp_path / name).mkdir()
        objs.append(
            build(
                source,
                tmp_path / name / source.name.replace(".c", ".o"),
                major,
                *(["-DVARIANT_C"] if name == "c" else []),
            )
        )
    loader = tmp_path / "load_many"
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Werror", "-o", loader, PROGS / "load_many.c", "-lbpf"], check=True
    )
    result = bpfcov("run", "--pin-dir", pins, "--", loader, *objs)
    assert result.returncode == 0, result.stderr
    assert len(list(pins.iterdir())) == 3
    gen = bpfcov("gen", "-o", f"{tmp_path / 'out'}/", pins)
    assert gen.returncode == 0, gen.stderr
    counts = {}
    for profile in (tmp_path / "out").glob("*.profraw"):
        note = json.loads(profile.with_name(profile.name + ".json").read_text())
        functions = export(profile, tmp_path)
        counts[Path(note["object"]).parent.name] = {n: f["count"] for n, f in functions.items()}
    assert counts["a"]["xdp_parser"] == 1  # the first object's program ran once
    assert counts["c"]["xdp_parser"] == 3  # the third object's, three times
    assert set(counts["b"]) == {"sys_enter"}  # loaded, never triggered here


def test_two_runs_at_once_keep_apart(xdp_loader: Path, tmp_path: Path) -> None:
    pin_dirs = [BPFFS / f"bpfcov-two-runs-{os.getpid()}-{i}" for i in (0, 1)]
    packet = tmp_path / "p.bin"
    packet.write_bytes(PACKETS[1][0])
    results: dict[int, subprocess.CompletedProcess[str]] = {}

    def run(i: int) -> None:
        results[i] = bpfcov(
            "run", "--pin-dir", pin_dirs[i], "--", xdp_loader, "-r", str(10 * (i + 1)), packet
        )

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in (0, 1):
            assert results[i].returncode == 0, results[i].stderr
            assert bpfcov("gen", "-o", tmp_path / f"{i}.profraw", pin_dirs[i]).returncode == 0
            functions = export(tmp_path / f"{i}.profraw", tmp_path)
            assert functions["xdp_parser"]["count"] == 10 * (i + 1)
    finally:
        for d in pin_dirs:
            shutil.rmtree(d, ignore_errors=True)


def test_model_matches_packets() -> None:
    assert expected_counts()[0]["entry"] == sum(t for _, t in PACKETS)
    assert (EXAMPLES / "xdp" / "xdp_loader.c").exists()


def kernel_addresses(data: bytes) -> list[int]:
    """8-aligned words that look like kernel addresses (the top half of the space)."""
    words = [int.from_bytes(data[i : i + 8], "little") for i in range(0, len(data) - 7, 8)]
    return [w for w in words if w >= 0xFFFF800000000000]


def test_no_kernel_address_in_pins_or_outputs(xdp_loader: Path, pins: Path, tmp_path: Path) -> None:
    from bpfcov_build import bpf

    packet = tmp_path / "p.bin"
    packet.write_bytes(PACKETS[1][0])
    assert bpfcov("run", "--pin-dir", pins, "--", xdp_loader, packet).returncode == 0
    (group,) = pins.iterdir()
    for pin in group.iterdir():
        with bpf.owned_fd(bpf.obj_get(pin, read_only=True)) as fd:
            assert kernel_addresses(bpf.read_map_value(fd)) == [], pin.name
    assert bpfcov("gen", "-o", tmp_path / "x.profraw", pins).returncode == 0
    assert kernel_addresses((tmp_path / "x.profraw").read_bytes()) == []


def test_the_program_keeps_its_environment_and_privileges(pins: Path, tmp_path: Path) -> None:
    probe = "env | sort | grep -v '^_='; grep -E '^(Cap|Uid|Gid|Groups)' /proc/self/status"
    env = {**os.environ, "BPFCOV_PROBE": "a value with spaces ✓"}
    bare = subprocess.run(
        ["sh", "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout
    under = bpfcov("run", "--pin-dir", pins, "--", "sh", "-c", probe, env=env)
    assert under.stdout == bare
