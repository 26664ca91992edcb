"""``bpfcov list`` and ``bpfcov clean``: the runs pinned in bpffs."""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.errors import BpfcovError, FormatError, NotFoundError, UsageError
from bpfcov_build.layout import GROUP_INFIX, RUN_ROOT

if TYPE_CHECKING:
    import argparse

__all__ = ["RunSummary", "add_parsers", "list_runs"]

LIST_HELP = "list the runs pinned under the run root: their objects and age"
CLEAN_HELP = "remove pinned runs (and so free their maps)"
CLEAN_EPILOG = f"""\
examples:
  bpfcov clean {RUN_ROOT}/loader-20261125-101500-4242
  bpfcov clean --all                  every run under {RUN_ROOT}"""


#: The directory of one object in a run (bpfcov run and <bpfcov/save.h> name them so).
_GROUP = re.compile(rf"\d+{re.escape(GROUP_INFIX)}\d+")


@dataclass(frozen=True)
class RunSummary:
    """One run directory: when it was made and what each object says of itself."""

    path: Path
    age_s: float
    objects: tuple[str, ...]
    functions: int


def list_runs(root: Path = RUN_ROOT) -> list[RunSummary]:
    """Every run under ``root``, oldest first."""
    from bpfcov_build.collect import pinned_groups, read_group

    if not root.is_dir():
        return []
    runs = []
    now = time.time()
    for run in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime):
        if not run.is_dir():
            continue
        objects: list[str] = []
        functions = 0
        try:
            for group in pinned_groups(run):
                cov = read_group(group)
                objects.extend(cov.objects or (group.label,))
                functions += len(cov.profile.records)
        except (NotFoundError, FormatError):
            pass  # an empty or foreign directory: listed with no objects
        runs.append(RunSummary(run, now - run.stat().st_mtime, tuple(objects), functions))
    return runs


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _list(args: argparse.Namespace) -> int:
    runs = list_runs()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "run": str(r.path),
                        "age_seconds": round(r.age_s),
                        "objects": list(r.objects),
                        "functions": r.functions,
                    }
                    for r in runs
                ],
                indent=2,
            )
        )
        return 0
    if not runs:
        print(f"no runs under {RUN_ROOT}")
        return 0
    for r in runs:
        objects = ", ".join(Path(o).name for o in r.objects) or "no coverage maps"
        print(f"{r.path}  {_age(r.age_s):>4} ago  {r.functions:4} functions  {objects}")
    return 0


def _clean(args: argparse.Namespace) -> int:
    if args.all == bool(args.runs):
        msg = "give the runs to remove, or --all (not both)"
        raise UsageError(msg)
    from bpfcov_build import bpf

    targets = [r.path for r in list_runs()] if args.all else list(args.runs)
    for run in targets:
        if not run.is_dir():
            msg = f"{run}: no such run directory (bpfcov list shows the runs)"
            raise NotFoundError(msg)
        try:
            entries = list(run.iterdir())
        except PermissionError:
            msg = f"{run}: permission denied; removing a run needs root: use sudo"
            raise BpfcovError(msg) from None
        if not bpf.is_bpffs(run) or any(not _GROUP.fullmatch(p.name) for p in entries):
            msg = f"{run} is not a bpfcov run (pins of objects on bpffs); not removed"
            raise BpfcovError(msg)
    for run in targets:
        try:
            shutil.rmtree(run)
        except PermissionError:
            msg = f"{run}: permission denied; removing a run needs root: use sudo"
            raise BpfcovError(msg) from None
        print(f"removed {run}")
    return 0


def add_parsers(
    sub: subcommand.Subparsers[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    """Adds ``list`` and ``clean`` to the subcommands."""
    p = subcommand.add(
        sub,
        "list",
        LIST_HELP,
        f"examples:\n  bpfcov list\n  bpfcov list --json | jq '.[].run'  # {RUN_ROOT}/...",
        parents,
    )
    p.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    p.set_defaults(func=_list)
    c = subcommand.add(sub, "clean", CLEAN_HELP, CLEAN_EPILOG, parents)
    c.add_argument("runs", nargs="*", type=Path, metavar="RUN")
    c.add_argument("--all", action="store_true", help=f"every run under {RUN_ROOT}")
    c.set_defaults(func=_clean)
