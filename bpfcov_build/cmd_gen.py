"""``bpfcov gen``: coverage maps → one ``.profraw`` per instrumented object."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.errors import BpfcovError, FormatError, UsageError

if TYPE_CHECKING:
    import argparse

    from bpfcov_build.collect import Coverage, MapGroup

__all__ = ["add_parser", "main"]

log = logging.getLogger("bpfcov")

HELP = "write the coverage of a run (or of what is loaded now) as .profraw files"
EPILOG = """\
examples:
  bpfcov gen /sys/fs/bpf/bpfcov/run-1             one X.profraw per object, here
  bpfcov gen -o xdp.profraw /sys/fs/bpf/bpfcov/run-1
  bpfcov gen --unpin -o out/ /sys/fs/bpf/bpfcov/run-1   then remove the pins
  bpfcov gen --live -o snap/                      programs loaded now, no restart
  bpfcov gen --live --pid 4242 --object xdp_parser.bpf.o -o snap/

Each profile is written in the raw format of the LLVM that compiled its object,
atomically, with X.profraw.json beside it naming the object for bpfcov out.
Reading coverage maps needs root; under sudo, the files written belong to the
user who ran sudo, so bpfcov out needs no root. With --live, each profile's
process and object are said on stderr, and an object that cannot be written
(built by another LLVM, not bpfcov's) is skipped with one line. An object whose
programs did not load is named: its profile counts nothing."""


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
        "--pid",
        action="append",
        type=int,
        default=[],
        help="--live: only objects this process holds (repeatable)",
    )
    p.add_argument(
        "--object",
        action="append",
        default=[],
        metavar="NAME|PATH",
        help="--live: only this object: X.bpf.o or X.bpf.obj, by name or path (repeatable)",
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


def _warn(text: str) -> None:
    print(f"bpfcov: warning: {text}", file=sys.stderr)


def _live(args: argparse.Namespace) -> list[tuple[MapGroup, Coverage, str]]:
    """The live objects chosen, each with its coverage and where it came from."""
    from bpfcov_build import origins
    from bpfcov_build.collect import live_groups, read_group
    from bpfcov_build.layout import Section, parse_counters_parts

    groups = live_groups()
    held = origins.holders((g.map_ids, g.prog_ids) for g in groups)
    chosen = []
    for group, held_by in zip(groups, held, strict=True):
        if args.pid and not {h.pid for h in held_by} & set(args.pid):
            continue
        if args.object:
            try:
                paths = [
                    p.object_path for p in parse_counters_parts(group.values[Section.COUNTERS])
                ]
            except (FormatError, KeyError):
                continue  # not bpfcov's: not the object asked for
            if not any(origins.object_matches(w, p) for w in args.object for p in paths):
                continue
        try:
            cov = read_group(group)
        except FormatError as exc:
            _warn(f"skipped {exc} ({origins.describe(held_by)})")
            continue
        chosen.append((group, cov, origins.describe(held_by)))
    if not chosen:
        asked = [f"--pid {p}" for p in args.pid] + [f"--object {o}" for o in args.object]
        which = f" for {' '.join(asked)}" if asked else ""
        msg = f"no instrumented object to write{which} (bpfcov list shows the pinned runs)"
        raise BpfcovError(msg)
    return chosen


def _paths(coverages: list[Coverage], output: str) -> list[Path]:
    """Where each profile goes: ``output`` itself, or a file each in directory ``output``."""
    from bpfcov_build import fsutil

    out = Path(output)
    to_dir = out.is_dir() or output.endswith("/") or len(coverages) > 1
    if not to_dir:
        return [out]
    if out.exists() and not out.is_dir():
        msg = f"{out} is a file; {len(coverages)} profiles need a directory: give -o DIR/"
        raise BpfcovError(msg)
    fsutil.ensure_dir(out)
    seen: dict[str, int] = {}
    paths = []
    for cov in coverages:
        n = seen[cov.stem] = seen.get(cov.stem, 0) + 1
        paths.append(out / (f"{cov.stem}.profraw" if n == 1 else f"{cov.stem}.{n}.profraw"))
    return paths


def main(args: argparse.Namespace) -> int:
    """Runs ``bpfcov gen``."""
    if (args.run is None) == (not args.live):
        msg = "give a run directory or --live (not both)"
        raise UsageError(msg)
    if args.live and args.unpin:
        msg = "--unpin goes with a run directory, not --live"
        raise UsageError(msg)
    if not args.live and (args.pid or args.object):
        msg = "--pid and --object choose among live objects: they go with --live"
        raise UsageError(msg)
    from bpfcov_build import bpf
    from bpfcov_build.collect import pinned_groups, read_group, reconcile, write_coverage
    from bpfcov_build.fsutil import OutputError

    bpf.ensure_bpffs()
    chosen = _live(args) if args.live else [(g, read_group(g), "") for g in pinned_groups(args.run)]
    reconciled = [reconcile(cov) for _, cov, _ in chosen]
    paths = _paths([r.coverage for r in reconciled], args.output)
    failed: list[tuple[str, OutputError]] = []
    for (group, _, origin), rec, path in zip(chosen, reconciled, paths, strict=True):
        cov = rec.coverage
        objects = ", ".join(cov.objects) or group.label
        try:
            write_coverage(cov, path)
        except OutputError as exc:
            failed.append((objects, exc))
            continue
        print(path)
        if origin:
            print(f"bpfcov: {path}: {objects}, {origin}", file=sys.stderr)
        if group.programs_loaded is False:
            _warn(
                f"{group.label} ({objects}): none of its programs loaded, so {path} counts "
                "nothing; see the loader's errors"
            )
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
    if len(failed) == len(chosen) == 1:
        raise failed[0][1]
    for objects, error in failed:
        _warn(f"{objects} not written: {error}")
    if len(failed) == len(chosen):
        msg = "no profile written"
        raise BpfcovError(msg)
    if failed and not args.live:
        return 1
    if args.unpin:
        shutil.rmtree(args.run)
    return 0
