"""``bpfcov run``'s tracer against the running kernel: real processes, maps and pins.

The user programs are ``tests/progs/maps.c`` (coverage maps made with raw bpf(2), in
every process shape: twice, forked, threaded, after exec, dying, waiting for signals)
and ``tests/progs/maps32.c`` (the same through the i386 ABI), built with gcc into a
temporary directory; the real-libbpf case loads the XDP example with bpftool. Every
pin goes under a fresh directory in /sys/fs/bpf, removed afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support import BPFFS, build, multiarch_include, script

from bpfcov_build import arch, bpf, layout, ptrace
from bpfcov_build.errors import BpfcovError, NotFoundError
from bpfcov_build.layout import Section
from bpfcov_build.libc import SyscallError
from bpfcov_build.pin_dir import Groups
from bpfcov_build.tracer import (
    Exec,
    Exited,
    MapPinned,
    NothingLoaded,
    TraceEvent,
    _may_be_coverage_map,
    run_traced,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.kernel

PROGS = Path(__file__).resolve().parent / "progs"
COVERAGE_PINS = {
    layout.pin_name(s) for s in (Section.COUNTERS, Section.DATA, Section.NAMES, Section.COVMAP)
}
EXIT_OK = 7  # what maps.c exits with when all went well
WAIT_S = 10.0

# run_traced in a process of its own, as `bpfcov run` would: argv = pin_dir, program...
TRACER_SCRIPT = (
    "import sys\n"
    "from pathlib import Path\n"
    "from bpfcov_build.tracer import run_traced\n"
    "sys.exit(run_traced(sys.argv[2:], Path(sys.argv[1])))\n"
)
# The same through the native bpfcov, which runs `bpfcov run` itself.
NATIVE_SCRIPT = (
    "import os, sys\n"
    f"bpfcov = {script('bpfcov')!r}\n"
    "os.execv(bpfcov, [bpfcov, 'run', '--pin-dir', sys.argv[1], '--', *sys.argv[2:]])\n"
)


# --------------------------------------------------------------------------------------
# Fixtures and helpers.
# --------------------------------------------------------------------------------------


def _gcc(out: Path, *args: str) -> Path:
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Werror", multiarch_include(), *args, "-o", str(out)], check=True
    )
    return out


@pytest.fixture(scope="module")
def maps_prog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _gcc(tmp_path_factory.mktemp("progs") / "maps", str(PROGS / "maps.c"), "-pthread")


@pytest.fixture(scope="module")
def maps32_prog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    flags = ["-m32", "-static", "-nostdlib", "-ffreestanding", "-fno-pie", "-no-pie"]
    return _gcc(tmp_path_factory.mktemp("progs32") / "maps32", *flags, str(PROGS / "maps32.c"))


def _bpffs_dir(tag: str) -> Path:
    return BPFFS / f"bpfcov-test-{tag}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pin_dir() -> Iterator[Path]:
    bpf.ensure_bpffs(BPFFS)
    path = _bpffs_dir("tracer")
    yield path
    shutil.rmtree(path, ignore_errors=True)
    assert not path.exists()


def groups(pin_dir: Path) -> dict[str, set[str]]:
    """Group directory → the pins in it (not the mark of an object that loaded nothing:
    maps.c creates maps with raw bpf(2) and loads no program)."""
    return {
        d.name: {f.name for f in d.iterdir() if f.name != layout.NO_PROGRAM_LOADED}
        for d in pin_dir.iterdir()
    }


def counter(path: Path) -> int:
    """The first u64 of a pinned global-data map."""
    with bpf.owned_fd(bpf.obj_get(path)) as fd:
        return int.from_bytes(bpf.read_map_value(fd)[:8], "little")


def traced(argv: list[str | Path], pin_dir: Path) -> tuple[int, list[TraceEvent]]:
    events: list[TraceEvent] = []
    status = run_traced([str(a) for a in argv], pin_dir, on_event=events.append)
    return status, events


def wait_for(path: Path, what: str) -> str:
    deadline = time.monotonic() + WAIT_S
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
    return path.read_text()


@pytest.fixture(params=["reference", "native"])
def tracer(request: pytest.FixtureRequest) -> str:
    """Python that traces ``sys.argv[2:]`` into pin directory ``sys.argv[1]``: the
    reference tracer (run_traced), or the native bpfcov run."""
    return TRACER_SCRIPT if request.param == "reference" else NATIVE_SCRIPT


@contextlib.contextmanager
def tracer_process(
    tracer: str, pin_dir: Path, *argv: str | Path, prelude: str = "", **popen: object
) -> Iterator[subprocess.Popen[bytes]]:
    """The tracer in a child Python (after ``prelude``), killed if the test fails first."""
    proc = subprocess.Popen(
        [sys.executable, "-c", prelude + tracer, str(pin_dir), *map(str, argv)],
        **popen,  # type: ignore[call-overload]
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------------------
# Coverage maps are caught and pinned, grouped by object.
# --------------------------------------------------------------------------------------


def test_pins_the_coverage_maps_of_one_object(maps_prog: Path, pin_dir: Path) -> None:
    status, events = traced([maps_prog, "plain", "0x1234"], pin_dir)

    assert status == EXIT_OK
    assert groups(pin_dir) == {"1-btf0": COVERAGE_PINS}  # "unrelated" is not pinned
    assert counter(pin_dir / "1-btf0" / "_data_profc") == 0x1234
    main = events[0]
    assert main == Exec(main.pid, str(maps_prog))
    pinned = [e for e in events if isinstance(e, MapPinned)]
    assert [e.name for e in pinned] == [
        ".data.profc",
        ".rodata.profd",
        ".rodata.profn",
        ".rodata.covmap",
    ]
    assert {(e.pid, e.btf_id) for e in pinned} == {(main.pid, 0)}
    assert {e.path for e in pinned} == {pin_dir / "1-btf0" / p for p in COVERAGE_PINS}
    assert len({e.map_id for e in pinned}) == 4
    # maps.c loads no program: the object is named, and marked among its pins
    assert events[-2:] == [Exited(main.pid, EXIT_OK), NothingLoaded(pin_dir / "1-btf0")]
    assert (pin_dir / "1-btf0" / layout.NO_PROGRAM_LOADED).is_dir()


def test_same_object_twice_in_one_process_gives_two_groups(maps_prog: Path, pin_dir: Path) -> None:
    status, _ = traced([maps_prog, "twice", "100"], pin_dir)

    assert status == EXIT_OK
    assert groups(pin_dir) == {"1-btf0": COVERAGE_PINS, "2-btf0": COVERAGE_PINS}
    assert counter(pin_dir / "1-btf0" / "_data_profc") == 100
    assert counter(pin_dir / "2-btf0" / "_data_profc") == 101


@pytest.mark.parametrize("mode", ["fork", "thread", "exec"])
def test_maps_are_caught_in_children_threads_and_exec(
    maps_prog: Path, pin_dir: Path, mode: str
) -> None:
    status, events = traced([maps_prog, mode, "77"], pin_dir)

    assert status == EXIT_OK
    assert groups(pin_dir) == {"1-btf0": COVERAGE_PINS}
    assert counter(pin_dir / "1-btf0" / "_data_profc") == 77
    main = events[0].pid
    creators = {e.pid for e in events if isinstance(e, MapPinned)}
    exits = [e for e in events if isinstance(e, Exited)]
    if mode == "fork":
        (child,) = creators
        assert child != main
        assert exits == [Exited(child, 0), Exited(main, EXIT_OK)]
    else:
        assert creators == {main}  # a thread reports its process
        assert exits == [Exited(main, EXIT_OK)]
    execs = [e for e in events if isinstance(e, Exec)]
    assert len(execs) == (2 if mode == "exec" else 1)


@pytest.mark.parametrize(("sig", "expected"), [("KILL", 128 + 9), ("SEGV", 128 + 11)])
def test_death_by_signal_is_128_plus_n_and_pins_remain(
    maps_prog: Path, pin_dir: Path, sig: str, expected: int
) -> None:
    status, events = traced([maps_prog, "die", sig, "5"], pin_dir)

    assert status == expected
    assert events[-2] == Exited(events[0].pid, expected)
    assert groups(pin_dir) == {"1-btf0": COVERAGE_PINS}
    assert counter(pin_dir / "1-btf0" / "_data_profc") == 5


def test_bpf_through_the_32_bit_abi_is_caught(maps32_prog: Path, pin_dir: Path) -> None:
    assert platform.machine() == "x86_64"
    status, events = traced([maps32_prog], pin_dir)

    assert status == EXIT_OK
    assert groups(pin_dir) == {"1-btf0": {"_data_profc"}}
    assert counter(pin_dir / "1-btf0" / "_data_profc") == 0x3232
    assert [e.name for e in events if isinstance(e, MapPinned)] == [".data.profc"]


def test_group_numbers_continue_in_a_used_pin_dir(maps_prog: Path, pin_dir: Path) -> None:
    assert traced([maps_prog, "plain", "1"], pin_dir)[0] == EXIT_OK
    assert traced([maps_prog, "plain", "2"], pin_dir)[0] == EXIT_OK

    assert groups(pin_dir) == {"1-btf0": COVERAGE_PINS, "2-btf0": COVERAGE_PINS}
    assert counter(pin_dir / "2-btf0" / "_data_profc") == 2


def test_grouping_rule() -> None:
    g = Groups()
    placed = [
        g.place(0, Section.COUNTERS).number,  # btf-less object A
        g.place(0, Section.DATA).number,
        g.place(31, Section.COUNTERS).number,  # object with BTF 31, interleaved
        g.place(0, Section.COUNTERS).number,  # .data.profc again: btf-less object B
        g.place(31, Section.DATA).number,  # still BTF 31's group
        g.place(0, Section.DATA).number,  # joins B
        g.place(40, Section.COUNTERS).number,  # the same object loaded again: new BTF id
    ]
    assert placed == [1, 1, 2, 3, 2, 3, 4]
    assert {
        name
        for name in (
            ".data.profc",
            ".data.profbm",
            ".rodata.profd",
            ".rodata.profn",
            ".rodata.covmap",
            ".data",
            "unrelated",
        )
        if layout.section_of_map(name)
    } == {".data.profc", ".data.profbm", ".rodata.profd", ".rodata.profn", ".rodata.covmap"}


# --------------------------------------------------------------------------------------
# Real libbpf: the XDP example loaded by bpftool.
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def bpffs_dirs(*tags: str) -> Iterator[list[Path]]:
    dirs = [_bpffs_dir(tag) for tag in tags]
    try:
        yield dirs
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
            assert not d.exists()


def test_libbpf_object_is_pinned_as_one_group_with_its_btf_id(xdp_obj: Path, pin_dir: Path) -> None:
    with bpffs_dirs("progs") as (progs,):
        status, events = traced(["bpftool", "prog", "loadall", xdp_obj, progs], pin_dir)
        assert status == 0

        (name,) = groups(pin_dir)
        m = re.fullmatch(r"1-btf(\d+)", name)
        assert m
        btf_id = int(m.group(1))
        assert btf_id != 0
        assert groups(pin_dir)[name] == COVERAGE_PINS
        # its program loaded: nothing marked, nothing named
        assert {p.name for p in (pin_dir / name).iterdir()} == COVERAGE_PINS
        assert not [e for e in events if isinstance(e, NothingLoaded)]
        pinned = [e for e in events if isinstance(e, MapPinned)]
        assert {e.btf_id for e in pinned} == {btf_id}
        for pin in COVERAGE_PINS:
            with bpf.owned_fd(bpf.obj_get(pin_dir / name / pin)) as fd:
                info = bpf.map_info(fd)
            section = layout.section_of_map(info.name)
            assert section is not None
            assert (info.btf_id, layout.pin_name(section)) == (btf_id, pin)


def test_an_object_whose_programs_the_verifier_refuses_is_named(
    major: int, pin_dir: Path, tmp_path: Path
) -> None:
    refused = build(PROGS / "refused.bpf.c", tmp_path / "refused.bpf.o", major)
    with bpffs_dirs("progs") as (progs,):
        status, events = traced(["bpftool", "prog", "loadall", refused, progs], pin_dir)
    assert status != 0  # bpftool's own failure
    (name,) = groups(pin_dir)
    assert groups(pin_dir)[name] == COVERAGE_PINS  # the maps were created before the load
    assert (pin_dir / name / layout.NO_PROGRAM_LOADED).is_dir()
    assert [e for e in events if isinstance(e, NothingLoaded)] == [NothingLoaded(pin_dir / name)]


def test_two_loads_of_one_object_are_two_groups(xdp_obj: Path, pin_dir: Path) -> None:
    with bpffs_dirs("a", "b") as (a, b):
        script = f"bpftool prog loadall {xdp_obj} {a} && bpftool prog loadall {xdp_obj} {b}"
        status, _ = traced(["sh", "-c", script], pin_dir)
        assert status == 0

        found = groups(pin_dir)
        assert len(found) == 2
        names = sorted(found)
        ids = [int(re.fullmatch(r"\d-btf(\d+)", n).group(1)) for n in names]  # type: ignore[union-attr]
        assert [n.split("-")[0] for n in names] == ["1", "2"]
        assert 0 not in ids
        assert ids[0] != ids[1]
        assert all(pins == COVERAGE_PINS for pins in found.values())


# --------------------------------------------------------------------------------------
# Signals, stops, leftovers.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_to_the_tracer_reaches_the_program(
    tracer: str, maps_prog: Path, pin_dir: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    ready, out = tmp_path / "ready", tmp_path / "count"
    with tracer_process(tracer, pin_dir, maps_prog, "signals", ready, out) as proc:
        wait_for(ready, "the program's signal handlers")
        proc.send_signal(sig)
        assert proc.wait(timeout=WAIT_S) == 3  # the program's own exit, not the tracer's death
    assert out.read_text() == "1"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_a_signal_ignored_at_start_still_reaches_the_program(
    tracer: str, maps_prog: Path, pin_dir: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    # A background job of a script starts with SIGINT and SIGQUIT ignored; the program
    # inherits that, as it would bare, and its own handler then catches the signal.
    ready, out = tmp_path / "ready", tmp_path / "count"
    ignore = f"import signal; signal.signal({int(sig)}, signal.SIG_IGN)\n"
    with tracer_process(tracer, pin_dir, maps_prog, "signals", ready, out, prelude=ignore) as proc:
        wait_for(ready, "the program's signal handlers")
        proc.send_signal(sig)
        assert proc.wait(timeout=WAIT_S) == 3  # the program's own exit
    assert out.read_text() == "1"


def test_kill_int_reaches_a_background_job_of_a_script(
    maps_prog: Path, pin_dir: Path, tmp_path: Path
) -> None:
    # `bpfcov run -- tool &` in a script, then kill -INT: the job started with SIGINT
    # ignored, and still the program (which catches it) gets it, as it would bare.
    ready, out, pid = tmp_path / "ready", tmp_path / "count", tmp_path / "pid"
    job = f'"$@" & echo $! > {pid}; wait $!'
    proc = subprocess.Popen(
        [
            "sh",
            "-c",
            job,
            "sh",
            script("bpfcov"),
            "run",
            "--pin-dir",
            pin_dir,
            "--",
            maps_prog,
            "signals",
            ready,
            out,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(ready, "the program's signal handlers")
        os.kill(int(wait_for(pid, "the job's pid")), signal.SIGINT)
        _, err = proc.communicate(timeout=WAIT_S)
        assert proc.returncode == 3, err  # the program's own exit, passed on by bpfcov run
    finally:
        if proc.poll() is None:  # bpfcov run and the program are left: end both
            job = int(pid.read_text())
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{job}/task/{job}/children").read_text().split()
                for task in (job, *map(int, children)):
                    os.kill(task, signal.SIGKILL)
            proc.kill()
            proc.wait()
    assert out.read_text() == "1"


def test_terminal_interrupt_reaches_the_program_once(
    tracer: str, maps_prog: Path, pin_dir: Path, tmp_path: Path
) -> None:
    ready, out = tmp_path / "ready", tmp_path / "count"
    master, slave = os.openpty()
    # a session of its own with the pty as its terminal, the tracer in the foreground
    try:
        with tracer_process(
            tracer,
            pin_dir,
            maps_prog,
            "signals",
            ready,
            out,
            prelude="import fcntl, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n",
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        ) as proc:
            wait_for(ready, "the program's signal handlers")
            os.write(master, termios.tcgetattr(master)[6][termios.VINTR])  # ^C
            assert proc.wait(timeout=WAIT_S) == 3
    finally:
        os.close(slave)
        os.close(master)
    assert out.read_text() == "1"  # the terminal's SIGINT, not a second forwarded one


def test_stopped_program_stays_stopped_until_sigcont(
    tracer: str, maps_prog: Path, pin_dir: Path, tmp_path: Path
) -> None:
    pidfile, out = tmp_path / "pid", tmp_path / "continued"
    with tracer_process(tracer, pin_dir, maps_prog, "stop", pidfile, out) as proc:
        pid = int(wait_for(pidfile, "the program's pid"))
        deadline = time.monotonic() + WAIT_S
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in {"t", "T"}:
            assert time.monotonic() < deadline, "the program never stopped"
            time.sleep(0.01)
        time.sleep(0.3)
        assert not out.exists(), "the tracer let a stopped program run on"
        assert proc.poll() is None
        os.kill(pid, signal.SIGCONT)
        assert proc.wait(timeout=WAIT_S) == 5
    assert out.read_text() == "continued"


def test_descendants_that_outlive_the_program_are_followed_to_their_end(
    tracer: str, maps_prog: Path, pin_dir: Path, tmp_path: Path
) -> None:
    pidfile, out = tmp_path / "pid", tmp_path / "done"
    with tracer_process(tracer, pin_dir, maps_prog, "orphan", pidfile, out) as proc:
        assert proc.wait(timeout=WAIT_S) == EXIT_OK
    # The tracer returned only once the orphan was done, and caught what it loaded.
    assert out.read_text() == "done"
    assert groups(pin_dir) == {"1-btf0": COVERAGE_PINS}
    assert counter(pin_dir / "1-btf0" / "_data_profc") == 0x77


# --------------------------------------------------------------------------------------
# Speed: only bpf() stops the program.
# --------------------------------------------------------------------------------------


def test_syscall_heavy_program_runs_at_about_full_speed(
    maps_prog: Path, pin_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ns"
    argv = [str(maps_prog), "getpid", "1000000", str(out)]
    bare: list[tuple[float, float]] = []
    under: list[tuple[float, float]] = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(argv, check=True)
        bare.append((int(out.read_text()) / 1e9, time.perf_counter() - start))
        start = time.perf_counter()
        assert run_traced(argv, pin_dir) == 0
        under.append((int(out.read_text()) / 1e9, time.perf_counter() - start))
    bare_loop, bare_wall = min(b[0] for b in bare), min(b[1] for b in bare)
    loop, wall = min(u[0] for u in under), min(u[1] for u in under)
    ms = 1e3
    print(
        f"\n1,000,000 getpid(): bare loop {bare_loop * ms:.1f} ms (wall {bare_wall * ms:.1f} ms), "
        f"traced loop {loop * ms:.1f} ms (wall {wall * ms:.1f} ms): "
        f"{loop / bare_loop:.2f}x loop, {wall / bare_wall:.2f}x wall"
    )
    # A ptrace stop per system call costs microseconds: the loop would take tens of
    # times as long. Whole-command figures (start-up included) are bench/'s, not a
    # test's: wall time on a shared machine is noise.
    assert loop < 3 * bare_loop


# --------------------------------------------------------------------------------------
# Errors.
# --------------------------------------------------------------------------------------


def test_missing_program_is_a_one_line_error(pin_dir: Path) -> None:
    with pytest.raises(NotFoundError, match=r"^no-such-program-here: command not found$"):
        run_traced(["no-such-program-here"], pin_dir)


def test_program_that_is_not_executable_is_a_one_line_error(pin_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("not a program\n")
    with pytest.raises(BpfcovError, match=r"^cannot run .*data\.txt: Permission denied$"):
        run_traced([str(data)], pin_dir)


def test_pin_dir_off_bpffs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BpfcovError, match=r"is not on a bpf filesystem"):
        run_traced(["true"], tmp_path / "pins")
    assert not (tmp_path / "pins").exists()


def test_not_root_is_a_one_line_error(pin_dir: Path) -> None:
    script = (
        "import os\n"
        "from pathlib import Path\n"
        "from bpfcov_build.errors import BpfcovError\n"
        "from bpfcov_build.tracer import run_traced\n"
        "os.setuid(65534)\n"
        "try:\n"
        f"    run_traced(['true'], Path({str(pin_dir)!r}))\n"
        "except BpfcovError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("bpfcov run needs root")
    assert result.stdout.count("\n") == 1


def test_ptrace_errors_name_the_request() -> None:
    with pytest.raises(SyscallError) as info:
        ptrace.resume(ptrace.Request.CONT, 0x3FFF_FFFF)
    assert info.value.errno == 3  # ESRCH
    assert str(info.value) == "ptrace(PTRACE_CONT) failed for pid 1073741823: No such process"
    assert isinstance(info.value, BpfcovError)


# --------------------------------------------------------------------------------------
# Layouts and numbers against the C headers.
# --------------------------------------------------------------------------------------


def _c_values(
    tmp: Path, name: str, includes: list[str], exprs: list[str], *flags: str
) -> list[int]:
    source = "#include <stdio.h>\n#include <stddef.h>\n"
    source += "".join(f"#include <{h}>\n" for h in includes)
    source += "int main(void) {\n"
    source += "".join(f'  printf("%llu\\n", (unsigned long long)({e}));\n' for e in exprs)
    source += "  return 0;\n}\n"
    (tmp / f"{name}.c").write_text(source)
    exe = _gcc(tmp / name, *flags, str(tmp / f"{name}.c"))
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    return [int(v) for v in out.split()]


def _offset(cls: Any, path: str) -> int:  # cls: a ctypes Structure or Union class
    total = 0
    for part in path.split("."):
        desc = getattr(cls, part)
        total += desc.offset
        cls = next(t for n, t, *_ in cls._fields_ if n == part)
    return total


def test_struct_layouts_match_the_kernel_headers(tmp_path: Path) -> None:
    info = "struct ptrace_syscall_info"
    # (C member, ctypes path through the anonymous union "u")
    members = [
        ("op", "op"),
        ("arch", "arch"),
        ("instruction_pointer", "instruction_pointer"),
        ("stack_pointer", "stack_pointer"),
        ("entry.nr", "u.entry.nr"),
        ("entry.args", "u.entry.args"),
        ("exit.rval", "u.exit.rval"),
        ("exit.is_error", "u.exit.is_error"),
        ("seccomp.nr", "u.seccomp.nr"),
        ("seccomp.args", "u.seccomp.args"),
        ("seccomp.ret_data", "u.seccomp.ret_data"),
    ]
    exprs = [f"offsetof({info}, {c})" for c, _ in members] + [f"sizeof({info})"]
    exprs += ["sizeof(struct sock_filter)", "offsetof(struct sock_filter, k)"]
    exprs += ["sizeof(struct sock_fprog)", "offsetof(struct sock_fprog, filter)"]
    got = _c_values(tmp_path, "layout", ["linux/ptrace.h", "linux/filter.h"], exprs)
    mine = [_offset(ptrace.PtraceSyscallInfo, p) for _, p in members]
    mine += [ctypes.sizeof(ptrace.PtraceSyscallInfo)]
    mine += [ctypes.sizeof(ptrace.SockFilter), ptrace.SockFilter.k.offset]
    mine += [ctypes.sizeof(ptrace.SockFprog), ptrace.SockFprog.filter.offset]
    assert mine == got


def test_constants_match_the_kernel_headers(tmp_path: Path) -> None:
    names: list[tuple[str, int]] = [
        ("PTRACE_CONT", ptrace.Request.CONT),
        ("PTRACE_SYSCALL", ptrace.Request.SYSCALL),
        ("PTRACE_DETACH", ptrace.Request.DETACH),
        ("PTRACE_GETEVENTMSG", ptrace.Request.GETEVENTMSG),
        ("PTRACE_SEIZE", ptrace.Request.SEIZE),
        ("PTRACE_INTERRUPT", ptrace.Request.INTERRUPT),
        ("PTRACE_LISTEN", ptrace.Request.LISTEN),
        ("PTRACE_GET_SYSCALL_INFO", ptrace.Request.GET_SYSCALL_INFO),
        ("PTRACE_O_TRACESYSGOOD", ptrace.Option.TRACESYSGOOD),
        ("PTRACE_O_TRACEFORK", ptrace.Option.TRACEFORK),
        ("PTRACE_O_TRACEVFORK", ptrace.Option.TRACEVFORK),
        ("PTRACE_O_TRACECLONE", ptrace.Option.TRACECLONE),
        ("PTRACE_O_TRACEEXEC", ptrace.Option.TRACEEXEC),
        ("PTRACE_O_TRACESECCOMP", ptrace.Option.TRACESECCOMP),
        ("PTRACE_EVENT_FORK", ptrace.Event.FORK),
        ("PTRACE_EVENT_VFORK", ptrace.Event.VFORK),
        ("PTRACE_EVENT_CLONE", ptrace.Event.CLONE),
        ("PTRACE_EVENT_EXEC", ptrace.Event.EXEC),
        ("PTRACE_EVENT_SECCOMP", ptrace.Event.SECCOMP),
        ("PTRACE_EVENT_STOP", ptrace.Event.STOP),
        ("PTRACE_SYSCALL_INFO_EXIT", ptrace.SyscallInfoOp.EXIT),
        ("PTRACE_SYSCALL_INFO_SECCOMP", ptrace.SyscallInfoOp.SECCOMP),
        ("SECCOMP_SET_MODE_FILTER", ptrace.SECCOMP_SET_MODE_FILTER),
        ("SECCOMP_RET_TRACE", ptrace.SeccompRet.TRACE),
        ("SECCOMP_RET_ALLOW", ptrace.SeccompRet.ALLOW),
        ("__WALL", ptrace.WALL),
        ("AUDIT_ARCH_I386", arch.AUDIT_ARCH_I386),
        ("AUDIT_ARCH_ARM", arch.AUDIT_ARCH_ARM),
    ]
    includes = ["linux/ptrace.h", "linux/seccomp.h", "linux/wait.h", "linux/audit.h"]
    assert _c_values(tmp_path, "consts", includes, [c for c, _ in names]) == [
        int(v) for _, v in names
    ]


def test_compat_bpf_numbers_match_the_x86_headers(tmp_path: Path) -> None:
    assert platform.machine() == "x86_64"
    (i386,) = _c_values(tmp_path, "nr32", ["asm/unistd_32.h"], ["__NR_bpf"])
    (bit,) = _c_values(tmp_path, "x32bit", ["asm/unistd.h"], ["__X32_SYSCALL_BIT"])
    # unistd_x32.h spells its numbers as __X32_SYSCALL_BIT + n and leaves the bit to unistd.h
    (x32,) = _c_values(
        tmp_path, "nrx32", ["asm/unistd_x32.h"], ["__NR_bpf"], f"-D__X32_SYSCALL_BIT={bit}"
    )
    compat = {abi.name: abi for abi in arch.syscalls("x86_64").compat}
    assert (compat["i386"].audit_arch, compat["i386"].bpf) == (arch.AUDIT_ARCH_I386, i386)
    assert (compat["x32"].audit_arch, compat["x32"].bpf) == (arch.AUDIT_ARCH_X86_64, x32)
    assert bit == arch.X32_SYSCALL_BIT
    assert arch.syscalls("aarch64").bpf_numbers() == (
        (arch.AUDIT_ARCH_AARCH64, 280),
        (arch.AUDIT_ARCH_ARM, 386),
    )


def test_seccomp_filter_traps_bpf_map_create_under_every_abi_and_nothing_else() -> None:
    """Run the classic-BPF filter in Python over seccomp_data inputs."""
    table = arch.syscalls("x86_64")
    prog = ptrace.bpf_trap_filter(table, bpf.Cmd.MAP_CREATE)

    def run(audit_arch: int, nr: int, cmd: int = bpf.Cmd.MAP_CREATE) -> int:
        data = struct.pack("<iIQ6Q", nr, audit_arch, 0, cmd, 0, 0, 0, 0, 0)  # seccomp_data
        acc, pc = 0, 0
        while True:
            insn = prog[pc]
            pc += 1
            if insn.code == 0x20:  # ld [k]
                acc = int.from_bytes(data[insn.k : insn.k + 4], "little")
            elif insn.code == 0x15:  # jeq k
                pc += insn.jt if acc == insn.k else insn.jf
            else:
                assert insn.code == 0x06  # ret k
                return int(insn.k)

    trace, allow = ptrace.SeccompRet.TRACE, ptrace.SeccompRet.ALLOW
    assert run(arch.AUDIT_ARCH_X86_64, 321) == trace
    assert run(arch.AUDIT_ARCH_X86_64, arch.X32_SYSCALL_BIT | 321) == trace
    assert run(arch.AUDIT_ARCH_I386, 357) == trace
    assert run(arch.AUDIT_ARCH_X86_64, 357) == allow  # 357 is not bpf on x86_64
    assert run(arch.AUDIT_ARCH_I386, 321) == allow
    assert run(arch.AUDIT_ARCH_X86_64, 39) == allow  # getpid
    assert run(arch.AUDIT_ARCH_AARCH64, 280) == allow  # no such ABI here: let it run
    # Other bpf() commands run untraced; the command is an int (high half ignored).
    for cmd in (bpf.Cmd.MAP_LOOKUP_ELEM, bpf.Cmd.MAP_UPDATE_ELEM, bpf.Cmd.PROG_LOAD):
        assert run(arch.AUDIT_ARCH_X86_64, 321, cmd) == allow
        assert run(arch.AUDIT_ARCH_I386, 357, cmd) == allow
    assert run(arch.AUDIT_ARCH_X86_64, 321, 0xFFFF_FFFF_0000_0000) == trace
    (only,) = ptrace.allow_filter()  # bench's floor: one "ret ALLOW"
    assert (only.code, only.k) == (0x06, allow)


def test_map_create_steps_to_its_exit_only_for_coverage_names() -> None:
    """The name is read from the program's bpf_attr; what cannot be read counts as maybe."""

    def may_be(name: bytes, size: int | None = None, address: int | None = None) -> bool:
        attr = bpf.MapCreateAttr(map_name=name)
        return _may_be_coverage_map(
            os.getpid(),
            ctypes.addressof(attr) if address is None else address,
            ctypes.sizeof(attr) if size is None else size,
        )

    for section in layout.Section:
        assert may_be(layout.map_name(section).encode())
    assert not may_be(b"unrelated")
    assert not may_be(b".data")
    assert not may_be(b".data.profc", size=28)  # the attr ends before map_name
    assert may_be(b"unrelated", address=8)  # unreadable: let the exit stop decide
