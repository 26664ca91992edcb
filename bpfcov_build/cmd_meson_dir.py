"""``bpfcov meson-dir``: where the Meson helper a project copies in lives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfcov_build import meson, subcommand

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "main"]

HELP = "print the Meson helper directory a project copies in (--snippet: how to)"
EPILOG = 'example:\n  mkdir -p bpfcov && cp -r "$(bpfcov meson-dir)"/. bpfcov/'


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    """Adds ``meson-dir`` to the subcommands."""
    p = subcommand.add(sub, "meson-dir", HELP, EPILOG, parents)
    p.add_argument("--snippet", action="store_true", help="print the lines to paste, with the path")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Prints the Meson helper's directory, or the whole adoption snippet."""
    print(meson.adoption() if args.snippet else meson.files_dir())
    return 0
