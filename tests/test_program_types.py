"""Program types beyond the examples, run in this kernel under bpfcov run, counted exactly.

tests/progs/kinds/ holds a tc classifier calling a global (separately verified)
function, a socket filter doing its work in a bpf_loop callback, a cgroup_skb
program (all run with BPF_PROG_TEST_RUN) and a task iterator (run by reading its
pinned link). bpftool loads them, as a user would; every count below follows from
the packet sizes sent or the lines read back.
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest
from support import ROOT, bpfcov, build

from bpfcov_build import bpf
from bpfcov_build.bpf import harness

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.kernel

KINDS = ROOT / "tests" / "progs" / "kinds"
ETH_HLEN = 14


def functions(run: Path, tmp_path: Path) -> dict[str, tuple[int, list[tuple[int, int, int]]]]:
    """bpfcov gen + out of ``run``: per function, its count and (line, true, false) branches."""
    profile = tmp_path / "p.profraw"
    gen = bpfcov("gen", "-o", profile, run)
    assert gen.returncode == 0, gen.stderr
    out = bpfcov("out", "-f", "json", "-o", tmp_path / "p.json", profile)
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "p.json").read_text())["data"][0]["functions"]
    return {
        f["name"].split(":")[-1]: (f["count"], sorted((b[0], b[4], b[5]) for b in f["branches"]))
        for f in data
    }


def test_tc_socket_filter_and_cgroup_skb(major: int, pins: Path, tmp_path: Path) -> None:
    pins.mkdir()
    obj = build(KINDS / "skb.bpf.c", tmp_path / "skb.bpf.o", major)
    progs = pins / "progs"
    run = bpfcov("run", "--pin-dir", pins / "run", "--", "bpftool", "prog", "loadall", obj, progs)
    assert run.returncode == 0, run.stderr

    def test_run(name: str, sizes: dict[int, int]) -> None:
        with bpf.owned_fd(bpf.obj_get(progs / name)) as fd:
            for size, times in sizes.items():
                harness.prog_test_run(fd, bytes(size), repeat=times)

    # tc sees the whole frame; socket filters and cgroup_skb see it past the
    # Ethernet header (BPF_PROG_TEST_RUN pulls it for them).
    tc = {64: 3, 120: 2, 80: 4}
    socket = {64 + ETH_HLEN: 3, 65 + ETH_HLEN: 2}
    cgroup = {64: 3, 114: 2}
    test_run("tc_prog", tc)
    test_run("socket_prog", socket)
    test_run("cgroup_prog", cgroup)

    found = functions(pins / "run", tmp_path)
    runs = sum(tc.values())
    big = sum(n for size, n in tc.items() if size > 100)
    mid = sum(n for size, n in tc.items() if 60 < size <= 100)
    # size_class: if (len > 100); len > 60 ? 1 : 0.  tc_prog: size_class(...) == 2 ?
    assert found["size_class"] == (runs, [(15, big, runs - big), (17, mid, runs - big - mid)])
    assert found["tc_prog"] == (runs, [(23, big, runs - big)])
    # bpf_loop(4, count_odd): (len + i) & 1 is true for two of the four i, whatever
    # len is; so c.odd > 1 always holds.
    sockets = sum(socket.values())
    assert found["count_odd"] == (4 * sockets, [(35, 2 * sockets, 2 * sockets)])
    assert found["socket_prog"] == (sockets, [(46, sockets, 0)])
    small = sum(n for size, n in cgroup.items() if size - ETH_HLEN < 80)
    assert found["cgroup_prog"] == (
        sum(cgroup.values()),
        [(52, small, sum(cgroup.values()) - small)],
    )


@pytest.fixture(scope="module")
def vmlinux_h(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vmlinux")
    dump = subprocess.run(
        ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
        capture_output=True,
        check=True,
    )
    (out / "vmlinux.h").write_bytes(dump.stdout)
    return out


def test_task_iterator(major: int, vmlinux_h: Path, pins: Path, tmp_path: Path) -> None:
    pins.mkdir()
    obj = build(KINDS / "iter.bpf.c", tmp_path / "iter.bpf.o", major, f"-I{vmlinux_h}")
    link = pins / "tasks"
    run = bpfcov("run", "--pin-dir", pins / "run", "--", "bpftool", "iter", "pin", obj, link)
    assert run.returncode == 0, run.stderr
    reads = [link.read_text() for _ in range(3)]
    lines = [line for text in reads for line in text.splitlines()]
    leaders = lines.count("L")
    assert leaders + lines.count("T") == len(lines) > 0

    count, branches = functions(pins / "run", tmp_path)["dump_task"]
    # Called once per task, and once more with no task at the end of each read.
    assert count == len(lines) + len(reads)
    assert branches == [(15, len(reads), len(lines)), (17, leaders, len(lines) - leaders)]
