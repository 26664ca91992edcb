"""Where a live object's coverage comes from: the processes that hold it, its object.

``bpfcov gen --live`` finds coverage maps by scanning the kernel, so a profile may
come from any process on the machine. The processes that hold an object are those
with a file descriptor of one of its maps, or of a program that writes its
counters, as ``/proc/<pid>/fdinfo`` shows them (``map_id:``, ``prog_id:``). An
object pinned by a tool that has exited (``bpftool prog loadall``) has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Holder", "describe", "holders", "object_matches"]

_ID = re.compile(r"^(map_id|prog_id):\s*(\d+)$", re.MULTILINE)
_PROC = Path("/proc")


@dataclass(frozen=True, order=True)
class Holder:
    """A process with a descriptor of an object's map or program."""

    pid: int
    comm: str


def _fd_ids(pid_dir: Path) -> tuple[set[int], set[int]]:
    """The map ids and program ids the process's descriptors refer to."""
    maps: set[int] = set()
    progs: set[int] = set()
    try:
        entries = list((pid_dir / "fdinfo").iterdir())
    except OSError:
        return maps, progs  # gone, or not ours to look at
    for entry in entries:
        try:
            text = entry.read_text()
        except OSError:
            continue
        for kind, number in _ID.findall(text):
            (maps if kind == "map_id" else progs).add(int(number))
    return maps, progs


def holders(
    objects: Iterable[tuple[Iterable[int], Iterable[int]]],
) -> list[tuple[Holder, ...]]:
    """For each object, given as (map ids, program ids), the processes holding it."""
    wanted = [(set(maps), set(progs)) for maps, progs in objects]
    found: list[list[Holder]] = [[] for _ in wanted]
    if not wanted:
        return []
    for pid_dir in _PROC.iterdir():
        if not pid_dir.name.isdigit():
            continue
        maps, progs = _fd_ids(pid_dir)
        if not maps and not progs:
            continue
        try:
            comm = (pid_dir / "comm").read_text().strip()
        except OSError:
            comm = "?"
        for i, (want_maps, want_progs) in enumerate(wanted):
            if maps & want_maps or progs & want_progs:
                found[i].append(Holder(int(pid_dir.name), comm))
    return [tuple(sorted(h)) for h in found]


def describe(held_by: tuple[Holder, ...]) -> str:
    """``pid 42 (loader)``, or what it means that no process holds the object."""
    if not held_by:
        return "held by no process (pinned)"
    word = "pid" if len(held_by) == 1 else "pids"
    return f"{word} " + ", ".join(f"{h.pid} ({h.comm})" for h in held_by)


def object_matches(wanted: str, recorded: str) -> bool:
    """Whether ``--object wanted`` names the object whose mapping object is ``recorded``.

    A path names it by its mapping object (``X.bpf.obj``) or its loadable object
    (``X.bpf.o``); a bare name by either file name, or the name without ``.bpf.obj``.
    """
    if not recorded:
        return False
    rec = PurePosixPath(recorded)
    loadable = rec.with_suffix(".o")
    if "/" in wanted:
        given = Path(wanted).resolve()
        return given in {Path(rec).resolve(), Path(loadable).resolve()}
    return wanted in {rec.name, loadable.name, rec.name.removesuffix(".bpf.obj")}
