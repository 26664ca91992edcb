"""Building with bpfcov-cc and the installed LLVMs, and reading back with llvm-cov."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bpfcov_build import toolchain

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BPFFS = Path("/sys/fs/bpf")
XDP_SOURCE = EXAMPLES / "xdp" / "xdp_parser.bpf.c"
TP_SOURCE = EXAMPLES / "tracepoint" / "sys_enter.bpf.c"
ACL_SOURCE = EXAMPLES / "mcdc" / "acl.bpf.c"


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


def clang_probe(major: int, *args: str) -> subprocess.CompletedProcess[str]:
    """clang-N on a small instrumented BPF file with a decision, with ``args``."""
    with tempfile.TemporaryDirectory(prefix="bpfcov-test-probe-") as tmp:
        source = Path(tmp) / "probe.c"
        source.write_text("int f(int a, int b) { return a > 0 && b > 0; }\n")
        return subprocess.run(
            [
                toolchain.Toolchain(major).clang,
                "-target",
                "bpf",
                "-fprofile-instr-generate",
                "-fcoverage-mapping",
                *args,
                source,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp,
        )


@functools.cache
def clang_accepts(major: int, *flags: str) -> bool:
    """Whether clang-N compiles an instrumented BPF file with ``flags`` (a capability
    probe: e.g. -fcoverage-mcdc came with clang 18)."""
    return clang_probe(major, *flags, "-c", "-o", "probe.o").returncode == 0


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
