"""``bpfcov gen``: coverage maps → one ``.profraw`` per instrumented object."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.errors import BpfcovError

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "main"]

log = logging.getLogger("bpfcov")

HELP = "write the coverage of a run (or of what is loaded now) as .profraw files"
EPILOG = """\
examples:
  bpfcov gen /sys/fs/bpf/bpfcov/run-1             one X.profraw per object, here
  bpfcov gen -o xdp.profraw /sys/fs/bpf/bpfcov/run-1
  bpfcov gen --unpin -o out/ /sys/fs/bpf/bpfcov/run-1   then remove the pins
  bpfcov gen --live -o snap/                      programs loaded now, no restart

Each profile is written in the raw format of the LLVM that compiled its object,
atomically, with X.profraw.json beside it naming the object for bpfcov out."""


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    """Adds ``gen`` to the subcommands."""
    p = subcommand.add(sub, "gen", HELP, EPILOG, parents)
    p.add_argument("run", nargs="?", type=Path, help="the run directory bpfcov run printed")
    p.add_argument(
        "--live",
        action="store_true",
        help="read the instrumented programs loaded in the kernel now",
    )
    p.add_argument(
        "-o",
        "--output",
        default=".",
        help="a .profraw file (one object), or a directory: one that exists or ends in / "
        "(default: .)",
    )
    p.add_argument(
        "--unpin", action="store_true", help="remove the run's pins once every profile is written"
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Runs ``bpfcov gen``."""
    if (args.run is None) == (not args.live):
        msg = "give a run directory or --live (not both)"
        raise BpfcovError(msg)
    if args.live and args.unpin:
        msg = "--unpin goes with a run directory, not --live"
        raise BpfcovError(msg)
    from bpfcov_build import bpf
    from bpfcov_build.collect import (
        live_groups,
        pinned_groups,
        read_group,
        reconcile,
        write_coverage,
    )

    bpf.ensure_bpffs()
    groups = live_groups() if args.live else pinned_groups(args.run)
    reconciled = [reconcile(read_group(g)) for g in groups]
    coverages = [r.coverage for r in reconciled]
    out = Path(args.output)
    to_dir = out.is_dir() or args.output.endswith("/") or len(coverages) > 1
    if to_dir:
        out.mkdir(parents=True, exist_ok=True)
    seen: dict[str, int] = {}
    for cov, rec in zip(coverages, reconciled, strict=True):
        if to_dir:
            n = seen[cov.stem] = seen.get(cov.stem, 0) + 1
            path = out / (f"{cov.stem}.profraw" if n == 1 else f"{cov.stem}.{n}.profraw")
        else:
            path = out
        write_coverage(cov, path)
        print(path)
        if rec.functions_raised:
            log.warning(
                "%s: counters of %d function(s) raised by up to %d to agree with their "
                "coverage mapping (counters read while the programs ran, or plain "
                "-fprofile-update=single counters that raced)",
                path,
                rec.functions_raised,
                rec.largest_raise,
            )
        elif rec.unchecked:
            log.info("%s: counters not checked against their mapping: %s", path, rec.unchecked)
        log.info(
            "%s: %d functions, LLVM %d, raw version %d",
            path,
            len(cov.profile.records),
            cov.info.llvm_major,
            cov.profile.version,
        )
    if args.unpin:
        shutil.rmtree(args.run)
    return 0
