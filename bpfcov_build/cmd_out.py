"""``bpfcov out``: profiles → reports (HTML, JSON, LCOV, Cobertura, a summary table)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.errors import UsageError
from bpfcov_build.report import FORMATS, METRICS, Report, render, summary_line
from bpfcov_build.sources import SourceFilter

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
  bpfcov out --exclude 'tests/*' --exclude-regex '_gen\\.h$' out/*.profraw
  bpfcov out -f markdown --summary out/*.profraw >> "$GITHUB_STEP_SUMMARY"

Profiles of many runs and programs add up. Each profile's object is the one
bpfcov gen noted beside it (X.profraw.json), unless --object names them.

Reports count the program's own sources: system headers, libbpf's headers
(bpf_helpers.h and the others, in any directory named bpf, such as
libbpf-bootstrap's .output/bpf/) and vmlinux.h are left out of files, totals
and thresholds unless --include-system (or an --include naming them) is given.
A glob without '/' matches file names; with '/', paths (absolute, or relative to
here). Regexes are searched in absolute paths.

formats (-f, comma-separated or repeated):
"""
    + "\n".join(f"  {name:10} {f.help}" for name, f in FORMATS.items())
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
    chosen = p.add_argument_group("which source files count")
    chosen.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="count only files that match (repeatable)",
    )
    chosen.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="leave out files that match"
    )
    chosen.add_argument(
        "--include-regex", action="append", default=[], metavar="REGEX", help="as --include"
    )
    chosen.add_argument(
        "--exclude-regex",
        "--ignore-filename-regex",
        action="append",
        default=[],
        metavar="REGEX",
        help="as --exclude (llvm-cov's -ignore-filename-regex)",
    )
    chosen.add_argument(
        "--include-system",
        action="store_true",
        help="count system headers, libbpf's headers and vmlinux.h too",
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="print the totals in one line on stderr, for CI logs",
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
    if args.path_equivalence is not None and "," not in args.path_equivalence:
        msg = f"--path-equivalence {args.path_equivalence}: give FROM,TO (two paths, a comma)"
        raise UsageError(msg)
    report = Report(
        profiles=tuple(args.profiles),
        objects=tuple(args.object),
        formats=_formats(args.format),
        output=args.output,
        show_functions=args.show_functions,
        path_equivalence=args.path_equivalence,
        ignore_mismatch=args.ignore_mismatch,
        sources=SourceFilter(
            include=tuple(args.include),
            exclude=tuple(args.exclude),
            include_regex=tuple(args.include_regex),
            exclude_regex=tuple(args.exclude_regex),
            include_system=args.include_system,
        ),
    )
    rendered = render(report)
    sys.stdout.write(rendered.stdout)
    if args.summary:
        print(f"bpfcov: {summary_line(rendered.totals)}", file=sys.stderr)
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
