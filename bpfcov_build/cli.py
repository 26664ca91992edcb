"""``bpfcov``: the command-line front of the runtime.

Subcommands live in a dispatch table; each takes its own options on top of the
shared ones (``-v``). Errors a user can cause print one line and exit 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from bpfcov_build import __version__, toolchain
from bpfcov_build.errors import BpfcovError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["main"]

PROG = "bpfcov"
log = logging.getLogger("bpfcov")

_DESCRIPTION = """\
Source-based code coverage for eBPF programs running in the kernel.

Build your BPF objects with bpfcov-cc (a drop-in for clang), run your program,
and read the coverage of what ran in the kernel with llvm-cov."""


def _version(args: argparse.Namespace) -> int:
    """Prints the version, the LLVM majors found and the plugins built."""
    del args
    print(f"bpfcov {__version__}")
    plugins = set(toolchain.plugin_majors())
    for major in toolchain.installed_majors():
        plugin = f"plugin {toolchain.Toolchain(major).plugin}" if major in plugins else "no plugin"
        print(f"  LLVM {major}: clang found, {plugin}")
    return 0


_COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "version": ("print the version, the LLVM toolchains found and their plugins", _version),
}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="say what is run and found")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _) in _COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text, parents=[common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``bpfcov``."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(format=f"{PROG}: %(message)s", level=logging.WARNING)
    if args.verbose:
        log.setLevel(logging.INFO)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _COMMANDS[args.command][1](args)
    except BpfcovError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
