"""Shared helpers of the test suite: building with bpfcov-cc, loading with bpftool."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import bpf, toolchain

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BPFFS = Path("/sys/fs/bpf")
XDP_SOURCE = EXAMPLES / "xdp" / "xdp_parser.bpf.c"
TP_SOURCE = EXAMPLES / "tracepoint" / "sys_enter.bpf.c"


def multiarch_include() -> str:
    """-I for <asm/types.h>, which linux/bpf.h needs on Debian."""
    arch = subprocess.run(
        ["gcc", "-print-multiarch"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"-I/usr/include/{arch}"


def llvm_majors() -> list[int]:
    """Every LLVM major with both a clang and a bpfcov plugin here."""
    return [n for n in toolchain.plugin_majors() if n in toolchain.installed_majors()]


def llvm_include_dir(major: int) -> Path:
    """LLVM ``major``'s header directory, as its own ``llvm-config --includedir`` says."""
    config = toolchain.Toolchain(major).tool("llvm-config")
    return Path(
        subprocess.run(
            [config, "--includedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )


@functools.cache
def instrprof_define(major: int, name: str) -> int:
    """``#define name N`` of LLVM ``major``'s own InstrProfData.inc: the ground truth
    for its raw profile version (``INSTR_PROF_RAW_VERSION``), covmap version, ..."""
    inc = llvm_include_dir(major) / "llvm" / "ProfileData" / "InstrProfData.inc"
    found = re.search(rf"^#define {name} (\d+)$", inc.read_text(), re.MULTILINE)
    assert found, f"{inc} defines no {name}"
    return int(found.group(1))


def raw_version(major: int) -> int:
    """The raw profile version LLVM ``major`` writes and reads, from its headers."""
    return instrprof_define(major, "INSTR_PROF_RAW_VERSION")


@functools.cache
def clang_accepts(major: int, *flags: str) -> bool:
    """Whether clang-N compiles an instrumented BPF file with ``flags`` (a capability
    probe: e.g. -fcoverage-mcdc came with clang 18)."""
    with tempfile.TemporaryDirectory(prefix="bpfcov-test-probe-") as tmp:
        source = Path(tmp) / "probe.c"
        source.write_text("int f(int a, int b) { return a > 0 && b > 0; }\n")
        result = subprocess.run(
            [
                toolchain.Toolchain(major).clang,
                "-target",
                "bpf",
                "-fprofile-instr-generate",
                "-fcoverage-mapping",
                *flags,
                "-c",
                source,
                "-o",
                Path(tmp) / "probe.o",
            ],
            capture_output=True,
            check=False,
        )
    return result.returncode == 0


def mcdc_majors() -> list[int]:
    """The LLVM majors here (with a plugin) whose clang has -fcoverage-mcdc."""
    return [n for n in llvm_majors() if clang_accepts(n, "-fcoverage-mcdc")]


def script(name: str) -> str:
    """A console script of the installed package (bpfcov-cc, bpfcov)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install the package first"
    return found


def bpf_cflags() -> list[str]:
    return ["-target", "bpf", "-O2", "-g", multiarch_include()]


def bpfcov(
    *args: object, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the installed ``bpfcov`` with ``args``; its output captured as text."""
    return subprocess.run(
        [script("bpfcov"), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def build(source: Path, out: Path, major: int, *extra: str) -> Path:
    """Compiles ``source`` with bpfcov-cc for LLVM ``major``; returns the .bpf.o."""
    subprocess.run(
        [
            script("bpfcov-cc"),
            f"--bpfcov-llvm={major}",
            *bpf_cflags(),
            *extra,
            "-c",
            str(source),
            "-o",
            str(out),
        ],
        check=True,
    )
    return out


def build_plain(source: Path, out: Path, major: int) -> Path:
    """The same source compiled by plain clang: the control."""
    clang = toolchain.Toolchain(major).clang
    subprocess.run([clang, *bpf_cflags(), "-c", str(source), "-o", str(out)], check=True)
    return out


@dataclass
class Loaded:
    """An object loaded with ``bpftool prog loadall``, pinned under ``pin_dir``."""

    pin_dir: Path
    progs: dict[str, int] = field(default_factory=dict)
    maps: dict[str, int] = field(default_factory=dict)

    def map_value(self, name: str) -> bytes:
        return bpf.read_map_value(self.maps[name])

    def write_map(self, name: str, value: bytes) -> None:
        bpf.map_update(self.maps[name], (0).to_bytes(4, "little"), value)


@contextlib.contextmanager
def loaded(obj: Path) -> Iterator[Loaded]:
    """Loads every program of ``obj`` into the kernel; unloads on exit."""
    bpf.ensure_bpffs(BPFFS)
    pin_dir = BPFFS / f"bpfcov-test-{uuid.uuid4().hex[:12]}"
    pin_dir.mkdir()
    result = Loaded(pin_dir)
    try:
        proc = subprocess.run(
            ["bpftool", "prog", "loadall", obj, pin_dir, "pinmaps", pin_dir / "maps"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, f"bpftool could not load {obj}:\n{proc.stderr}"
        for entry in pin_dir.iterdir():
            if entry.is_file():
                result.progs[entry.name] = bpf.obj_get(entry)
        maps_dir = pin_dir / "maps"
        for entry in maps_dir.iterdir() if maps_dir.exists() else ():
            fd = bpf.obj_get(entry)
            result.maps[bpf.map_info(fd).name] = fd
        yield result
    finally:
        for fd in [*result.progs.values(), *result.maps.values()]:
            os.close(fd)
        shutil.rmtree(pin_dir, ignore_errors=True)


def build_loader(obj: Path, source: Path, skeleton: str, out_dir: Path) -> Path:
    """A libbpf skeleton loader: ``bpftool gen skeleton obj`` then gcc, in ``out_dir``."""
    header = out_dir / f"{skeleton}.skel.h"
    header.write_bytes(
        subprocess.run(
            ["bpftool", "gen", "skeleton", obj, "name", skeleton], capture_output=True, check=True
        ).stdout
    )
    binary = out_dir / source.stem
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Werror", f"-I{out_dir}", "-o", binary, source, "-lbpf"],
        check=True,
    )
    return binary


def run_dirs() -> set[Path]:
    """The run directories under bpfcov run's default root now."""
    root = BPFFS / "bpfcov"
    return set(root.iterdir()) if root.exists() else set()


def llvm_cov(major: int, command: str, obj: Path, profile: Path | None, *extra: str) -> str:
    """``llvm-cov-N COMMAND`` of a mapping object, with ``profile`` merged first (an
    empty profile when None); returns its stdout."""
    chain = toolchain.Toolchain(major)
    work = Path(tempfile.mkdtemp(prefix="bpfcov-test-cov-"))
    try:
        if profile is None:
            profile = work / "empty.proftext"
            profile.write_text("")
        profdata = work / "p.profdata"
        subprocess.run(
            [chain.llvm_profdata, "merge", "-sparse", profile, "-o", profdata], check=True
        )
        return subprocess.run(
            [chain.llvm_cov, command, *extra, obj, f"-instr-profile={profdata}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)


def function_names(major: int, obj: Path) -> list[str]:
    """The functions llvm-cov finds in a mapping object (with an empty profile)."""
    export = json.loads(llvm_cov(major, "export", obj, None, "-format=text"))
    return [f["name"] for f in export["data"][0]["functions"]]


def uleb128(value: int) -> bytes:
    """``value`` as an unsigned LEB128 (LLVM's name and mapping blobs use it)."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
