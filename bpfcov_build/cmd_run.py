"""``bpfcov run``: run a program and keep the coverage maps it creates, pinned."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import subcommand
from bpfcov_build.errors import BpfcovError, NotFoundError, UsageError
from bpfcov_build.sections import RUN_ROOT

if TYPE_CHECKING:
    from bpfcov_build.tracer import TraceEvent

# bpf and the tracer are imported when the run starts: --help and the other
# commands need neither.

__all__ = ["add_parser", "main"]

log = logging.getLogger("bpfcov")

HELP = "run a program; pin the coverage maps it creates so none is lost when it exits"
EPILOG = """\
examples:
  bpfcov run -- ./loader --iterations 100
  bpfcov run --pin-dir /sys/fs/bpf/bpfcov/ci-42 -- make test
  bpfcov run -- bpftool prog loadall prog.bpf.o /sys/fs/bpf/prog

The program runs as it would without bpfcov: same environment, privileges,
signals and exit status. Only its bpf() calls are intercepted. Each instrumented
object it loads (also in forked children, threads and exec'd programs) gets a
directory of pins under the run directory, which bpfcov prints; give that to
bpfcov gen. The pins keep the counters in kernel memory until bpfcov clean RUN
(or bpfcov gen --unpin) removes them. Needs root.

exit status: the program's. When it created no coverage map, or none of an
object's programs loaded, a warning says so; with --require-coverage that is an
error too: bpfcov run then exits with the program's status, or 1 if that was 0."""


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    """Adds ``run`` to the subcommands."""
    p = subcommand.add(sub, "run", HELP, EPILOG, parents)
    p.add_argument(
        "--pin-dir",
        type=Path,
        help=f"the run directory, on bpffs (default: a new one under {RUN_ROOT})",
    )
    p.add_argument(
        "--require-coverage",
        action="store_true",
        help="fail (exit 1 if the program exited 0) when nothing was covered: no coverage "
        "map, or an object none of whose programs loaded",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    p.set_defaults(func=main)


def _default_pin_dir(command: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = Path(command).name.replace(".", "_")  # bpffs takes no name with a dot
    return RUN_ROOT / f"{name}-{stamp}-{os.getpid()}"


def _check_pin_dir(pin_dir: Path) -> None:
    """One line for a --pin-dir bpffs would refuse, before anything is run."""
    dotted = [part for part in pin_dir.parts if "." in part and part not in (".", "..")]
    if dotted and str(pin_dir.resolve()).startswith("/sys/fs/bpf"):
        msg = (
            f"--pin-dir {pin_dir}: bpffs takes no name with a dot ({dotted[-1]!r}); "
            "choose a name without one"
        )
        raise UsageError(msg)


def _object_of(path: Path) -> str:
    """The mapping object an object's pins name, for messages; '' if unreadable."""
    from bpfcov_build.collect import pinned_groups
    from bpfcov_build.layout import Section, parse_counters_parts

    try:
        (group,) = [g for g in pinned_groups(path.parent) if g.label == str(path)]
        return ", ".join(
            p.object_path for p in parse_counters_parts(group.values[Section.COUNTERS])
        )
    except (BpfcovError, ValueError, KeyError):
        return ""


class _Reporter:
    """Says what happens during the run, and keeps what the end of it must say."""

    def __init__(self) -> None:
        self.unloaded: list[Path] = []

    def __call__(self, event: TraceEvent) -> None:
        from bpfcov_build.tracer import NothingLoaded

        if isinstance(event, NothingLoaded):
            self.unloaded.append(event.path)
        else:
            _report(event)


def _report(event: TraceEvent) -> None:
    from bpfcov_build.tracer import Exec, Exited, MapPinned, PinFailed

    if isinstance(event, MapPinned):
        log.info(
            "pid %d: pinned %s (map %d, BTF %d)", event.pid, event.path, event.map_id, event.btf_id
        )
    elif isinstance(event, PinFailed):
        print(
            f"bpfcov: warning: could not pin {event.name} of pid {event.pid} at "
            f"{event.path}: {event.reason}",
            file=sys.stderr,
        )
    elif isinstance(event, Exec):
        log.info("pid %d: runs %s", event.pid, event.path)
    elif isinstance(event, Exited):
        log.info("pid %d: exited with status %d", event.pid, event.status)


def main(args: argparse.Namespace) -> int:
    """Runs ``bpfcov run``."""
    command: list[str] = args.command
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        msg = "no program to run: bpfcov run [--pin-dir DIR] -- CMD [ARGS...]"
        raise UsageError(msg)
    if args.pin_dir is not None:
        _check_pin_dir(args.pin_dir)
    if shutil.which(command[0]) is None:
        msg = f"{command[0]}: command not found"
        raise NotFoundError(msg)
    if os.geteuid() != 0:
        msg = "bpfcov run needs root: it traces the program and pins its maps in bpffs"
        raise BpfcovError(msg)
    from bpfcov_build import bpf
    from bpfcov_build.tracer import check_pin_dir, run_traced

    bpf.ensure_bpffs()
    pin_dir: Path = args.pin_dir or _default_pin_dir(command[0])
    check_pin_dir(pin_dir)
    if pin_dir.exists() and any(pin_dir.iterdir()):
        msg = f"{pin_dir} is in use by an earlier run; choose another --pin-dir or remove it"
        raise BpfcovError(msg)
    print(f"bpfcov: pinning coverage maps under {pin_dir}", file=sys.stderr)
    reporter = _Reporter()
    status = run_traced(command, pin_dir, on_event=reporter)
    objects = sorted(p.name for p in pin_dir.iterdir() if p.is_dir())
    kind = "error" if args.require_coverage else "warning"
    if not objects:
        pin_dir.rmdir()
        print(
            f"bpfcov: {kind}: {command[0]} created no coverage map; was it built with bpfcov-cc?",
            file=sys.stderr,
        )
        return (status or 1) if args.require_coverage else status
    for path in reporter.unloaded:
        named = _object_of(path)
        print(
            f"bpfcov: {kind}: {path}{f' ({named})' if named else ''}: its maps were created "
            "but none of its programs loaded (see the program's errors above)",
            file=sys.stderr,
        )
    print(
        f"bpfcov: {len(objects)} object(s) pinned, kept in kernel memory until "
        f"bpfcov clean {pin_dir}; next: bpfcov gen {pin_dir}",
        file=sys.stderr,
    )
    if args.require_coverage and reporter.unloaded:
        return status or 1
    return status
