"""The native ``bpfcov run`` against the Python one it stands for, on one table of runs.

Each run goes twice, through ``bpfcov`` (native) and through ``bpfcov-py`` (the
reference), into pin directories of their own: exit status, stdout and stderr (with
the pin directories, pids, map ids and the kernel's BTF ids and addresses written
alike), the tree of pins and the bytes of every pinned map must be the same. The table
says which runs the native one takes itself; with ``BPFCOV_VERBOSE=1`` a handed-over
run says so in one line, and a taken one does not. The processes behind the runs are
``tests/progs/maps.c`` in each process shape, its i386 twin, and real libbpf loads of
instrumented objects (bpftool, the XDP example's loader), on every LLVM.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import BPFFS, build, multiarch_include, script

from bpfcov_build import bpf, layout

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.kernel

PROGS = Path(__file__).resolve().parent / "progs"
HANDING_OVER = "bpfcov: handing over to "


@dataclass(frozen=True)
class Run:
    """``bpfcov run`` arguments (``{pins}``, ``{maps}``... filled in) and who takes them."""

    args: tuple[str, ...]
    native: bool


PINNED = ("--pin-dir", "{pins}", "--")
LOADALL_B = "bpftool prog loadall {xdp} {progs}/b"
RUNS = {
    "one-object": Run((*PINNED, "{maps}", "plain", "0x1234"), native=True),
    "twice": Run((*PINNED, "{maps}", "twice", "5"), native=True),
    "fork": Run((*PINNED, "{maps}", "fork", "5"), native=True),
    "thread": Run((*PINNED, "{maps}", "thread", "5"), native=True),
    "exec": Run((*PINNED, "{maps}", "exec", "5"), native=True),
    "killed": Run((*PINNED, "{maps}", "die", "KILL", "5"), native=True),
    "segfault": Run((*PINNED, "{maps}", "die", "SEGV", "5"), native=True),
    "orphan": Run((*PINNED, "{maps}", "orphan", "{tmp}/pid", "{tmp}/done"), native=True),
    "i386-abi": Run((*PINNED, "{maps32}", "plain", "0x99"), native=True),
    "libbpf-loader": Run((*PINNED, "{xdp_loader}", "-r", "3", "{packet}"), native=True),
    "bpftool-loadall": Run(
        (*PINNED, "sh", "-c", "bpftool prog loadall {xdp} {progs}/a && " + LOADALL_B),
        native=True,
    ),
    "verifier-refuses": Run(
        (*PINNED, "bpftool", "prog", "loadall", "{refused}", "{progs}/r"), native=True
    ),
    "refused-required": Run(
        ("--require-coverage", *PINNED, "bpftool", "prog", "loadall", "{refused}", "{progs}/r"),
        native=True,
    ),
    "nothing-made": Run((*PINNED, "true"), native=True),
    "nothing-required": Run(("--require-coverage", *PINNED, "true"), native=True),
    "program-fails": Run((*PINNED, "sh", "-c", "exit 9"), native=True),
    "pin-dir-joined": Run(("--pin-dir={pins}", "{maps}", "plain", "1"), native=True),
    "no-double-dash": Run(("--pin-dir", "{pins}", "{maps}", "plain", "1"), native=True),
    "not-executable": Run((*PINNED, "{tmp}/data.txt"), native=False),
    "not-found": Run((*PINNED, "no-such-program-here"), native=False),
    "verbose": Run(("-v", *PINNED, "{maps}", "plain", "1"), native=False),
    "help": Run(("--help",), native=False),
    "no-program": Run(("--pin-dir", "{pins}"), native=False),
    "pin-dir-in-use": Run(("--pin-dir", "{used}", "--", "true"), native=False),
    "pin-dir-off-bpffs": Run(("--pin-dir", "{tmp}/pins", "--", "true"), native=False),
    "pin-dir-dotted": Run(("--pin-dir", "{pins}/a.b", "--", "true"), native=False),
}


def _gcc(out: Path, *args: str) -> Path:
    subprocess.run(["gcc", "-O2", multiarch_include(), *args, "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def progs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("progs")
    flags32 = ["-m32", "-static", "-nostdlib", "-ffreestanding", "-fno-pie", "-no-pie"]
    packet = work / "packet.bin"
    packet.write_bytes(bytes(64))
    (work / "data.txt").write_text("not a program\n")
    return {
        "maps": _gcc(work / "maps", str(PROGS / "maps.c"), "-pthread"),
        "maps32": _gcc(work / "maps32", *flags32, str(PROGS / "maps32.c")),
        "packet": packet,
    }


@pytest.fixture(scope="module")
def refused(major: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(PROGS / "refused.bpf.c", tmp_path_factory.mktemp("refused") / "r.bpf.o", major)


def _tree(pins: Path) -> dict[str, bytes | None]:
    """Every path under ``pins``: a pinned map's value, None for a directory."""
    tree: dict[str, bytes | None] = {}
    for path in sorted(pins.rglob("*")):
        rel = _alike(str(path.relative_to(pins)), pins)
        if path.is_dir():
            tree[rel] = None
        else:
            with bpf.owned_fd(bpf.obj_get(path)) as fd:
                tree[rel] = bpf.read_map_value(fd)
    return tree


def _alike(text: str, *mine: Path) -> str:
    """Output with this run's directories, pids, map ids, BTF ids and addresses alike."""
    for n, path in enumerate(mine):
        text = text.replace(str(path), f"DIR{n}")
    text = re.sub(r"-btf[1-9]\d*", "-btfN", text)
    text = re.sub(r"\b(?:0x)?[0-9a-f]{16}\b", "ADDRESS", text)  # the kernel's, in verifier logs
    text = re.sub(r"\b(pid|map) \d+", r"\1 N", text)
    return re.sub(r"/bpfcov/[\w-]+-\d{8}-\d{6}-\d+", "/bpfcov/DEFAULT", text)


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str
    tree: dict[str, bytes | None]


@pytest.fixture
def places(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """Per implementation: fresh pin, progs and in-use directories on bpffs."""
    tag = uuid.uuid4().hex[:10]
    made = {
        f"{what}-{impl}": BPFFS / f"bpfcov-test-launcher-{tag}-{what}-{impl}"
        for what in ("pins", "progs", "used")
        for impl in ("bpfcov", "bpfcov-py")
    }
    for impl in ("bpfcov", "bpfcov-py"):
        made[f"progs-{impl}"].mkdir()
        (made[f"used-{impl}"] / "1-btf0").mkdir(parents=True)
    try:
        yield made
    finally:
        for path in made.values():
            shutil.rmtree(path, ignore_errors=True)


def _run(
    impl: str, run: Run, values: dict[str, Path | str], places: dict[str, Path], verbose: bool
) -> Outcome:
    pins = places[f"pins-{impl}"]
    fill = {
        **{k: str(v) for k, v in values.items()},
        "pins": str(pins),
        "progs": str(places[f"progs-{impl}"]),
        "used": str(places[f"used-{impl}"]),
    }
    args = [a.format(**fill) for a in run.args]
    env = {**os.environ, "BPFCOV_VERBOSE": "1"} if verbose else None
    done = subprocess.run(
        [script(impl), "run", *args], capture_output=True, text=True, check=False, env=env
    )
    tree = _tree(pins) if pins.is_dir() else {}
    if not verbose:
        shutil.rmtree(pins, ignore_errors=True)
        shutil.rmtree(places[f"progs-{impl}"], ignore_errors=True)
        places[f"progs-{impl}"].mkdir()
    own = (pins, places[f"progs-{impl}"], places[f"used-{impl}"])
    return Outcome(done.returncode, _alike(done.stdout, *own), _alike(done.stderr, *own), tree)


@pytest.mark.parametrize("name", list(RUNS))
def test_native_run_does_what_the_reference_does(
    name: str,
    progs: dict[str, Path],
    xdp_obj: Path,
    xdp_loader: Path,
    refused: Path,
    places: dict[str, Path],
    tmp_path: Path,
) -> None:
    run = RUNS[name]
    (tmp_path / "data.txt").write_text("not a program\n")
    values: dict[str, Path | str] = {
        **progs,
        "xdp": xdp_obj,
        "xdp_loader": xdp_loader,
        "refused": refused,
        "tmp": tmp_path,
    }
    native = _run("bpfcov", run, values, places, verbose=False)
    reference = _run("bpfcov-py", run, values, places, verbose=False)
    assert native.status == reference.status
    assert native.stdout == reference.stdout
    assert native.stderr == reference.stderr
    assert native.tree == reference.tree
    if name == "one-object":  # the table compares like with like, not nothing with nothing
        assert native.tree["1-btf0/_data_profc"] is not None
        assert native.tree["1-btf0/_data_profc"][:8] == (0x1234).to_bytes(8, "little")
    if name == "verifier-refuses":
        assert "r.bpf.obj" in native.stderr  # the object is named
        assert any(k.endswith(layout.NO_PROGRAM_LOADED) for k in native.tree)

    said = _run("bpfcov", run, values, places, verbose=True).stderr
    assert (HANDING_OVER in said) != run.native, said
    shutil.rmtree(places["pins-bpfcov"], ignore_errors=True)


def test_other_commands_go_to_the_reference() -> None:
    native = subprocess.run(
        [script("bpfcov"), "version"], capture_output=True, text=True, check=False
    )
    reference = subprocess.run(
        [script("bpfcov-py"), "version"], capture_output=True, text=True, check=False
    )
    assert (native.returncode, native.stdout, native.stderr) == (
        reference.returncode,
        reference.stdout,
        reference.stderr,
    )
    assert native.returncode == 0


def test_bpfcov_is_native() -> None:
    assert Path(script("bpfcov")).read_bytes()[:4] == b"\x7fELF"
