"""One instrumented program on two CPUs at once: atomic counters lose nothing.

Two threads, each pinned to its own CPU with ``os.sched_setaffinity`` (which on
Linux binds the calling thread), run the XDP example with ``BPF_PROG_TEST_RUN`` and
a large ``repeat`` at the same time; the kernel runs each repeat loop on the
caller's CPU with migration disabled, so both CPUs increment the same counters
concurrently. (``BPF_F_TEST_RUN_ON_CPU`` would say the same without the pinning,
but the kernel takes it only for raw tracepoints, which do not support
``repeat``; for XDP it is EINVAL.)

With bpfcov-cc's default (atomic increments, ``-fprofile-update=atomic``) every
counter must hold exactly what the runs imply. Plain counters
(``-fprofile-update=single``) may lose increments: how many is measured and
printed, never required. The cost of atomic counters is measured too, as nanoseconds per run that
the kernel reports for the repeat loop, alone and on both CPUs at once. With
``BPFCOV_MEASURE_OUT=path`` the figures are also written there as JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support import (
    ETH_P_IP,
    IPPROTO_UDP,
    PORT_COUNTERS,
    XDP_COUNTERS,
    XDP_SOURCE,
    bpfcov,
    build,
    build_plain,
    counters_by_function,
    eth,
    ipv4,
    llvm_majors,
    loaded,
    model_xdp,
    udp,
)

from bpfcov_build.bpf import harness

if TYPE_CHECKING:
    from collections.abc import Iterator

CPUS = sorted(os.sched_getaffinity(0))[:2]
NEWEST = max(llvm_majors(), default=0)
pytestmark = [
    pytest.mark.kernel,
    pytest.mark.slow,
    pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs"),
]

PACKET = eth(ETH_P_IP) + ipv4(IPPROTO_UDP) + udp(53)  # every function, most counters
REPEAT = 1_000_000  # runs per BPF_PROG_TEST_RUN call
CALLS = 4  # calls per CPU
ROUNDS = 7  # cost measurements per variant; the median counts
COST_REPEAT = 300_000


def expected_per_run() -> dict[str, list[int]]:
    """What one run of PACKET adds to each counter, by function."""
    xdp: Counter[str] = Counter()
    port: Counter[str] = Counter()
    model_xdp(PACKET, xdp, port)
    return {
        "xdp_parser": [xdp[c] for c in XDP_COUNTERS],
        "xdp_parser.bpf.c:port_verdict": [port[c] for c in PORT_COUNTERS],
    }


@dataclass
class Hammer:
    """Both CPUs running one program at once: what each thread saw."""

    fd: int
    repeat: int
    calls: int
    durations: dict[int, list[int]] = field(default_factory=dict)  # ns per run, by CPU
    spans: dict[int, tuple[float, float]] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)

    def run(self) -> None:
        barrier = threading.Barrier(len(CPUS))
        threads = [threading.Thread(target=self._thread, args=(cpu, barrier)) for cpu in CPUS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.errors:
            raise self.errors[0]

    def _thread(self, cpu: int, barrier: threading.Barrier) -> None:
        try:
            os.sched_setaffinity(0, {cpu})  # this thread only
            assert os.sched_getaffinity(0) == {cpu}
            barrier.wait()
            start = time.monotonic()
            self.durations[cpu] = [
                harness.prog_test_run(self.fd, PACKET, repeat=self.repeat).duration_ns
                for _ in range(self.calls)
            ]
            self.spans[cpu] = (start, time.monotonic())
        except BaseException as exc:  # re-raised by run()
            self.errors.append(exc)
            barrier.abort()

    def overlap(self) -> float:
        """How much of the threads' time both were running: 1.0 is all of it."""
        starts, ends = zip(*self.spans.values(), strict=True)
        both = max(0.0, min(ends) - max(starts))
        return both / (max(ends) - min(starts))

    def runs(self) -> int:
        return len(CPUS) * self.calls * self.repeat


@pytest.fixture(scope="module")
def measured() -> Iterator[dict[str, Any]]:
    """The figures of this module; written to $BPFCOV_MEASURE_OUT at the end."""
    figures: dict[str, Any] = {"cpus": CPUS, "runs_per_cpu": CALLS * REPEAT, "llvm": {}}
    yield figures
    out = os.environ.get("BPFCOV_MEASURE_OUT")
    if out:
        Path(out).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def hammered_counts(obj: Path) -> tuple[dict[str, list[int]], Hammer]:
    """Loads ``obj``, runs it on both CPUs at once, returns its counters and the run."""
    with loaded(obj) as prog:
        hammer = Hammer(prog.progs["xdp_parser"], REPEAT, CALLS)
        hammer.run()
        return counters_by_function(prog), hammer


def test_default_counters_are_exact_on_two_cpus(major: int, tmp_path: Path) -> None:
    obj = build(XDP_SOURCE, tmp_path / "atomic.bpf.o", major)
    counts, hammer = hammered_counts(obj)
    runs = hammer.runs()
    for function, per_run in expected_per_run().items():
        assert counts[function] == [n * runs for n in per_run], function
    assert counts["xdp_parser"][0] == runs


def test_atomic_counts_reach_the_report(tmp_path: Path) -> None:
    """bpfcov gen and out on the hammered program: llvm-cov shows every run."""
    major = NEWEST
    obj = build(XDP_SOURCE, tmp_path / "atomic.bpf.o", major)
    with loaded(obj) as prog:
        hammer = Hammer(prog.progs["xdp_parser"], REPEAT // 4, CALLS)
        hammer.run()
        gen = bpfcov("gen", "-o", tmp_path / "x.profraw", prog.pin_dir)
        assert gen.returncode == 0, gen.stderr
    out = bpfcov("out", "-f", "json", "-o", tmp_path / "x.json", tmp_path / "x.profraw")
    assert out.returncode == 0, out.stderr
    functions = json.loads((tmp_path / "x.json").read_text())["data"][0]["functions"]
    counts = {f["name"]: f["count"] for f in functions}
    assert counts["xdp_parser"] == counts["xdp_parser.bpf.c:port_verdict"] == hammer.runs()


def test_plain_counters_lose_but_never_gain(
    major: int, tmp_path: Path, measured: dict[str, Any]
) -> None:
    obj = build(XDP_SOURCE, tmp_path / "plain.bpf.o", major, "-fprofile-update=single")
    counts, hammer = hammered_counts(obj)
    runs = hammer.runs()
    expected_total = counted_total = 0
    for function, per_run in expected_per_run().items():
        for i, n in enumerate(per_run):
            got, want = counts[function][i], n * runs
            assert got <= want, f"{function} counter {i}: {got} > {want}"
            expected_total += want
            counted_total += got
    entry_loss = runs - counts["xdp_parser"][0]
    figures = {
        "runs": runs,
        "entry_counted": counts["xdp_parser"][0],
        "entry_lost": entry_loss,
        "entry_lost_percent": round(100 * entry_loss / runs, 3),
        "increments_expected": expected_total,
        "increments_lost": expected_total - counted_total,
        "increments_lost_percent": round(
            100 * (expected_total - counted_total) / expected_total, 3
        ),
        "overlap": round(hammer.overlap(), 3),
    }
    measured["llvm"].setdefault(str(major), {})["plain_loss"] = figures
    print(
        f"\nmany-cpus llvm{major}: plain counters on CPUs {CPUS}: {runs} runs, entry counted "
        f"{figures['entry_counted']}, lost {entry_loss} ({figures['entry_lost_percent']}%); "
        f"all increments lost {figures['increments_lost_percent']}%; "
        f"threads overlapped {figures['overlap']:.0%} of the time"
    )


def test_cost_of_atomic_counters(tmp_path: Path, measured: dict[str, Any]) -> None:
    """ns per run: no counters, plain, atomic; alone, then on both CPUs at once."""
    major = NEWEST
    objs = {
        "uninstrumented": build_plain(XDP_SOURCE, tmp_path / "none.o", major),
        "plain": build(XDP_SOURCE, tmp_path / "plain.bpf.o", major, "-fprofile-update=single"),
        "atomic": build(XDP_SOURCE, tmp_path / "atomic.bpf.o", major),
    }
    alone: dict[str, list[int]] = {name: [] for name in objs}
    together: dict[str, list[int]] = {name: [] for name in objs}
    with (
        loaded(objs["uninstrumented"]) as a,
        loaded(objs["plain"]) as b,
        loaded(objs["atomic"]) as c,
    ):
        fds = {name: prog.progs["xdp_parser"] for name, prog in zip(objs, (a, b, c), strict=True)}
        for fd in fds.values():  # warm up
            harness.prog_test_run(fd, PACKET, repeat=COST_REPEAT)
        for _ in range(ROUNDS):  # interleaved, so drift hits every variant alike
            for name, fd in fds.items():
                alone[name].append(
                    harness.prog_test_run(fd, PACKET, repeat=COST_REPEAT).duration_ns
                )
            for name, fd in fds.items():
                hammer = Hammer(fd, COST_REPEAT, 1)
                hammer.run()
                together[name] += [d for ds in hammer.durations.values() for d in ds]
    cost = {
        "alone_ns": {name: statistics.median(v) for name, v in alone.items()},
        "two_cpus_ns": {name: statistics.median(v) for name, v in together.items()},
    }
    for key in ("alone_ns", "two_cpus_ns"):
        ns = cost[key]
        assert all(v > 0 for v in ns.values()), ns
        cost[key.replace("_ns", "_atomic_over_plain")] = round(ns["atomic"] / ns["plain"], 3)
        # What the counters themselves add to a run: the rest is the test-run loop.
        cost[key.replace("_ns", "_counters_ns")] = {
            name: ns[name] - ns["uninstrumented"] for name in ("plain", "atomic")
        }
    measured["cost"] = {"llvm": major, "repeat": COST_REPEAT, "rounds": ROUNDS, **cost}
    a_ns, t_ns = cost["alone_ns"], cost["two_cpus_ns"]
    print(
        f"\nmany-cpus llvm{major}: ns per run (median of {ROUNDS} x {COST_REPEAT}): "
        f"alone: none {a_ns['uninstrumented']}, plain {a_ns['plain']}, atomic {a_ns['atomic']} "
        f"(atomic/plain {cost['alone_atomic_over_plain']}); on two CPUs at once: "
        f"none {t_ns['uninstrumented']}, plain {t_ns['plain']}, atomic {t_ns['atomic']} "
        f"(atomic/plain {cost['two_cpus_atomic_over_plain']}); the counters alone add "
        f"{cost['alone_counters_ns']} ns, and {cost['two_cpus_counters_ns']} ns on two CPUs"
    )
