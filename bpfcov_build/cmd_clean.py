"""``bpfcov clean``: remove pinned runs, and so free their maps."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.errors import BpfcovError, NotFoundError, UsageError
from bpfcov_build.runs import is_group_dir, list_runs
from bpfcov_build.sections import RUN_ROOT

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "main"]

HELP = "remove pinned runs (and so free their maps)"
EPILOG = f"""\
examples:
  bpfcov clean {RUN_ROOT}/loader-20261125-101500-4242
  bpfcov clean --all                  every run under {RUN_ROOT}"""


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    """Adds ``clean`` to the subcommands."""
    p = subcommand.add(sub, "clean", HELP, EPILOG, parents)
    p.add_argument("runs", nargs="*", type=Path, metavar="RUN")
    p.add_argument("--all", action="store_true", help=f"every run under {RUN_ROOT}")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Removes the runs named (or all), each checked to be a run first."""
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
        if not bpf.is_bpffs(run) or any(not is_group_dir(p.name) for p in entries):
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
