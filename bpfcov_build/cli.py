"""``bpfcov``: the command-line front of the runtime.

Subcommands live in a dispatch table; each takes its own options on top of the
shared ones (``-v``). Errors a user can cause print one line and exit 1; bad
usage prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, NoReturn, Protocol, cast

from bpfcov_build.errors import BpfcovError, ToolFailedError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bpfcov_build import subcommand

__all__ = ["COMMANDS", "Command", "main"]

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


class Command(Protocol):
    """A subcommand's module: it adds its parser (whose ``func`` is its ``main``)."""

    def add_parser(
        self,
        sub: subcommand.Subparsers[argparse.ArgumentParser],
        parents: list[argparse.ArgumentParser],
    ) -> None: ...

    def main(self, args: argparse.Namespace) -> int: ...


# Each subcommand's module, imported when asked for: only the command being run is
# imported (every bpfcov start pays for what it imports), unless the whole list is.
def _run() -> Command:
    from bpfcov_build import cmd_run

    return cmd_run


def _gen() -> Command:
    from bpfcov_build import cmd_gen

    return cmd_gen


def _out() -> Command:
    from bpfcov_build import cmd_out

    return cmd_out


def _skel() -> Command:
    from bpfcov_build import cmd_skel

    return cmd_skel


def _list() -> Command:
    from bpfcov_build import cmd_list

    return cmd_list


def _clean() -> Command:
    from bpfcov_build import cmd_clean

    return cmd_clean


def _version() -> Command:
    from bpfcov_build import cmd_version

    return cmd_version


def _meson_dir() -> Command:
    from bpfcov_build import cmd_meson_dir

    return cmd_meson_dir


#: The subcommands, in --help's order.
COMMANDS: dict[str, Callable[[], Command]] = {
    "run": _run,
    "gen": _gen,
    "out": _out,
    "skel": _skel,
    "list": _list,
    "clean": _clean,
    "version": _version,
    "meson-dir": _meson_dir,
}


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
    # the whole list for --help, or for a name argparse will refuse
    wanted = [command] if command in COMMANDS else list(COMMANDS)
    for name in wanted:
        COMMANDS[name]().add_parser(sub, [common])
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
