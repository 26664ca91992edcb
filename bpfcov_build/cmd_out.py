"""``bpfcov out``: profiles → reports (HTML, JSON, LCOV, a summary table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bpfcov_build.report import FORMATS, Report, render

__all__ = ["add_parser", "main"]

HELP = "merge .profraw files and write a coverage report with llvm-cov"
EPILOG = """\
examples:
  bpfcov out -f text xdp_parser.bpf.profraw           summary table on stdout
  bpfcov out -f html -o cov-html *.profraw             open cov-html/index.html
  bpfcov out -f lcov -o cov.info --object x.bpf.obj run1.profraw run2.profraw

formats:
""" + "\n".join(f"  {name:5} {what}" for name, what in FORMATS.items())


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    """Adds ``out`` to the subcommands."""
    p = sub.add_parser(
        "out",
        help=HELP,
        description=HELP,
        epilog=EPILOG,
        parents=parents,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("profiles", nargs="+", type=Path, metavar="PROFRAW")
    p.add_argument("-f", "--format", choices=sorted(FORMATS), default="text")
    p.add_argument("-o", "--output", type=Path, help="where the report goes")
    p.add_argument(
        "--object",
        action="append",
        type=Path,
        default=[],
        metavar="X.bpf.obj",
        help="the mapping object(s) (default: as bpfcov gen noted)",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Runs ``bpfcov out``."""
    report = Report(tuple(args.profiles), tuple(args.object), args.format, args.output)
    sys.stdout.write(render(report))
    return 0
