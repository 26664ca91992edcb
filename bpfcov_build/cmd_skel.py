"""``bpfcov skel``: a libbpf skeleton with a coverage-saving function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.errors import BpfcovError
from bpfcov_build.skeleton import generate, include_dir

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "main"]

HELP = "write the libbpf skeleton of an object, with NAME__bpfcov_save(skel, dir)"
EPILOG = """\
examples:
  bpfcov skel prog.bpf.o > prog.skel.h            instead of bpftool gen skeleton
  cc -I"$(bpfcov skel --include-dir)" loader.c -lbpf

  /* in the loader, once the skeleton is loaded: */
  prog__bpfcov_save(skel, getenv("BPFCOV_DIR"));  /* then: bpfcov gen $BPFCOV_DIR */

The skeleton is bpftool's, plus prog__bpfcov_save(), which pins the object's
coverage maps under a directory that bpfcov gen reads: a loader keeps its own
coverage without bpfcov run. For an object built without coverage it does
nothing, so the loader's source stays the same for both builds."""


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    """Adds ``skel`` to the subcommands."""
    p = subcommand.add(sub, "skel", HELP, EPILOG, parents)
    p.add_argument("object", nargs="?", type=Path, help="the .bpf.o (plain or instrumented)")
    p.add_argument("--name", help="the skeleton's name (default: the file name up to its dot)")
    p.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    p.add_argument(
        "--include-dir", action="store_true", help="print the -I directory of <bpfcov/save.h>"
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Runs ``bpfcov skel``."""
    if args.include_dir:
        print(include_dir())
        return 0
    if args.object is None:
        msg = "give the object: bpfcov skel OBJ.bpf.o [-o OBJ.skel.h]"
        raise BpfcovError(msg)
    header = generate(args.object, args.name)
    if args.output is None:
        sys.stdout.write(header)
        return 0
    tmp = args.output.with_name(f".{args.output.name}.tmp")
    try:
        tmp.write_text(header, encoding="utf-8")
        tmp.replace(args.output)
    finally:
        tmp.unlink(missing_ok=True)
    return 0
