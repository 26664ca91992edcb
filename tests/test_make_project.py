"""examples/make-project: a libbpf-bootstrap style Make project, built by its own Makefile.

Built plain (``make``) and instrumented (``make CLANG=bpfcov-cc``, ``make CC=bpfcov-cc``)
for the newest and the oldest LLVM here, in a copy of examples/ under tmp_path; its loaders run
in this kernel under ``bpfcov run``, and the test compares llvm-cov's counts with the
counts computed here from the inputs it gives each loader. The trampoline programs
(fentry, LSM) are probed: when the kernel refuses them, the test says why and skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from elftools.elf.elffile import ELFFile
from support import BPFFS, EXAMPLES, bpfcov, function_names, llvm_majors, script

from bpfcov_build import bpf, toolchain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

APPS = ("xdp_parser", "sys_enter", "uprobe", "tp_btf", "lsm", "fentry")
TRAMPOLINES = ("lsm", "fentry")
COVERAGE_SECTIONS = (".data.profc", ".rodata.profd", ".rodata.profn", ".rodata.covmap")
SOURCES = {
    "xdp_parser": EXAMPLES / "xdp" / "xdp_parser.bpf.c",
    "sys_enter": EXAMPLES / "tracepoint" / "sys_enter.bpf.c",
    **{app: EXAMPLES / "make-project" / f"{app}.bpf.c" for app in APPS[2:]},
}
EXIT_SKIP = 77


def chosen_majors() -> list[int]:
    """The newest and the oldest LLVM installed with a plugin (one, if one is here)."""
    found = llvm_majors()
    return sorted({max(found), min(found)}, reverse=True) if found else []


MAJORS = chosen_majors()


def test_an_llvm_with_a_plugin_is_here() -> None:
    assert MAJORS, "no LLVM with both clang and a bpfcov plugin: run scripts/setup.sh"


# --- the inputs each loader gets, and what its program must count --------------------

# xdp_parser's packet kinds, in the loader's order: how many times each runs, and what
# the parser sees in it.
XDP_KINDS = {
    # kind: (times, 802.1Q tag, IPv4, UDP, IHL 5, UDP port, TTL > 1)
    "dns": (5, False, True, True, True, 53, True),
    "ssh": (7, False, True, True, True, 22, True),
    "http": (2, False, True, True, True, 8080, True),
    "tcp": (4, False, True, False, True, 0, True),
    "ipv6": (3, False, False, False, False, 0, True),
    "ipopt": (6, False, True, True, False, 53, False),
    "vlan": (9, True, True, True, True, 53, True),
}
SYS_ENTER_CALLS = {"getppid": 7, "getuid": 5, "getgid": 3}
UPROBE_ARGS = (1, 12, 13, 40, 11, 22, 100, 7, 10, 35, 64)
FORKS, THREADS, THREAD_FORKS = 4, 3, 2
LSM_CALLS = (2, 3, 1)  # mprotect: stack RWX, anonymous map RWX, stack RW
UNLINKS = (3, 2)  # unlink(), unlinkat(dirfd)


def xdp_verdict(vlan: bool, ipv4: bool, udp: bool, ihl5: bool, port: int, ttl_ok: bool) -> str:
    del vlan
    if not ipv4:
        return "pass"
    if udp and ihl5:
        return "drop" if port != 53 and port < 1024 else "pass"
    return "pass" if ttl_ok else "drop"


def loader_args(app: str) -> list[int]:
    return {
        "xdp_parser": [k[0] for k in XDP_KINDS.values()],
        "sys_enter": list(SYS_ENTER_CALLS.values()),
        "uprobe": list(UPROBE_ARGS),
        "tp_btf": [FORKS, THREADS, THREAD_FORKS],
        "lsm": list(LSM_CALLS),
        "fentry": list(UNLINKS),
    }[app]


def loader_output(app: str) -> str:
    """What the loader prints: its program's own counts."""
    if app == "xdp_parser":
        return "".join(f"{k} {xdp_verdict(*v[1:])} {v[0]}\n" for k, v in XDP_KINDS.items())
    if app == "sys_enter":
        return "".join(f"{k} {n} " for k, n in SYS_ENTER_CALLS.items()) + "other 0\n"
    if app == "uprobe":
        big_even = sum(x > 10 and x % 2 == 0 for x in UPROBE_ARGS)
        return f"big_even {big_even} other {len(UPROBE_ARGS) - big_even}\n"
    if app == "tp_btf":
        return f"by_main {FORKS} threads {THREADS} by_threads {THREAD_FORKS}\n"
    if app == "lsm":
        stack_exec, map_exec, stack_rw = LSM_CALLS
        return f"denied {stack_exec} allowed {map_exec + stack_rw} eperm {stack_exec}\n"
    return f"from_cwd {UNLINKS[0]} from_dirfd {UNLINKS[1]}\n"


Branches = dict[str, tuple[int | None, int]]


def expected(app: str) -> dict[str, tuple[int | None, Branches]]:
    """Per function: its entry count, and per condition (its source text) the times it
    was true and false. A pid filter is (None, ours): the calls of other processes, true,
    are whatever else ran meanwhile; the entry count is then None too."""
    if app == "xdp_parser":
        n = {k: v[0] for k, v in XDP_KINDS.items()}
        rows = list(XDP_KINDS.values())
        total = sum(n.values())
        vlans = sum(r[0] for r in rows if r[1])
        ipv4 = sum(r[0] for r in rows if r[2])
        udp = sum(r[0] for r in rows if r[2] and r[3])
        udp5 = sum(r[0] for r in rows if r[2] and r[3] and r[4])
        rest_ttl_ok = sum(r[0] for r in rows if r[2] and not (r[3] and r[4]) and r[6])
        dns = sum(r[0] for r in rows if r[2] and r[3] and r[4] and r[5] == 53)
        privileged = sum(r[0] for r in rows if r[2] and r[3] and r[4] and r[5] in range(1024))
        privileged -= dns
        return {
            "xdp_parser": (
                total,
                {
                    "(void *)(eth + 1) > data_end": (0, total),
                    "i < MAX_VLAN_DEPTH": (total + vlans, 0),  # one break per packet
                    "proto != bpf_htons(ETH_P_8021Q)": (total, vlans),
                    "(void *)(vlan + 1) > data_end": (0, vlans),
                    "proto != bpf_htons(ETH_P_IP)": (total - ipv4, ipv4),
                    "(void *)(ip + 1) > data_end": (0, ipv4),
                    "ip->protocol == IPPROTO_UDP": (udp, ipv4 - udp),
                    "ip->ihl == 5": (udp5, udp - udp5),
                    "(void *)(udp + 1) > data_end": (0, udp5),
                    "ip->ttl > 1": (rest_ttl_ok, ipv4 - udp5 - rest_ttl_ok),
                },
            ),
            "port_verdict": (
                udp5,
                {
                    "port == DNS_PORT": (dns, udp5 - dns),
                    "port < 1024": (privileged, udp5 - dns - privileged),
                },
            ),
        }
    if app == "sys_enter":
        ours = sum(SYS_ENTER_CALLS.values())
        getppid, getuid, getgid = SYS_ENTER_CALLS.values()
        return {
            "sys_enter": (
                None,
                {
                    "pid != target_pid": (None, ours),
                    # each call of ours enters the loop until its id is found
                    "i < NWATCH": (getppid * 1 + getuid * 2 + getgid * 3, 0),
                    "watched[i] == id": (ours, getuid * 1 + getgid * 2),
                },
            )
        }
    if app == "uprobe":
        big = [x for x in UPROBE_ARGS if x > 10]
        even = [x for x in big if x % 2 == 0]
        return {
            "on_target": (
                len(UPROBE_ARGS),
                {
                    "x > 10": (len(big), len(UPROBE_ARGS) - len(big)),
                    "x % 2 == 0": (len(even), len(big) - len(even)),
                },
            )
        }
    if app == "tp_btf":
        ours = FORKS + THREADS + THREAD_FORKS
        return {
            "on_fork": (
                None,
                {
                    "parent->tgid != target_pid": (None, ours),
                    # a new process? then: forked by the main thread?
                    "child->tgid != parent->tgid": (FORKS + THREAD_FORKS, THREADS),
                    "parent->pid == parent->tgid": (FORKS, THREAD_FORKS),
                    "child->tgid == parent->tgid": (THREADS, THREAD_FORKS),
                },
            )
        }
    if app == "lsm":
        stack_exec, map_exec, stack_rw = LSM_CALLS
        ours = sum(LSM_CALLS)
        return {
            "no_exec_stack": (
                None,
                {
                    "pid != target_pid": (None, ours),
                    "prot & PROT_EXEC": (stack_exec + map_exec, stack_rw),
                    # the anonymous map lies below the stack: only the second test fails
                    "vma->vm_start <= vma->vm_mm->start_stack": (stack_exec + map_exec, 0),
                    "vma->vm_end >= vma->vm_mm->start_stack": (stack_exec, map_exec),
                },
            )
        }
    return {
        "on_unlinkat": (
            None,
            {"pid != target_pid": (None, sum(UNLINKS)), "dfd == AT_FDCWD": UNLINKS},
        )
    }


# --- building --------------------------------------------------------------------------


def make_env(major: int, bin_dir: Path) -> dict[str, str]:
    """The environment of make: `clang` is clang-<major>; bpfcov-cc picks <major>."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CC", "CLANG", "MAKEFLAGS", "MFLAGS", "BPFCOV_CLANG", "BPFCOV_DISABLE"}
    }
    clang = bin_dir / "clang"
    if not clang.exists():
        bin_dir.mkdir(parents=True, exist_ok=True)
        clang.symlink_to(toolchain.Toolchain(major).clang)
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    env["BPFCOV_LLVM"] = str(major)
    return env


def copy_project(dest: Path) -> Path:
    """examples/ under ``dest`` (the project compiles ../xdp and ../tracepoint)."""
    shutil.copytree(EXAMPLES, dest / "examples", ignore=shutil.ignore_patterns(".output", *APPS))
    return dest / "examples" / "make-project"


def make(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(project), f"-j{os.cpu_count() or 2}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def make_vars(how: str) -> list[str]:
    """plain: make; CLANG: make CLANG=bpfcov-cc; CC: make CC=bpfcov-cc."""
    return [] if how == "plain" else [f"{how}={script('bpfcov-cc')}"]


Build = tuple[Path, str]  # the project directory, make's output (V=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, str], Build]:
    """Builds the project once per (LLVM major, how), in its own copy."""
    cache: dict[tuple[int, str], Build] = {}

    def get(major: int, how: str) -> Build:
        if (major, how) not in cache:
            root = tmp_path_factory.mktemp(f"make-llvm{major}-{how}")
            project = copy_project(root)
            result = make(project, make_env(major, root / "bin"), "V=1", *make_vars(how))
            assert result.returncode == 0, result.stdout + result.stderr
            cache[major, how] = (project, result.stdout)
        return cache[major, how]

    return get


def sections(obj: Path) -> set[str]:
    with obj.open("rb") as f:
        return {s.name for s in ELFFile(f).iter_sections()}


# --- running ---------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def filesystems() -> None:
    """bpffs for the pins; tracefs, which libbpf falls back to for uprobes."""
    bpf.ensure_bpffs(BPFFS)
    tracefs = Path("/sys/kernel/tracing")
    if not tracefs.is_mount():
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(tracefs)], check=True)


@pytest.fixture
def pin_dir() -> Iterator[Path]:
    path = BPFFS / f"bpfcov-make-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_loader(project: Path, app: str, pin_dir: Path) -> subprocess.CompletedProcess[str]:
    result = bpfcov("run", "--pin-dir", pin_dir, "--", project / app, *loader_args(app))
    if result.returncode == EXIT_SKIP and result.stdout.startswith("skip: "):
        pytest.skip(f"{app}: {result.stdout.strip()}")  # what the kernel said
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == loader_output(app)
    return result


def where(source: Path, condition: str) -> tuple[int, int]:
    """The (line, column) where ``condition`` starts in ``source``: llvm-cov's key."""
    found = [
        (number, line.index(condition) + 1)
        for number, line in enumerate(source.read_text().splitlines(), 1)
        if condition in line and not line.lstrip().startswith(("*", "/*", "//"))
    ]
    assert len(found) == 1, f"{condition!r} occurs {len(found)} times in {source}"
    return found[0]


def coverage(app: str, pin_dir: Path, tmp_path: Path) -> dict[str, dict[str, object]]:
    """bpfcov gen + bpfcov out -f json: llvm-cov's functions, by name without prefixes."""
    gen = bpfcov("gen", "-o", tmp_path / f"{app}.profraw", pin_dir)
    assert gen.returncode == 0, gen.stderr
    out = bpfcov("out", "-f", "json", "-o", tmp_path / f"{app}.json", tmp_path / f"{app}.profraw")
    assert out.returncode == 0, out.stderr
    functions = json.loads((tmp_path / f"{app}.json").read_text())["data"][0]["functions"]
    # "file.bpf.c:port_verdict" (static); "file.bpf.c:____on_fork" (BPF_PROG's body)
    return {f["name"].rsplit(":", 1)[-1].removeprefix("____"): f for f in functions}


def assert_counts(app: str, functions: dict[str, dict[str, object]]) -> None:
    for name, (entry, conditions) in expected(app).items():
        function = functions[name]
        count = function["count"]
        assert isinstance(count, int)
        branches = {(b[0], b[1]): (b[4], b[5]) for b in function["branches"]}  # type: ignore[attr-defined]
        got = {c: branches[where(SOURCES[app], c)] for c in conditions}
        want = {c: (count - f if t is None else t, f) for c, (t, f) in conditions.items()}
        if entry is not None:
            assert count == entry, f"{name} entered {count} times"
        assert got == want, name


# --- the tests -------------------------------------------------------------------------


@pytest.mark.parametrize("major", MAJORS, ids=[f"llvm{n}" for n in MAJORS])
def test_plain_make(major: int, built: Callable[[int, str], Build]) -> None:
    project, log = built(major, "plain")
    output = project / ".output"
    assert (output / "vmlinux.h").is_file()
    lines = log.splitlines()
    for app in APPS:
        bpf_line = next(x for x in lines if x.endswith(f"-o .output/{app}.bpf.o"))
        assert bpf_line.startswith("clang -target bpf "), bpf_line
        assert COVERAGE_SECTIONS[0] not in sections(output / f"{app}.bpf.o")
        assert not (output / f"{app}.bpf.obj").exists()
        # Each loader loads its program through the skeleton and prints its counts.
        result = subprocess.run(
            [project / app, *map(str, loader_args(app))],
            capture_output=True,
            text=True,
            check=False,
        )
        if app in TRAMPOLINES and result.returncode == EXIT_SKIP:
            assert result.stdout.startswith("skip: the kernel refused to "), result
            continue
        assert (result.returncode, result.stdout) == (0, loader_output(app)), result.stderr


@pytest.mark.parametrize("how", ["CLANG", "CC"])
@pytest.mark.parametrize("major", MAJORS, ids=[f"llvm{n}" for n in MAJORS])
def test_instrumented_make(
    major: int, how: str, built: Callable[[int, str], Build], pin_dir: Path, tmp_path: Path
) -> None:
    project, log = built(major, how)
    cc = script("bpfcov-cc")
    lines = log.splitlines()
    for app in APPS:
        obj = project / ".output" / f"{app}.bpf.o"
        assert set(COVERAGE_SECTIONS) | {".BTF"} <= sections(obj), app
        assert (project / ".output" / f"{app}.bpf.obj").is_file()
        bpf_line = next(x for x in lines if x.endswith(f"-o .output/{app}.bpf.o"))
        assert bpf_line.startswith(f"{cc} -target bpf "), bpf_line
        loader_line = next(x for x in lines if x.endswith(f"-o .output/{app}.o"))
        assert loader_line.startswith(f"{cc} " if how == "CC" else "cc "), loader_line
    if how == "CC":  # a loader clang built (through bpfcov-cc) works as gcc's does
        run_loader(project, "uprobe", pin_dir)
        assert_counts("uprobe", coverage("uprobe", pin_dir, tmp_path))


def test_which_compiler_builds_bpf(tmp_path: Path) -> None:
    """$(CLANG), except `make CC=x` alone: one compiler for everything."""
    project = copy_project(tmp_path)
    env = make_env(MAJORS[0], tmp_path / "bin")

    def bpf_compiler(*args: str, **extra_env: str) -> str:
        result = make(project, {**env, **extra_env}, "-n", "V=1", *args)
        assert result.returncode == 0, result.stderr
        line = next(x for x in result.stdout.splitlines() if x.endswith(".output/uprobe.bpf.o"))
        return line.split(" -target bpf ", 1)[0]

    assert bpf_compiler() == "clang"
    assert bpf_compiler("CLANG=clang-x") == "clang-x"
    assert bpf_compiler("CC=one-cc") == "one-cc"
    assert bpf_compiler("CC=one-cc", "CLANG=clang-x") == "clang-x"
    assert bpf_compiler("CC=one-cc", CLANG="clang-env") == "clang-env"
    assert bpf_compiler(CC="gcc") == "clang"  # CC from the environment does not count


def test_incremental_rebuilds(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    env = make_env(MAJORS[0], tmp_path / "bin")
    assert make(project, env).returncode == 0
    assert make(project, env, "-q").returncode == 0

    def rebuilt_after_touching(header: str | None, *args: str) -> set[str]:
        before = {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()}
        time.sleep(0.01)
        if header:
            (project / header).touch()
        assert make(project, env, "-q", *args).returncode == 1
        result = make(project, env, *args)
        assert result.returncode == 0, result.stderr
        assert make(project, env, "-q", *args).returncode == 0
        return {
            str(p.relative_to(project))
            for p, mtime in before.items()
            if p.name != header and p.stat().st_mtime_ns != mtime
        }

    # tp_btf.h: included by tp_btf.bpf.c (and its loader) only.
    assert rebuilt_after_touching("tp_btf.h") == {
        ".output/tp_btf.bpf.o",
        ".output/tp_btf.bpf.d",
        ".output/tp_btf.skel.h",
        ".output/tp_btf.o",
        ".output/tp_btf.d",
        "tp_btf",
    }
    # loader.h: every loader, no BPF object, no skeleton.
    assert rebuilt_after_touching("loader.h") == {
        f".output/{a}.{ext}" for a in APPS for ext in ("o", "d")
    } | set(APPS)
    # Another BPF compiler rebuilds every BPF object, and what depends on them.
    instrumented = make_vars("CLANG")[0]
    changed = rebuilt_after_touching(None, instrumented)
    assert {f".output/{a}.bpf.o" for a in APPS} | set(APPS) <= changed
    assert all(COVERAGE_SECTIONS[0] in sections(project / ".output" / f"{a}.bpf.o") for a in APPS)

    assert make(project, env, "clean").returncode == 0
    assert not (project / ".output").exists()
    assert not any((project / a).exists() for a in APPS)


RUNNABLE = [a for a in APPS if a not in TRAMPOLINES]


@pytest.mark.parametrize("app", RUNNABLE)
@pytest.mark.parametrize("major", MAJORS, ids=[f"llvm{n}" for n in MAJORS])
def test_counts_under_bpfcov_run(
    major: int, app: str, built: Callable[[int, str], Build], pin_dir: Path, tmp_path: Path
) -> None:
    project, _ = built(major, "CLANG")
    run_loader(project, app, pin_dir)
    assert_counts(app, coverage(app, pin_dir, tmp_path))


@pytest.mark.parametrize("app", TRAMPOLINES)
@pytest.mark.parametrize("major", MAJORS, ids=[f"llvm{n}" for n in MAJORS])
def test_trampoline_programs(
    major: int, app: str, built: Callable[[int, str], Build], pin_dir: Path, tmp_path: Path
) -> None:
    project, _ = built(major, "CLANG")
    obj = project / ".output" / f"{app}.bpf.o"
    assert set(COVERAGE_SECTIONS) | {".BTF"} <= sections(obj)
    # llvm-cov reads the mapping object: with an empty profile, it lists the program.
    (name,) = expected(app)
    assert function_names(major, obj.with_suffix(".obj")) == [f"{app}.bpf.c:____{name}"]
    # Does this kernel run trampolines? Ask it: run the loader (skips with its reason).
    run_loader(project, app, pin_dir)
    assert_counts(app, coverage(app, pin_dir, tmp_path))
