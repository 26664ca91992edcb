"""``bpfcov out``: profiles → reports (HTML, JSON, LCOV, Cobertura, a summary table)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.report import FORMATS, METRICS, Report, render

if TYPE_CHECKING:
    import argparse

__all__ = ["THRESHOLD_FAILED", "add_parser", "main"]

#: The exit status when a --fail-under-* threshold is not met.
THRESHOLD_FAILED = 3

HELP = "merge .profraw files and write coverage reports with llvm-cov"
EPILOG = (
    """\
examples:
  bpfcov out out/*.profraw                         summary table on stdout
  bpfcov out -f html -o cov-html out/*.profraw     then open cov-html/index.html
  bpfcov out -f html,lcov,cobertura -o cov/ out/*.profraw    several at once
  bpfcov out --fail-under-lines 80 --fail-under-branches 60 out/*.profraw
  bpfcov out -f lcov -o cov.info --object x.bpf.obj run1.profraw run2.profraw
  bpfcov out --path-equivalence /build/src,$PWD out/*.profraw

Profiles of many runs and programs add up. Each profile's object is the one
bpfcov gen noted beside it (X.profraw.json), unless --object names them.

formats (-f, comma-separated or repeated):
"""
    + "\n".join(f"  {name:10} {what}" for name, (_, what) in FORMATS.items())
    + f"""

exit status: 0 done, 1 an error (one line on stderr), 2 bad usage,
  {THRESHOLD_FAILED} a --fail-under threshold not met (the reports are still written)"""
)


def _formats(values: list[str]) -> tuple[str, ...]:
    return tuple(f for value in values for f in value.split(",") if f) or ("text",)


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    """Adds ``out`` to the subcommands."""
    p = subcommand.add(sub, "out", HELP, EPILOG, parents)
    p.add_argument("profiles", nargs="+", type=Path, metavar="PROFRAW")
    p.add_argument(
        "-f",
        "--format",
        action="append",
        default=[],
        metavar="FORMAT",
        help=f"one or more of {', '.join(FORMATS)} (default: text)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="the report's file or directory; a directory for several formats",
    )
    p.add_argument(
        "--object",
        action="append",
        type=Path,
        default=[],
        metavar="X.bpf.obj",
        help="the mapping object(s) (default: as bpfcov gen noted)",
    )
    p.add_argument(
        "--show-functions",
        action="store_true",
        help="text: a row per function too (count, regions, branches)",
    )
    p.add_argument(
        "--path-equivalence",
        metavar="FROM,TO",
        help="read sources recorded under FROM from TO (objects built elsewhere)",
    )
    p.add_argument(
        "--ignore-mismatch",
        action="store_true",
        help="report even when a profile's functions differ from the objects' (the source "
        "was rebuilt after the run): such functions then show no counts",
    )
    for metric in METRICS:
        p.add_argument(
            f"--fail-under-{metric}",
            type=float,
            metavar="PCT",
            help=f"exit {THRESHOLD_FAILED} if {metric} coverage is under PCT%%",
        )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Runs ``bpfcov out``."""
    report = Report(
        profiles=tuple(args.profiles),
        objects=tuple(args.object),
        formats=_formats(args.format),
        output=args.output,
        show_functions=args.show_functions,
        path_equivalence=args.path_equivalence,
        ignore_mismatch=args.ignore_mismatch,
    )
    rendered = render(report)
    sys.stdout.write(rendered.stdout)
    status = 0
    for metric in METRICS:
        threshold = getattr(args, f"fail_under_{metric.replace('-', '_')}")
        if threshold is None:
            continue
        percent = rendered.totals[metric]["percent"]
        if percent < threshold:
            print(
                f"bpfcov: {metric} coverage {percent:.2f}% is under "
                f"--fail-under-{metric} {threshold:g}%",
                file=sys.stderr,
            )
            status = THRESHOLD_FAILED
    return status
