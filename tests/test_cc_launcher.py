"""The native bpfcov-cc against the Python wrapper it stands for, on one table of calls.

Each call runs twice in the same directory, through ``bpfcov-cc`` (the launcher)
and through ``bpfcov-cc-py`` (the reference), with ``BPFCOV_VERBOSE=1``: the clang
command lines they print, their exit status, their output and the files they write
must be the same. The table says which calls the launcher takes itself and which it
hands over; a handed-over call says so in one verbose line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import script

from bpfcov_build import cc_options, toolchain

pytestmark = pytest.mark.llvm

PROG = '__attribute__((section("xdp"), used)) int prog(void *ctx) { return ctx ? 1 : 2; }\n'
OTHER = '__attribute__((section("tc"), used)) int other(void *ctx) { return ctx ? 3 : 4; }\n'
HOST = "int main(void) { return 0; }\n"
HANDING_OVER = b"bpfcov-cc: handing over to "


@dataclass(frozen=True)
class Call:
    """A compiler call: its arguments after ``--bpfcov-llvm=N``, and what it needs."""

    args: tuple[str, ...]
    native: bool
    """Whether the launcher takes it itself."""
    instruments: bool = False
    """Whether it compiles with coverage (LLVM 14 hands those over unless at v4)."""
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=lambda: {"x.bpf.c": PROG})
    pick: str = "flag"
    """How the major is picked: ``--bpfcov-llvm=N``, or ``BPFCOV_LLVM``, ``BPFCOV_CLANG``."""


BPF = ("-target", "bpf", "-O2", "-g")
CALLS = {
    "bpf-compile": Call((*BPF, "-c", "x.bpf.c", "-o", "x.bpf.o"), native=True, instruments=True),
    "no-dash-o": Call(("--target=bpf", "-O2", "-c", "x.bpf.c"), native=True, instruments=True),
    "bpfel-v4-subdir": Call(
        ("-target", "bpfel", "-O2", "-mcpu=v4", "-c", "x.bpf.c", "-o", "out/x.o"),
        native=True,
        instruments=True,
        files={"x.bpf.c": PROG, "out/.keep": ""},
    ),
    "paths-spelt-loosely": Call(
        (*BPF, "-c", "./sub/../x.bpf.c", "-o", "./out//x.bpf.o"),
        native=True,
        instruments=True,
        files={"x.bpf.c": PROG, "sub/.keep": "", "out/.keep": ""},
    ),
    "dependency-file": Call(
        (*BPF, "-MD", "-MF", "x.d", "-c", "x.bpf.c", "-ox.o"), native=True, instruments=True
    ),
    "single-update": Call(
        (*BPF, "-fprofile-update=single", "-c", "x.bpf.c"), native=True, instruments=True
    ),
    "language-flag": Call(
        (*BPF, "-c", "-x", "c", "x.src", "--output=x.o"),
        native=True,
        instruments=True,
        files={"x.src": PROG},
    ),
    "no-colour": Call(
        (*BPF, "-fno-color-diagnostics", "-c", "x.bpf.c"), native=True, instruments=True
    ),
    "llvm-from-env": Call(
        (*BPF, "-c", "x.bpf.c"), native=True, instruments=True, pick="BPFCOV_LLVM"
    ),
    "host-compile": Call(("-O2", "-c", "m.c", "-o", "m.o"), native=True, files={"m.c": HOST}),
    "host-link": Call(("m.c", "-o", "m"), native=True, files={"m.c": HOST}),
    "preprocess": Call(("-target", "bpf", "-E", "x.bpf.c"), native=True),
    "assembly-out": Call((*BPF, "-S", "x.bpf.c", "-o", "x.s"), native=True),
    "probe-to-null": Call((*BPF, "-c", "x.bpf.c", "-o", "/dev/null"), native=True),
    "lto": Call((*BPF, "-flto", "-c", "x.bpf.c", "-o", "x.o"), native=True),
    "missing-value": Call((*BPF, "-c", "x.bpf.c", "-o"), native=True),
    "disabled": Call((*BPF, "-c", "x.bpf.c"), native=True, env={"BPFCOV_DISABLE": "1"}),
    "version": Call(("--version",), native=True, files={}),
    "several-sources": Call(
        (*BPF, "-c", "x.bpf.c", "y.bpf.c"), native=False, files={"x.bpf.c": PROG, "y.bpf.c": OTHER}
    ),
    "response-file": Call(
        ("@args",), native=False, files={"x.bpf.c": PROG, "args": "-target bpf -O2 -c x.bpf.c\n"}
    ),
    "input-without-suffix": Call(
        (*BPF, "-c", "-x", "none", "prog", "-o", "p.o"), native=False, files={"prog": PROG}
    ),
    "llvm-ir": Call((*BPF, "-c", "x.ll"), native=False, files={"x.ll": ""}),
    "missing-directory": Call((*BPF, "-c", "x.bpf.c", "-o", "nowhere/x.o"), native=False),
    "bad-own-flag": Call((*BPF, "--bpfcov-llvm=new", "-c", "x.bpf.c"), native=False),
    "clang-by-path": Call((*BPF, "-c", "x.bpf.c"), native=False, pick="BPFCOV_CLANG"),
    "source-with-an-error": Call(
        (*BPF, "-c", "x.bpf.c"),
        native=True,
        instruments=True,
        files={"x.bpf.c": "int f(void) { return g; }\n"},
    ),
    # The front end fails: the mapping object of an earlier build is not this compile's.
    "source-with-an-error-beside-a-build": Call(
        (*BPF, "-c", "x.bpf.c", "-o", "x.bpf.o"),
        native=True,
        instruments=True,
        files={"x.bpf.c": "int f(void) { return g; }\n", "x.bpf.obj": "earlier"},
    ),
    # The back end fails (no signed division before v4), after the plugin wrote the mapping.
    "back-end-error": Call(
        (*BPF, "-mcpu=v3", "-fno-crash-diagnostics", "-c", "x.bpf.c", "-o", "x.bpf.o"),
        native=True,
        instruments=True,
        files={"x.bpf.c": "int f(int a, int b) { return a / b; }\n"},
    ),
}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: bytes
    commands: list[bytes]
    """The clang command lines printed with ``-v``."""
    messages: list[bytes]
    """stderr without those and without the hand-over line."""
    handed_over: bool
    files: dict[str, bytes]


def run(tool: str, call: Call, major: int, where: Path) -> Outcome:
    env = {**os.environ, "BPFCOV_VERBOSE": "1", **call.env}
    for name in ("BPFCOV_CLANG", "BPFCOV_LLVM", "BPFCOV_DISABLE"):
        if name not in call.env:
            env.pop(name, None)
    if call.pick == "BPFCOV_CLANG":
        env["BPFCOV_CLANG"] = str(toolchain.Toolchain(major).clang)
    elif call.pick == "BPFCOV_LLVM":
        env["BPFCOV_LLVM"] = str(major)
    flag = [f"--bpfcov-llvm={major}"] if call.pick == "flag" else []
    done = subprocess.run(
        [script(tool), *flag, *call.args], cwd=where, env=env, capture_output=True, check=False
    )
    lines = done.stderr.splitlines()
    files = {
        str(p.relative_to(where)): p.read_bytes()
        for p in sorted(where.rglob("*"))
        if p.is_file() and str(p.relative_to(where)) not in call.files
    }
    return Outcome(
        returncode=done.returncode,
        stdout=done.stdout,
        commands=[line for line in lines if line.startswith(b"bpfcov-cc: + ")],
        messages=[
            # clang names the back end's nodes by their addresses, which differ run to run.
            re.sub(rb"0x[0-9a-f]{6,}", b"0x?", line)
            for line in lines
            if not line.startswith((b"bpfcov-cc: + ", HANDING_OVER))
        ],
        handed_over=any(line.startswith(HANDING_OVER) for line in lines),
        files=files,
    )


def tree(where: Path, files: dict[str, str]) -> None:
    where.mkdir()
    for name, text in files.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(text)


def test_bpfcov_cc_is_the_native_launcher() -> None:
    assert Path(script("bpfcov-cc")).read_bytes()[:4] == b"\x7fELF"


@pytest.mark.parametrize("name", CALLS)
def test_launcher_does_what_the_wrapper_does(name: str, major: int, tmp_path: Path) -> None:
    call = CALLS[name]
    where = tmp_path / "w"
    tree(where, call.files)
    ours = run("bpfcov-cc", call, major, where)
    earlier = {n: (where / n).read_bytes() for n in call.files if (where / n).is_file()}
    shutil.rmtree(where)
    tree(where, call.files)
    reference = run("bpfcov-cc-py", call, major, where)
    native = call.native and not (
        # LLVM 14's back end cuts far jumps silently: only the Python wrapper reads
        # them back from the object, so the launcher hands those compiles over.
        call.instruments
        and major < cc_options.VALUES["FirstRefusingMajor"]
        and "-mcpu=v4" not in call.args
    )
    assert ours.handed_over == (not native), ours.messages
    assert ours.commands == reference.commands
    assert (ours.returncode, ours.stdout, ours.messages) == (
        reference.returncode,
        reference.stdout,
        reference.messages,
    )
    assert ours.files == reference.files
    if name == "bpf-compile":
        assert {"x.bpf.o", "x.bpf.obj"} <= ours.files.keys()
        assert ours.returncode == 0
    if name == "back-end-error":
        assert ours.returncode != 0
        assert ours.files == {}, "a failed compile left a mapping object"
    if name == "source-with-an-error-beside-a-build":
        assert ours.returncode != 0
        assert earlier["x.bpf.obj"] == (where / "x.bpf.obj").read_bytes() == b"earlier"
