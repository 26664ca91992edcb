"""bpfcov benchmarks: each figure a ratio of two things measured side by side, here, now.

    .venv/bin/python bench/bench.py [--rounds N] [--llvm N] [--only build,profile,kernel,run,gen]

The machines this runs on are shared and noisy, so nothing is compared with a figure
from another run: each benchmark alternates its two sides round by round and prints
min / median / max of each side and of their ratio. Needs root (it loads BPF).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import bpf, collect, profraw, ptrace, toolchain
from bpfcov_build.bpf import harness
from bpfcov_build.layout import (
    COUNTERS_TRAILER,
    COUNTERS_TRAILER_MAGIC,
    OBJECT_INFO,
    Section,
    mapping_object_info,
    pin_name,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
XDP = ROOT / "examples" / "xdp" / "xdp_parser.bpf.c"
TRACEPOINT = ROOT / "examples" / "tracepoint" / "sys_enter.bpf.c"
MAPS_PROG = ROOT / "tests" / "progs" / "maps.c"
DNS_PACKET = (
    bytes(12)
    + b"\x08\x00"
    + bytes([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0])
    + bytes([10, 0, 0, 1, 10, 0, 0, 2])
    + struct.pack("!HHHH", 4000, 53, 8, 0)
)


def bin_of(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


def multiarch() -> str:
    out = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True, check=True)
    return f"-I/usr/include/{out.stdout.strip()}"


def timed(
    cmd: Sequence[str | Path],
    *,
    check: bool = True,
    preexec_fn: Callable[[], None] | None = None,
) -> float:
    """Seconds ``cmd`` takes to run (its output captured)."""
    start = time.perf_counter()
    subprocess.run(cmd, check=check, capture_output=True, preexec_fn=preexec_fn)
    return time.perf_counter() - start


def timed_call(work: Callable[[], object]) -> float:
    """Seconds ``work()`` takes in this process."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def report(
    title: str,
    unit: str,
    a_name: str,
    a: list[float],
    b_name: str,
    b: list[float],
    goal: float | None = None,
) -> None:
    ratios = [y / x for x, y in zip(a, b, strict=True)]

    def mmm(xs: list[float]) -> str:
        return f"{min(xs):9.3f} {statistics.median(xs):9.3f} {max(xs):9.3f}"

    print(f"\n{title}")
    print(f"  {'':34} {'min':>9} {'median':>9} {'max':>9}")
    print(f"  {a_name + ' (' + unit + ')':34} {mmm(a)}")
    print(f"  {b_name + ' (' + unit + ')':34} {mmm(b)}")
    verdict = ""
    if goal is not None:
        verdict = "  " + _goal(
            f"{title.strip()}: {b_name} / {a_name}", statistics.median(ratios), goal, "x"
        )
    print(f"  {'ratio ' + b_name + ' / ' + a_name:34} {mmm(ratios)}{verdict}")


#: Every goal checked in this run: (what, measured median, limit, unit, met).
GOALS: list[tuple[str, float, float, str, bool]] = []


def _goal(what: str, measured: float, limit: float, unit: str) -> str:
    """Records one goal's verdict; returns it as the line's tail."""
    met = measured <= limit
    GOALS.append((what, measured, limit, unit, met))
    return f"goal <= {limit:g}{unit}: {'met' if met else 'MISSED'}"


def print_goals() -> None:
    """The goals of this run, each met or missed, in one list at the end."""
    if not GOALS:
        return
    print("\nGoals (medians of this run)")
    for what, measured, limit, unit, met in GOALS:
        print(
            f"  {'met   ' if met else 'MISSED'}  {measured:8.3f}{unit} <= {limit:g}{unit}  {what}"
        )


def large_program(path: Path, functions: int = 300) -> Path:
    """A generated BPF source of a few thousand lines: many small branchy functions."""
    parts = ["#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n"]
    for i in range(functions):
        parts.append(
            f"static __attribute__((noinline)) int f{i}(unsigned x)\n{{\n"
            f"\tunsigned acc = {i};\n\tfor (int k = 0; k < 4; k++) {{\n"
            f"\t\tif (x > k * {i + 1} && (x & {i % 7 + 1}))\n\t\t\tacc += x;\n"
            f"\t\telse if (x < {i})\n\t\t\tacc -= k;\n"
            f"\t\tswitch (x % 3) {{\n\t\tcase 0: acc ^= {i}; break;\n"
            f"\t\tcase 1: acc += 2; break;\n\t\tdefault: acc = acc > 9 ? acc - 9 : acc + 9;\n"
            f"\t\t}}\n\t}}\n\treturn acc;\n}}\n"
        )
    calls = "".join(f"\ts += f{i}(s + {i});\n" for i in range(functions))
    parts.append(
        f'SEC("xdp")\nint big(struct xdp_md *ctx)\n{{\n\tunsigned s = ctx->ingress_ifindex;\n'
        f"{calls}\treturn s > 0 ? XDP_PASS : XDP_DROP;\n}}\n"
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    path.write_text("".join(parts))
    return path


_COVERAGE = ["-fprofile-instr-generate", "-fcoverage-mapping"]


def bench_build(chain: toolchain.Toolchain, rounds: int, work: Path) -> None:
    """bpfcov-cc against plain clang, and against clang's own coverage instrumentation.

    The middle side is the floor for any tool built on clang's source-based
    coverage: what is left between it and bpfcov-cc is bpfcov's own cost.
    """
    big = large_program(work / "big.bpf.c")
    lines = len(big.read_text().splitlines())
    sources = (
        (XDP, "the XDP example"),
        (TRACEPOINT, "the raw tracepoint example"),
        (big, f"a generated program, {lines} lines"),
    )
    for source, label in sources:
        small = source is not big
        flags = ["-target", "bpf", "-O2", "-g", multiarch(), "-c", str(source)]
        sides: dict[str, list[float]] = {"plain": [], "instr": [], "ours": [], "py": []}
        own = [f"--bpfcov-llvm={chain.major}", *flags]
        cmds: dict[str, list[str | Path]] = {
            "plain": [chain.clang, *flags, "-o", work / "plain.o"],
            "instr": [chain.clang, *flags, *_COVERAGE, "-o", work / "instr.o"],
            "ours": [bin_of("bpfcov-cc"), *own, "-o", work / "ours.bpf.o"],
            "py": [bin_of("bpfcov-cc-py"), *own, "-o", work / "py.bpf.o"],
        }
        # One round first, not counted (caches); the small compiles take a tenth of a
        # second, so they get more rounds; every other round runs the sides backwards.
        count = rounds * 8 if small else rounds
        for i in range(count + 1):
            order = list(cmds.items())
            for side, cmd in order if i % 2 else reversed(order):
                took = timed(cmd)
                if i > 0:
                    sides[side].append(took)
        title = f"Build: {label} (LLVM {chain.major})"
        ours = "bpfcov-cc (.o + .obj)"
        report(
            title,
            "s",
            "clang -c",
            sides["plain"],
            ours,
            sides["ours"],
            goal=1.10 if small else None,
        )
        report(
            "  ... bpfcov's own share",
            "s",
            "clang -c " + " ".join(_COVERAGE),
            sides["instr"],
            ours,
            sides["ours"],
            goal=None if small else 1.05,
        )
        report(
            "  ... clang's instrumentation",
            "s",
            "clang -c",
            sides["plain"],
            "clang -c -fprofile-…",
            sides["instr"],
        )
        report(
            "  ... the Python wrapper instead",
            "s",
            "clang -c",
            sides["plain"],
            "bpfcov-cc-py",
            sides["py"],
        )


#: A pass's line in clang -ftime-report: user, system, user+system, wall (each
#: "seconds (percent%)"), then the name. Older LLVMs omit some columns, so the
#: wall time is the last figure.
_TIME_LINE = re.compile(r"^\s*(?P<figures>[\d.]+\s+\(.*%\))\s+(?P<name>\S.*)$")
_FIGURE = re.compile(r"([\d.]+)\s+\(\s*[\d.]+%\)")


def pass_times(cmd: Sequence[str | Path], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall seconds per optimisation and code-generation pass of one clang -ftime-report run."""
    ftime = [*cmd, "-ftime-report"]
    err = subprocess.run(ftime, capture_output=True, text=True, check=True, env=env).stderr
    times: dict[str, float] = {}
    in_passes = False
    for line in err.splitlines():
        if line.strip().endswith("report"):  # a section's title
            in_passes = "Pass execution timing report" in line
            continue
        match = _TIME_LINE.match(line) if in_passes else None
        if match and match["name"].strip() != "Total":
            name = match["name"].strip()
            wall = float(_FIGURE.findall(match["figures"])[-1])
            times[name] = times.get(name, 0.0) + wall
    return times


def profile_build(chain: toolchain.Toolchain, work: Path, top: int = 10) -> None:
    """Where clang's coverage instrumentation spends its time: passes, instrumented - plain."""
    big = large_program(work / "big.bpf.c")
    flags = ["-target", "bpf", "-O2", "-g", multiarch(), "-c", str(big)]
    plain = pass_times([chain.clang, *flags, "-o", work / "plain.o"])
    instrumented = pass_times([chain.clang, *flags, *_COVERAGE, "-o", work / "instr.o"])
    plugin: list[str | Path] = [
        *_COVERAGE,
        f"-fpass-plugin={chain.plugin}",
        "-o",
        work / "ours.bpf.o",
    ]
    env = {**os.environ, "BPFCOV_MAPPING_OBJECT": str(work / "ours.bpf.obj")}
    ours = pass_times([chain.clang, *flags, *plugin], env)
    print(
        f"\nBuild profile: clang -ftime-report, the generated program (LLVM {chain.major}), wall s"
    )
    print(f"  {'pass':44} {'plain':>7} {'+coverage':>10} {'added':>7} {'bpfcov':>7}")
    names = set(plain) | set(instrumented) | set(ours)
    added = sorted(names, key=lambda n: instrumented.get(n, 0.0) - plain.get(n, 0.0), reverse=True)
    for name in added[:top]:
        p, i, o = plain.get(name, 0.0), instrumented.get(name, 0.0), ours.get(name, 0.0)
        print(f"  {name[:44]:44} {p:7.3f} {i:10.3f} {i - p:+7.3f} {o:7.3f}")
    own = {n: t for n, t in ours.items() if n not in instrumented}
    for name, t in sorted(own.items(), key=lambda kv: -kv[1])[:3]:
        print(f"  {name[:44]:44} {'':7} {'':10} {'':7} {t:7.3f}")
    p, i, o = sum(plain.values()), sum(instrumented.values()), sum(ours.values())
    print(f"  {'all passes':44} {p:7.3f} {i:10.3f} {i - p:+7.3f} {o:7.3f}")


def _load(obj: Path, pins: Path) -> int:
    pins.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bpftool", "prog", "loadall", obj, pins], check=True, capture_output=True)
    return bpf.obj_get(pins / "xdp_parser")


def _on_every_cpu(fd: int, repeat: int) -> list[float]:
    """ns per run that each CPU's BPF_PROG_TEST_RUN saw, all CPUs running ``fd`` at once."""
    cpus = sorted(os.sched_getaffinity(0))
    barrier = threading.Barrier(len(cpus))
    ns: list[float] = []
    errors: list[BaseException] = []

    def one(cpu: int) -> None:
        try:
            os.sched_setaffinity(0, {cpu})  # this thread only
            barrier.wait()
            ns.append(harness.prog_test_run(fd, DNS_PACKET, repeat=repeat).duration_ns)
        except BaseException as exc:  # re-raised below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=one, args=(cpu,)) for cpu in cpus]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return ns


def bench_kernel(chain: toolchain.Toolchain, rounds: int, work: Path) -> None:
    """The XDP example in the kernel: uninstrumented, bpfcov-cc's default (atomic
    counters), and plain counters; on one CPU, then on every CPU at once."""
    flags = ["-target", "bpf", "-O2", "-g", multiarch(), "-c", str(XDP)]
    objs = {
        "plain": work / "k-plain.o",
        "default": work / "k-cov.bpf.o",
        "single": work / "k-single.bpf.o",
    }
    subprocess.run([chain.clang, *flags, "-o", objs["plain"]], check=True)
    cc = [bin_of("bpfcov-cc"), f"--bpfcov-llvm={chain.major}", *flags]
    subprocess.run([*cc, "-o", objs["default"]], check=True)
    subprocess.run([*cc, "-fprofile-update=single", "-o", objs["single"]], check=True)
    pins = Path("/sys/fs/bpf") / f"bpfcov-bench-{os.getpid()}"
    fds: dict[str, int] = {}
    cpus = len(os.sched_getaffinity(0))
    try:
        for name, obj in objs.items():
            fds[name] = _load(obj, pins / name)
        alone: dict[str, list[float]] = {name: [] for name in objs}
        together: dict[str, list[float]] = {name: [] for name in objs}
        for _ in range(rounds):
            for name, fd in fds.items():
                alone[name].append(
                    harness.prog_test_run(fd, DNS_PACKET, repeat=200_000).duration_ns
                )
            for name, fd in fds.items():
                together[name].append(statistics.median(_on_every_cpu(fd, 200_000)))
        title = f"Program in the kernel: XDP parser, ns per run (LLVM {chain.major})"
        report(title, "ns", "plain", alone["plain"], "default", alone["default"], goal=1.3)
        report(
            "  ... plain counters (-fprofile-update=single)",
            "ns",
            "plain",
            alone["plain"],
            "single",
            alone["single"],
        )
        report(
            f"  ... on {cpus} CPUs at once",
            "ns",
            "plain",
            together["plain"],
            "default",
            together["default"],
        )
        report(
            f"  ... on {cpus} CPUs at once, plain counters",
            "ns",
            "plain",
            together["plain"],
            "single",
            together["single"],
        )
        print("\n  size in the kernel   xlated B   jited B   verified insns")
        for name, fd in fds.items():
            info = bpf.prog_info(fd)
            print(
                f"  {name:18} {info.xlated_prog_len:10} {info.jited_prog_len:9} "
                f"{info.verified_insns:16}"
            )
    finally:
        for fd in fds.values():
            os.close(fd)
        shutil.rmtree(pins, ignore_errors=True)


def _allow_all_filter() -> None:
    """In the child, before exec: a seccomp filter that allows every call, nothing else."""
    ptrace.install_seccomp_filter(ptrace.allow_filter())


def bench_run(rounds: int, work: Path) -> None:
    """A program under bpfcov run vs bare: its own loop's time, and the whole command's.

    The middle side runs the program under a seccomp filter that allows everything,
    without bpfcov: the kernel's price for any filter, the floor for a seccomp trap.
    """
    prog = work / "maps"
    subprocess.run(["gcc", "-O2", "-o", prog, MAPS_PROG, "-lpthread"], check=True)
    out = work / "ns"
    pins = Path("/sys/fs/bpf") / f"bpfcov-bench-run-{os.getpid()}"
    cases = (
        ("getpid", "1000000", "1,000,000 getpid()"),
        ("read", "1000000", "1,000,000 one-byte read()s"),
        ("lookup", "100000", "100,000 BPF_MAP_LOOKUP_ELEM"),
        ("maps", "300", "300 BPF_MAP_CREATE"),
    )
    try:
        for mode, n, label in cases:
            loop: dict[str, list[float]] = {"bare": [], "filter": [], "run": []}
            whole: dict[str, list[float]] = {"bare": [], "filter": [], "run": []}
            for i in range(rounds):
                argv = [str(prog), mode, n, str(out)]
                whole["bare"].append(timed(argv))
                loop["bare"].append(int(out.read_text()) / 1e9)
                whole["filter"].append(timed(argv, preexec_fn=_allow_all_filter))
                loop["filter"].append(int(out.read_text()) / 1e9)
                pin = str(pins / f"{mode}{i}")
                whole["run"].append(
                    timed([bin_of("bpfcov"), "run", "--pin-dir", pin, "--", *argv], check=False)
                )
                loop["run"].append(int(out.read_text()) / 1e9)
            title = f"bpfcov run: {label}, the program's own loop"
            run_name = "under bpfcov run"
            goal = 1.05 if mode != "maps" else None
            report(title, "s", "bare", loop["bare"], run_name, loop["run"], goal=goal)
            if mode != "maps":
                report(
                    "  ... the kernel's seccomp entry alone",
                    "s",
                    "bare",
                    loop["bare"],
                    "allow-all filter, no bpfcov",
                    loop["filter"],
                )
                report(
                    "  ... bpfcov's own share",
                    "s",
                    "allow-all filter, no bpfcov",
                    loop["filter"],
                    run_name,
                    loop["run"],
                )
            report(
                "  ... the whole command, with bpfcov's start-up",
                "s",
                "bare",
                whole["bare"],
                run_name,
                whole["run"],
            )
            extra = [1000 * (r - b) for b, r in zip(whole["bare"], whole["run"], strict=True)]
            tail = (
                _goal(
                    f"bpfcov run's whole-command overhead, {label}",
                    statistics.median(extra),
                    20,
                    " ms",
                )
                if mode == "getpid"
                else ""
            )
            print(
                f"  {'... overhead, run - bare (ms)':34} {min(extra):9.1f} "
                f"{statistics.median(extra):9.1f} {max(extra):9.1f}  {tail}"
            )
            if mode != "maps":
                # What no seccomp-based tracer can go below: the same program under an
                # allow-all filter, as a whole command.
                floor = [
                    1000 * (f - b) for b, f in zip(whole["bare"], whole["filter"], strict=True)
                ]
                print(
                    f"  {'... the filter alone, filter - bare':34} {min(floor):9.1f} "
                    f"{statistics.median(floor):9.1f} {max(floor):9.1f}"
                )
    finally:
        shutil.rmtree(pins, ignore_errors=True)


def _synthetic_group(
    raw_version: int, major: int, functions: int, counters_each: int
) -> collect.MapGroup:
    """The map values of an object with that many functions, as the pass lays them out."""
    layout = profraw.layout_for(raw_version)
    records = b""
    for i in range(functions):
        values: dict[str, int | tuple[int, ...]] = {
            "NameRef": i + 1,
            "FuncHash": i * 7919,
            "CounterPtr": i * counters_each * 8,
            "UniformCounterPtr": 0,
            "BitmapPtr": 0,
            "FunctionPointer": 0,
            "Values": 0,
            "NumCounters": counters_each,
            "NumValueSites": (0,) * layout.value_kind_last + (0,),
            "OffloadDeviceWaveSize": 0,
            "NumBitmapBytes": 0,
        }
        names = {row.ident for row in layout.record if not row.is_padding}
        records += layout.pack_record({k: v for k, v in values.items() if k in names})
    object_id = 0xB0B
    info = {"RawVersion": layout.version, "LLVMMajor": major, "CovMapSize": 0}
    info["ObjectId"] = object_id
    head = struct.pack(
        "<" + "".join(row.fmt for _, row in OBJECT_INFO),
        *(info[row.ident] for _, row in OBJECT_INFO),
    )
    size = functions * counters_each * 8
    trailer = {
        "ObjectId": object_id,
        "RawVersion": layout.version,
        "LLVMMajor": major,
        "NumRecords": functions,
        "CountersSize": size,
        "BitmapSize": 0,
    }
    fields = b"".join(struct.pack(f"<{row.fmt}", trailer[row.ident]) for row in COUNTERS_TRAILER)
    path = b"bench.bpf.obj\0"
    path += b"\0" * (-len(path) % 8)
    tail = struct.pack("<QQ", len(fields) + len(path) + 16, COUNTERS_TRAILER_MAGIC)
    counters = struct.pack(f"<{functions * counters_each}Q", *range(functions * counters_each))
    counters += fields + path + tail
    return collect.MapGroup(
        "bench",
        {
            Section.COUNTERS: counters,
            Section.DATA: records,
            Section.NAMES: b"",
            Section.COVMAP: head + b"\0",
        },
    )


def _gen_in_process(run: Path, out: Path) -> None:
    for group in collect.pinned_groups(run):
        collect.write_coverage(collect.read_group(group), out)


def bench_gen(chain: toolchain.Toolchain, rounds: int, work: Path) -> None:
    """gen: 10,000 counters over 1,000 functions, read from real pinned maps; out: 100."""
    mapping_object = work / "g.bpf.obj"
    subprocess.run(
        [
            bin_of("bpfcov-cc"),
            f"--bpfcov-llvm={chain.major}",
            "-target",
            "bpf",
            "-O2",
            "-g",
            multiarch(),
            "-c",
            str(XDP),
            "-o",
            work / "g.bpf.o",
        ],
        check=True,
    )
    raw_version = mapping_object_info(mapping_object).raw_version
    group = _synthetic_group(raw_version, chain.major, 1000, 10)
    run = Path("/sys/fs/bpf") / f"bpfcov-bench-gen-{os.getpid()}" / "1-btf0"
    run.mkdir(parents=True)
    try:
        for section, value in group.values.items():
            fd = harness.map_create(bpf.MapType.ARRAY, 4, max(len(value), 1), 1, name=section.value)
            harness.map_update(fd, bytes(4), value.ljust(max(len(value), 1), b"\0"))
            bpf.obj_pin(fd, run / pin_name(section))
            os.close(fd)
        times = []
        for _ in range(rounds):
            times.append(timed([bin_of("bpfcov"), "gen", "-o", work / "g.profraw", run.parent]))
        inproc = []
        for _ in range(rounds):
            inproc.append(timed_call(lambda: _gen_in_process(run.parent, work / "h.profraw")))
    finally:
        shutil.rmtree(run.parent, ignore_errors=True)
    for i in range(100):
        shutil.copy(work / "h.profraw", work / f"m{i}.profraw")
        shutil.copy(work / "h.profraw.json", work / f"m{i}.profraw.json")
    merge = []
    for _ in range(rounds):
        merge.append(
            timed(
                [
                    bin_of("bpfcov"),
                    "out",
                    "-f",
                    "json",
                    "-o",
                    work / "m.json",
                    "--object",
                    mapping_object,
                    *(work / f"m{i}.profraw" for i in range(100)),
                ],
                check=False,
            )
        )
    print("\nbpfcov out: merging 100 profiles of 1,000 functions, then a JSON report (s)")
    print(f"  min {min(merge):.3f}  median {statistics.median(merge):.3f}  max {max(merge):.3f}")
    print("\nbpfcov gen: 1,000 functions, 10,000 counters")
    print(
        f"  whole command (s)   min {min(times):.3f}  median {statistics.median(times):.3f}"
        f"  max {max(times):.3f}  "
        + _goal("bpfcov gen, 1,000 functions, whole command", statistics.median(times), 0.1, " s")
    )
    print(
        f"  gen's own work (s)  min {min(inproc):.3f}  median {statistics.median(inproc):.3f}"
        f"  max {max(inproc):.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--llvm", type=int, help="LLVM major (default: newest with a plugin)")
    parser.add_argument(
        "--only",
        default="build,profile,kernel,run,gen",
        help="comma-separated: build, profile (clang -ftime-report, instrumented vs plain), "
        "kernel, run, gen",
    )
    args = parser.parse_args()
    chain = toolchain.select(args.llvm)
    only = set(args.only.split(","))
    print(
        f"bpfcov benchmarks: LLVM {chain.major}, {args.rounds} rounds, {os.cpu_count()} CPUs, "
        f"kernel {os.uname().release}"
    )
    with tempfile.TemporaryDirectory(prefix="bpfcov-bench-") as tmp:
        work = Path(tmp)
        if "build" in only:
            bench_build(chain, args.rounds, work)
        if "profile" in only:
            profile_build(chain, work)
        if "kernel" in only:
            bench_kernel(chain, args.rounds, work)
        if "run" in only:
            bench_run(args.rounds, work)
        if "gen" in only:
            bench_gen(chain, args.rounds, work)
    print_goals()
    return 0


if __name__ == "__main__":
    sys.exit(main())
