"""Every subcommand, fed bad input as root and as an unprivileged user: one line, no traceback.

``BAD`` is a table: the command line, who runs it (root, or ``nobody`` through
setpriv), and what its one line on stderr must say. Each row must exit with the
status given (2 for bad usage, 1 for the rest), print exactly one line, name the
thing at fault, and leave the user's files as they were. A few rows run where
no bpffs is mounted (a private mount namespace with /sys/fs/bpf unmounted).
The objects, runs and profiles the rows use are real: the XDP example, built by
bpfcov-cc, loaded by bpftool under bpfcov run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import XDP_SOURCE, bpfcov, build, llvm_majors, script

from bpfcov_build.layout import RUN_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.kernel

NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
# A mount namespace of its own, /sys made private in it first (so that the umount
# reaches no other namespace) without touching /, which is no mount point in a chroot.
NO_BPFFS = ("unshare", "--mount", "--propagation", "unchanged", "sh", "-c")
USER_TEXT = "the user's own notes\n"


@dataclass(frozen=True)
class Bad:
    """One bad input: the arguments (``{name}`` filled from the fixture), who, the outcome."""

    args: tuple[str, ...]
    says: str
    """What the one line on stderr must contain (placeholders filled too)."""
    status: int = 1
    user: str = "root"
    no_bpffs: bool = False
    env: dict[str, str] = field(default_factory=dict)
    tool: str = "bpfcov"

    @property
    def id(self) -> str:
        where = "-nobpffs" if self.no_bpffs else ""
        return f"{self.user}{where}:{self.tool} {' '.join(self.args)}"


BAD = [
    # bpfcov (no subcommand) and argparse's own errors
    Bad(("frobnicate",), "invalid choice: 'frobnicate'", status=2),
    Bad(("gen", "--pid", "abc", "--live"), "invalid int value: 'abc'", status=2),
    # gen
    Bad(("gen",), "give a run directory or --live (not both)", status=2),
    Bad(("gen", "--live", "{run}"), "give a run directory or --live (not both)", status=2),
    Bad(("gen", "--live", "--unpin"), "--unpin goes with a run directory", status=2),
    Bad(("gen", "--pid", "1", "{run}"), "they go with --live", status=2),
    Bad(("gen", "{work}/nope"), "{work}/nope: no such run directory"),
    Bad(("gen", "{work}"), "{work}: holds no coverage maps"),
    Bad(("gen", "-o", "{userfile}", "{run}"), "{userfile} exists and is not a raw profile"),
    Bad(("gen", "-o", "{userfile}/x/", "{run}"), "{userfile} is not a directory"),
    Bad(("gen", "-o", "{userdir}", "{run}"), "{userdir}/xdp_parser.bpf.profraw"),
    Bad(("gen", "--live", "--pid", "999999999"), "no instrumented object to write for --pid"),
    Bad(("gen", "--live", "--object", "nosuch.bpf.o"), "no instrumented object to write"),
    Bad(
        ("gen", "{run}"),
        "{run}: permission denied; reading coverage maps needs root",
        user="nobody",
    ),
    Bad(("gen", "--live"), "permission denied; reading coverage maps needs root", user="nobody"),
    Bad(("gen", "--live"), "/sys/fs/bpf is not a bpf filesystem", user="nobody", no_bpffs=True),
    Bad(("gen", "{run}"), "{run}: no such run directory", no_bpffs=True),
    # run
    Bad(("run",), "no program to run", status=2),
    Bad(("run", "--", "no-such-command-xyz"), "no-such-command-xyz: command not found"),
    Bad(
        ("run", "--pin-dir", "/sys/fs/bpf/bpfcov/a.b", "--", "true"), "no name with a dot", status=2
    ),
    Bad(("run", "--pin-dir", "{work}/pins", "--", "true"), "is not on a bpf filesystem"),
    Bad(("run", "--pin-dir", "{run}", "--", "true"), "{run} is in use by an earlier run"),
    Bad(("run", "--", "true"), "bpfcov run needs root", user="nobody"),
    Bad(("run", "--", "true"), "bpfcov run needs root", user="nobody", no_bpffs=True),
    # out
    Bad(("out", "{work}/nope.profraw"), "{work}/nope.profraw: cannot read: No such file"),
    Bad(("out", "{userfile}"), "{userfile}: not an LLVM raw profile"),
    Bad(("out", "-f", "pdf", "{profile}"), "unknown format 'pdf'", status=2),
    Bad(("out", "-f", "json", "{profile}"), "-f json needs -o", status=2),
    Bad(("out", "-f", "json,lcov", "{profile}"), "several formats need -o DIR", status=2),
    Bad(("out", "--exclude-regex", "(", "{profile}"), "bad regex '('", status=2),
    Bad(("out", "--path-equivalence", "/a", "{profile}"), "give FROM,TO", status=2),
    Bad(("out", "--include", "nomatch*", "{profile}"), "every source file was left out"),
    Bad(
        ("out", "-f", "html", "-o", "{userfile}", "{profile}"),
        "{userfile} exists and is not a directory",
    ),
    Bad(
        ("out", "-f", "json", "-o", "{userfile}", "{profile}"),
        "{userfile} exists and is not a json report",
    ),
    Bad(
        ("out", "-f", "html", "-o", "{userdir}", "{profile}"),
        "{userdir} is a directory bpfcov did not write",
    ),
    Bad(
        ("out", "-f", "json", "-o", "{userfile}/c.json", "{profile}"),
        "{userfile} is not a directory",
    ),
    Bad(("out", "--object", "/bin/true", "{profile}"), "/bin/true: not a mapping object"),
    Bad(
        ("out", "--object", "{work}/gone.bpf.obj", "{profile}"),
        "{work}/gone.bpf.obj: no such object",
    ),
    Bad(("out", "--object", "{other_obj}", "{profile}"), "but the profiles are from LLVM"),
    Bad(("out", "{orphan}"), "{orphan}: which object it belongs to is not known"),
    Bad(("out", "{profile}"), "{profile}: cannot read: permission denied", user="nobody"),
    Bad(("out", "-f", "json", "-o", "/proc/c.json", "{mine}"), "/proc", user="nobody"),
    # list and clean
    Bad(("list",), "permission denied; reading coverage maps needs root", user="nobody"),
    Bad(("clean",), "give the runs to remove, or --all", status=2),
    Bad(("clean", "{work}"), "{work} is not a bpfcov run"),
    Bad(("clean", "/sys/fs/bpf/no-such-run"), "no such run directory"),
    Bad(("clean", "{run}"), "{run}: permission denied; removing a run needs root", user="nobody"),
    # skel
    Bad(("skel",), "give the object", status=2),
    Bad(("skel", "{work}/nope.bpf.o"), "{work}/nope.bpf.o: no such object"),
    Bad(("skel", "/bin/true"), "/bin/true: an ELF object for EM_X86_64, not BPF"),
    Bad(("skel", "{userfile}"), "{userfile}: not an ELF object"),
    Bad(("skel", "--name", "1x", "{obj}"), "must be a C identifier", status=2),
    Bad(("skel", "-o", "{userfile}", "{obj}"), "{userfile} exists and is not a skeleton header"),
    # the compiler wrapper, asked for an LLVM that is not here
    Bad(
        ("-target", "bpf", "-c", "{source}", "-o", "{work}/x.bpf.o"),
        "clang-37 not found, and this system's apt sources have no clang-37 package; LLVM here:",
        env={"BPFCOV_LLVM": "37"},
        tool="bpfcov-cc",
    ),
    Bad(
        ("-target", "bpf", "-c", "{source}", "-o", "{work}/x.bpf.o"),
        "LLVM 13 is not supported",
        env={"BPFCOV_LLVM": "13"},
        tool="bpfcov-cc",
    ),
]
if os.uname().machine != "x86_64":
    BAD = [b for b in BAD if "EM_X86_64" not in b.says]


@pytest.fixture(scope="module")
def places() -> Iterator[dict[str, str]]:
    """A real run, profiles and objects, in a directory every user may read."""
    newest = llvm_majors()[-1]
    work = Path(tempfile.mkdtemp(prefix="bpfcov-bad-input-"))
    work.chmod(0o755)
    run = RUN_ROOT / f"bad-input-{os.getpid()}"
    progs = Path("/sys/fs/bpf") / f"bpfcov-bad-input-progs-{os.getpid()}"
    try:
        obj = build(XDP_SOURCE, work / "xdp_parser.bpf.o", newest)
        older = [n for n in llvm_majors() if n != newest]
        other_obj = build(XDP_SOURCE, work / "other.bpf.o", older[-1]) if older else obj
        loaded = bpfcov("run", "--pin-dir", run, "--", "bpftool", "prog", "loadall", obj, progs)
        assert loaded.returncode == 0, loaded.stderr
        profile = work / "x.profraw"
        assert bpfcov("gen", "-o", profile, run).returncode == 0
        mine = work / "mine.profraw"  # as sudo would write it for nobody
        env = {**os.environ, "SUDO_UID": "65534", "SUDO_GID": "65534"}
        assert bpfcov("gen", "-o", mine, run, env=env).returncode == 0
        orphan = work / "orphan.profraw"
        shutil.copy(profile, orphan)
        (work / "userdir").mkdir()
        yield {
            "work": str(work),
            "run": str(run),
            "obj": str(obj),
            "other_obj": str(other_obj.with_suffix(".obj")),
            "source": str(XDP_SOURCE),
            "profile": str(profile),
            "mine": str(mine),
            "orphan": str(orphan),
            "userfile": str(work / "notes.txt"),
            "userdir": str(work / "userdir"),
        }
    finally:
        shutil.rmtree(progs, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def run_bad(bad: Bad, places: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [script(bad.tool), *(a.format(**places) for a in bad.args)]
    if bad.user == "nobody":
        argv = [*NOBODY, *argv]
    if bad.no_bpffs:
        shell = 'mount --make-rprivate /sys && umount /sys/fs/bpf && exec "$@"'
        argv = [*NO_BPFFS, shell, "sh", *argv]
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        cwd=places["work"],
        env={**os.environ, **bad.env},
    )


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_input_is_one_line(bad: Bad, places: dict[str, str]) -> None:
    if "{other_obj}" in bad.args and len(llvm_majors()) < 2:
        pytest.skip("an object of another LLVM needs two LLVM majors with a plugin here")
    userfile, userdir = Path(places["userfile"]), Path(places["userdir"])
    userfile.write_text(USER_TEXT)
    (userdir / "keep.txt").write_text(USER_TEXT)
    if bad.args[0] == "gen" and "{userdir}" in bad.args:
        (userdir / "xdp_parser.bpf.profraw").write_text(USER_TEXT)  # in the way
    result = run_bad(bad, places)
    assert "Traceback" not in result.stderr
    assert result.returncode == bad.status, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert bad.says.format(**places) in lines[0]
    if bad.tool == "bpfcov-cc":
        assert lines[0].startswith("bpfcov-cc: error: "), lines[0]
    elif bad.status == 2 and bad.args[0] != "frobnicate":
        assert lines[0].startswith(f"bpfcov {bad.args[0]}: error: "), lines[0]
        assert lines[0].endswith(f"(see bpfcov {bad.args[0]} --help)"), lines[0]
    else:
        assert lines[0].startswith("bpfcov: error: "), lines[0]
    assert userfile.read_text() == USER_TEXT
    assert (userdir / "keep.txt").read_text() == USER_TEXT
    assert sorted(p.name for p in userdir.iterdir()) in (
        ["keep.txt"],
        ["keep.txt", "xdp_parser.bpf.profraw"],
    )
    for leftover in Path(places["work"]).rglob(".*.tmp"):
        pytest.fail(f"a temporary file was left: {leftover}")
