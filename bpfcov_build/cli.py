"""``bpfcov``: the command-line front of the runtime.

Subcommands live in a dispatch table; each takes its own options on top of the
shared ones (``-v``). Errors a user can cause print one line and exit 1; bad
usage prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, NoReturn, cast

from bpfcov_build import __version__, meson, subcommand, toolchain
from bpfcov_build.errors import BpfcovError, ToolFailedError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["main"]

PROG = "bpfcov"
log = logging.getLogger("bpfcov")

_DESCRIPTION = """\
Source-based code coverage for eBPF programs running in the kernel.

Build your BPF objects with bpfcov-cc (a drop-in for clang), run your program,
and read the coverage of what ran in the kernel with llvm-cov."""

_EPILOG = """a session:
  bpfcov-cc -target bpf -O2 -g -c prog.bpf.c -o prog.bpf.o   # also prog.bpf.obj
  sudo bpfcov run -- ./loader            # prints the run directory, RUN
  sudo bpfcov gen -o out/ RUN            # out/prog.bpf.profraw
  bpfcov out -f html,text -o cov/ out/*.profraw

Each command's --help has examples. Exit status: 0 done, 1 an error (one line on
stderr, naming the fix), 2 bad usage; bpfcov run exits with the program's status;
bpfcov out exits 3 when a --fail-under threshold is not met."""


def _version(args: argparse.Namespace) -> int:
    """Prints the version, the LLVM majors found and the plugins built."""
    print(f"bpfcov {__version__}")
    plugins = set(toolchain.plugin_majors())
    for major in toolchain.installed_majors():
        plugin = f"plugin {toolchain.Toolchain(major).plugin}" if major in plugins else "no plugin"
        print(f"  LLVM {major}: clang found, {plugin}")
    return 0


#: The module of each subcommand (and the function that adds its parsers). Only the
#: command being run is imported, unless the whole list is asked for: every bpfcov
#: start pays for what it imports.
_COMMANDS = {
    "run": ("cmd_run", "add_parser"),
    "gen": ("cmd_gen", "add_parser"),
    "out": ("cmd_out", "add_parser"),
    "skel": ("cmd_skel", "add_parser"),
    "list": ("cmd_list", "add_parsers"),
    "clean": ("cmd_list", "add_parsers"),
}

_VERSION_HELP = "print the version, the LLVM toolchains found and their plugins"
_MESON_HELP = "print the Meson helper directory a project copies in (--snippet: how to)"


def _meson_dir(args: argparse.Namespace) -> int:
    """Prints the Meson helper's directory, or the whole adoption snippet."""
    print(meson.adoption() if args.snippet else meson.files_dir())
    return 0


#: The exit status of bad usage (argparse's).
USAGE_STATUS = 2


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line that points at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_STATUS, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (the shared options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` one of ours, only that command's subparser."""
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="say what is run and found")
    parser = _Parser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    # The subcommands' parsers are _Parsers too (argparse makes them of the parent's class).
    sub = cast(
        "subcommand.Subparsers[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND"),
    )
    if command in _COMMANDS:
        wanted = [_COMMANDS[command]]
    elif command in ("version", "meson-dir"):
        wanted = []  # defined here
    else:  # the whole list (--help, or a name argparse will refuse)
        wanted = list(_COMMANDS.values())
    for module, add in dict.fromkeys(wanted):
        getattr(importlib.import_module(f"bpfcov_build.{module}"), add)(sub, [common])
    version = subcommand.add(
        sub,
        "version",
        _VERSION_HELP,
        "example:\n  bpfcov version      # then pick one: bpfcov-cc --bpfcov-llvm=N",
        [common],
    )
    version.set_defaults(func=_version)
    meson_dir = subcommand.add(
        sub,
        "meson-dir",
        _MESON_HELP,
        'example:\n  mkdir -p bpfcov && cp -r "$(bpfcov meson-dir)"/. bpfcov/',
        [common],
    )
    meson_dir.add_argument(
        "--snippet", action="store_true", help="print the lines to paste, with the path"
    )
    meson_dir.set_defaults(func=_meson_dir)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``bpfcov``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(_command_of(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(format=f"{PROG}: %(message)s", level=logging.WARNING)
    if args.verbose:
        log.setLevel(logging.INFO)
    if args.command is None:
        parser.print_help()
        return 0
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ToolFailedError as exc:
        if exc.stderr:
            sys.stderr.write(exc.stderr)
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`bpfcov list | head`): stop quietly, as cat would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except UsageError as exc:
        # args.command may be run's own REMAINDER: the name comes from argv
        name = f"{PROG} {_command_of(argv)}"
        print(f"{name}: error: {exc} (see {name} --help)", file=sys.stderr)
        return USAGE_STATUS
    except BpfcovError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # Not foreseen where it happened: still one line, naming the file.
        print(f"{PROG}: error: {_os_error(exc)}", file=sys.stderr)
        return 1


def _os_error(exc: OSError) -> str:
    what = exc.filename if exc.filename is not None else "a system call"
    text = f"{what}: {exc.strerror or exc}"
    if isinstance(exc, PermissionError):
        text += f" (as user {os.geteuid()}; does this need root? use sudo)"
    return text


if __name__ == "__main__":
    sys.exit(main())
