"""``bpfcov list``: the runs pinned under the run root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.runs import list_runs
from bpfcov_build.sections import RUN_ROOT

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "main"]

HELP = "list the runs pinned under the run root: their objects and age"
EPILOG = f"examples:\n  bpfcov list\n  bpfcov list --json | jq '.[].run'  # {RUN_ROOT}/..."


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    """Adds ``list`` to the subcommands."""
    p = subcommand.add(sub, "list", HELP, EPILOG, parents)
    p.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    p.set_defaults(func=main)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def main(args: argparse.Namespace) -> int:
    """Prints the runs, oldest first."""
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
