"""``bpfcov run``: run a program, catch the coverage maps it creates, pin them at once.

The program runs under ptrace, but only ``bpf(BPF_MAP_CREATE, ...)`` and
``bpf(BPF_PROG_LOAD, ...)`` ever stop it: the child installs a seccomp filter that
returns ``SECCOMP_RET_TRACE`` for those commands of ``bpf()`` (under every ABI of the
machine) and ``SECCOMP_RET_ALLOW`` for everything else, then execs. The filter
and the tracing are inherited, so forks, threads and exec'd programs are followed.

At a seccomp stop the tracer reads the call with ``PTRACE_GET_SYSCALL_INFO`` (and lets
anything but ``BPF_MAP_CREATE`` go on at once, though the filter stops nothing else),
then the map's name from the program's memory (``/proc/<tid>/mem``): a map not named
after a coverage section (:class:`~bpfcov_build.sections.Section`) goes on at once too.
For the others it steps to the syscall-exit-stop, takes the new fd into this process
(``pidfd_getfd``), checks the created map's own name again and pins it under
``pin_dir`` (:mod:`bpfcov_build.pin_dir`: a directory per object) before the program
runs on.

A program load is followed to its exit too: the maps a loaded program uses
(``bpf_prog_info.map_ids``) mark their object as loaded. When the program has exited,
every object none of whose programs loaded (the verifier refused them, say) gets an
empty :data:`~bpfcov_build.sections.NO_PROGRAM_LOADED` directory among its pins, and
is reported (:class:`NothingLoaded`), so that neither run nor gen passes its all-zero
counts off as a run that covered nothing.

How the program is started (seized before it runs anything) and how the tracer's
signals reach it is :mod:`bpfcov_build.spawn`'s.

USAGE::

    from pathlib import Path
    from bpfcov_build.tracer import run_traced

    status = run_traced(["./loader", "--once"], Path("/sys/fs/bpf/cov"), on_event=print)
    # /sys/fs/bpf/cov/1-btf31/_data_profc, _rodata_profd, _rodata_profn, _rodata_covmap

Limits:

- The tracer waits with ``waitpid(-1, __WALL)``, so it also reaps any other child of
  the calling process that exits meanwhile.
- Descendants that outlive the main child are followed until they exit too (as
  ``strace -f`` does): detached, their ``bpf()`` calls would fail with ENOSYS, since
  the seccomp filter stays. If the tracer itself is killed, that is what happens.
- Every syscall pays the kernel's seccomp entry work, whatever the filter says: on the
  test VM a loop of 1,000,000 ``getpid()`` took 1.3 times as long as bare, and an
  allow-everything filter costs the same.
- A signal sent with kill(2) to the whole process group reaches the program twice:
  once directly and once forwarded (only the terminal's are told apart).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import bpf, ptrace, sections
from bpfcov_build.arch import syscalls
from bpfcov_build.errors import BpfcovError
from bpfcov_build.libc import SyscallError, owned_fd
from bpfcov_build.pin_dir import Groups, check_pin_dir, group_dir_name, prepare_pin_dir
from bpfcov_build.ptrace import Event, Request, SyscallInfoOp
from bpfcov_build.spawn import (
    FORWARDED_SIGNALS,
    Relay,
    shell_status,
    signals_blocked,
    spawn_error,
    start_seized,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bpfcov_build.sections import Section

__all__ = [
    "Exec",
    "Exited",
    "MapPinned",
    "NothingLoaded",
    "PinFailed",
    "TraceEvent",
    "check_pin_dir",
    "run_traced",
]

log = logging.getLogger("bpfcov")

_STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})


# --------------------------------------------------------------------------------------
# Events.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapPinned:
    """A coverage map was created by ``pid`` and pinned at ``path``."""

    pid: int
    map_id: int
    name: str
    btf_id: int
    path: Path


@dataclass(frozen=True)
class PinFailed:
    """A coverage map was created by ``pid`` but could not be pinned at ``path``."""

    pid: int
    map_id: int
    name: str
    path: Path
    reason: str


@dataclass(frozen=True)
class Exec:
    """Process ``pid`` now runs the program at ``path``."""

    pid: int
    path: str


@dataclass(frozen=True)
class Exited:
    """Process ``pid`` ended; ``status`` as a shell says it (signal N gives 128 + N)."""

    pid: int
    status: int


@dataclass(frozen=True)
class NothingLoaded:
    """The object pinned at ``path`` had its maps created, but none of its programs loaded."""

    path: Path


TraceEvent = MapPinned | PinFailed | Exec | Exited | NothingLoaded
"""Everything :func:`run_traced` reports to ``on_event``."""


# --------------------------------------------------------------------------------------
# The tracer.
# --------------------------------------------------------------------------------------


@dataclass
class _Tracee:
    tid: int
    tgid: int
    fresh: bool = False
    """Auto-attached, its first stop not seen yet."""
    in_map_create: bool = False
    """Stopped at a BPF_MAP_CREATE; resume with PTRACE_SYSCALL to see its exit."""
    in_prog_load: bool = False
    """Stopped at a BPF_PROG_LOAD; resume with PTRACE_SYSCALL to see its exit."""


def _tgid(tid: int) -> int:
    """The thread group (process) of thread *tid*, from /proc."""
    try:
        status = Path(f"/proc/{tid}/status").read_text()
    except OSError:
        return tid
    m = re.search(r"^Tgid:\s*(\d+)", status, re.MULTILINE)
    return int(m.group(1)) if m else tid


def _resume(request: Request, tid: int, sig: int = 0) -> bool:
    """Restart (or detach) a tracee that may have been killed meanwhile; False if it was."""
    try:
        if request == Request.INTERRUPT:
            ptrace.interrupt(tid)
        else:
            ptrace.resume(request, tid, sig)
    except SyscallError as exc:
        if exc.errno == errno.ESRCH:
            return False
        raise
    return True


def _may_be_coverage_map(tid: int, attr: int, size: int) -> bool:
    """Whether the ``BPF_MAP_CREATE`` that *tid* is stopped in may create a coverage map.

    False only when the map's name, read from the program's ``bpf_attr``, is not a
    coverage section's: then the call needs no stop at its exit. A name that cannot
    be read counts as maybe, so the exit stop decides, as for every map before.
    """
    field = bpf.MapCreateAttr.map_name
    if (size & 0xFFFF_FFFF) < field.offset + field.size:
        return False  # no name given: the kernel names the map ""
    try:
        fd = os.open(f"/proc/{tid}/mem", os.O_RDONLY | os.O_CLOEXEC)
        try:
            raw = os.pread(fd, field.size, attr + field.offset)
        finally:
            os.close(fd)
    except (OSError, OverflowError):
        return True
    if len(raw) < field.size:
        return True
    name = raw.partition(b"\0")[0].decode("ascii", "replace")
    return sections.section_of_map(name) is not None


_Action = tuple[Request, int]


class _Tracer:
    def __init__(
        self,
        main: int,
        pin_dir: Path,
        first_group: int,
        on_event: Callable[[TraceEvent], None] | None,
    ) -> None:
        self.main = main
        self.pin_dir = pin_dir
        self.groups = Groups(first_group)
        self.emit = on_event or (lambda _event: None)
        self.tracees: dict[int, _Tracee] = {main: _Tracee(main, main)}
        self.main_execed = False
        self.status: int | None = None
        self.bpf_calls = frozenset(syscalls().bpf_numbers())

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> int:
        """Follow every tracee until all have exited; return the main child's status.

        Like ``strace -f``, descendants that outlive the main child are followed to
        their end: detached, their bpf() calls would fail (the seccomp filter stays).
        """
        try:
            while self.status is None or self.tracees:
                try:
                    tid, status = os.waitpid(-1, ptrace.WALL)
                except ChildProcessError:
                    if self.status is not None:
                        break
                    msg = f"lost track of process {self.main}: no child left to wait for"
                    raise BpfcovError(msg) from None
                if not os.WIFSTOPPED(status):
                    self._gone(tid, status)
                    continue
                action = self._stopped(self.tracees.get(tid) or self._adopt(tid), status)
                if action is not None:
                    _resume(action[0], tid, action[1])
            return self.status
        finally:
            self._release()

    def _adopt(self, tid: int) -> _Tracee:
        """A tracee stopped before its creator's fork/clone event was seen."""
        t = _Tracee(tid, _tgid(tid))
        self.tracees[tid] = t
        return t

    def _gone(self, tid: int, status: int) -> None:
        t = self.tracees.pop(tid, None)
        if t is None and tid != self.main:
            return  # some other child of this process
        if t is None or t.tgid == tid:
            self.emit(Exited(tid, shell_status(status)))
        if tid == self.main:
            self.status = shell_status(status)

    # -- what to do at a stop ----------------------------------------------------------

    def _stopped(self, t: _Tracee, status: int) -> _Action | None:
        """Handle one ptrace-stop of *t*; how to restart it, None if it was killed."""
        try:
            return self._decide(t, status)
        except SyscallError as exc:
            if exc.errno == errno.ESRCH:  # SIGKILLed in its stop: its exit comes next
                return None
            raise

    def _decide(self, t: _Tracee, status: int) -> _Action:
        sig = os.WSTOPSIG(status)
        event = status >> 16
        if sig == ptrace.SYSGOOD_TRAP:
            return self._syscall_stop(t)
        if event == Event.SECCOMP:
            return self._seccomp_stop(t)
        if event in {Event.FORK, Event.VFORK, Event.CLONE}:
            self._new_task(t, Event(event))
            return self._go(t)
        if event == Event.EXEC:
            self._exec(t)
            return self._go(t)
        if event == Event.STOP:
            # a seized tracee's first stop, PTRACE_INTERRUPT, or a group-stop
            if sig in _STOP_SIGNALS and not t.fresh:
                return Request.LISTEN, 0  # stay stopped until SIGCONT
            t.fresh = False
            return self._go(t)
        if event:
            return self._go(t)
        return self._go(t, sig)  # signal-delivery-stop: deliver it

    def _go(self, t: _Tracee, sig: int = 0) -> _Action:
        step = t.in_map_create or t.in_prog_load
        return (Request.SYSCALL if step else Request.CONT), sig

    def _seccomp_stop(self, t: _Tracee) -> _Action:
        info = ptrace.get_syscall_info(t.tid)
        if (
            info.op is SyscallInfoOp.SECCOMP
            and (info.arch, info.nr) in self.bpf_calls
            and len(info.args) >= 3
        ):
            command = info.args[0] & 0xFFFF_FFFF
            if command == bpf.Cmd.MAP_CREATE:
                t.in_map_create = _may_be_coverage_map(t.tid, info.args[1], info.args[2])
            elif command == bpf.Cmd.PROG_LOAD:
                # Only loads after a coverage map matter: until then no object can be marked.
                t.in_prog_load = any(not g.loaded for g in self.groups.all)
        return self._go(t)

    def _syscall_stop(self, t: _Tracee) -> _Action:
        if t.in_map_create or t.in_prog_load:
            info = ptrace.get_syscall_info(t.tid)
            if info.op is SyscallInfoOp.EXIT:
                took = self._take if t.in_map_create else self._loaded
                t.in_map_create = t.in_prog_load = False
                if not info.is_error and info.rval >= 0:
                    took(t, info.rval)
        return self._go(t)

    def _new_task(self, t: _Tracee, event: Event) -> None:
        new = ptrace.geteventmsg(t.tid)
        if new in self.tracees:
            return  # its first stop came first
        tgid = _tgid(new) if event == Event.CLONE else new
        self.tracees[new] = _Tracee(new, tgid, fresh=True)

    def _exec(self, t: _Tracee) -> None:
        former = ptrace.geteventmsg(t.tid)
        if former != t.tid:  # a thread exec'd: it took the leader's tid
            self.tracees.pop(former, None)
        t.tgid = t.tid
        t.in_map_create = t.in_prog_load = False
        if t.tid == self.main:
            self.main_execed = True
        try:
            path = str(Path(f"/proc/{t.tid}/exe").readlink())
        except OSError:
            path = ""
        self.emit(Exec(t.tid, path))

    # -- maps --------------------------------------------------------------------------

    def _pidfd(self, t: _Tracee) -> int:
        """A pidfd whose task holds *t*'s fd table: the thread itself where possible."""
        try:
            return ptrace.pidfd_open(t.tid, ptrace.PIDFD_THREAD)
        except SyscallError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: before Linux 6.9
                raise
        return ptrace.pidfd_open(t.tgid)

    def _fd_of(self, t: _Tracee, fd: int) -> int | None:
        """A duplicate in this process of *t*'s *fd*; None if it is gone."""
        try:
            with owned_fd(self._pidfd(t)) as pidfd:
                return ptrace.pidfd_getfd(pidfd, fd)
        except SyscallError as exc:
            if exc.errno in {errno.ESRCH, errno.EBADF}:  # died, or another thread closed it
                return None
            raise

    def _loaded(self, t: _Tracee, fd: int) -> None:
        """Program *fd* of *t* loaded: mark the objects whose maps it uses."""
        mine = self._fd_of(t, fd)
        if mine is None:
            return
        with bpf.owned_fd(mine):
            try:
                used = set(bpf.prog_info(mine).map_ids)
            except bpf.BpfSyscallError:
                return  # the fd was reused for something else meanwhile
        for group in self.groups.all:
            if group.map_ids & used:
                group.loaded = True

    def unloaded(self) -> list[Path]:
        """The directories of the objects none of whose programs loaded.

        Only groups with counters count: a loader that gives every map a BTF object
        of its own (cilium/ebpf) leaves the read-only maps in groups of their own,
        which no program uses even when the object's programs loaded.
        """
        return [
            self.pin_dir / group_dir_name(g.number, g.btf_id)
            for g in self.groups.all
            if not g.loaded and g.map_ids and sections.Section.COUNTERS in g.sections
        ]

    def _take(self, t: _Tracee, fd: int) -> None:
        """Take map *fd* of *t* into this process; pin it if it holds coverage."""
        mine = self._fd_of(t, fd)
        if mine is None:
            return
        with bpf.owned_fd(mine):
            try:
                info = bpf.map_info(mine)
            except bpf.BpfSyscallError:
                return  # the fd was reused for something else meanwhile
            section = sections.section_of_map(info.name)
            if section is not None:
                self._pin(t, mine, info, section)

    def _pin(self, t: _Tracee, fd: int, info: bpf.MapInfo, section: Section) -> None:
        group = self.groups.place(info.btf_id, section)
        path = (
            self.pin_dir / group_dir_name(group.number, group.btf_id) / sections.pin_name(section)
        )
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            bpf.obj_pin(fd, path)
        except (OSError, BpfcovError) as exc:
            log.debug("cannot pin map %s (id %d) at %s: %s", info.name, info.id, path, exc)
            self.emit(PinFailed(t.tgid, info.id, info.name, path, str(exc)))
            return
        log.debug("pinned %s (map id %d, btf id %d) at %s", info.name, info.id, info.btf_id, path)
        group.map_ids.add(info.id)
        self.emit(MapPinned(t.tgid, info.id, info.name, info.btf_id, path))

    # -- letting go --------------------------------------------------------------------

    def _release(self) -> None:
        """Detach every tracee left, so that none stays stopped."""
        while self.tracees:
            self._detach(next(iter(self.tracees)))

    def _detach(self, tid: int) -> None:
        t = self.tracees[tid]
        if not _resume(Request.INTERRUPT, tid):
            # exiting, or a zombie leader waiting for its threads: reap it if we can
            with contextlib.suppress(ChildProcessError):
                reaped, status = os.waitpid(tid, ptrace.WALL | os.WNOHANG)
                if reaped:
                    self._gone(tid, status)
            self.tracees.pop(tid, None)
            return
        while True:
            try:
                _, status = os.waitpid(tid, ptrace.WALL)
            except ChildProcessError:
                self.tracees.pop(tid, None)
                return
            if not os.WIFSTOPPED(status):
                self._gone(tid, status)
                return
            action = self._stopped(t, status)  # may pin, or add a new task to detach
            if action is None:
                continue
            request, sig = action
            if request == Request.SYSCALL:  # finish the BPF_MAP_CREATE first
                if _resume(Request.SYSCALL, tid, sig):
                    continue
            else:
                _resume(Request.DETACH, tid, sig if request == Request.CONT else 0)
            self.tracees.pop(tid, None)
            return


# --------------------------------------------------------------------------------------
# The entry point.
# --------------------------------------------------------------------------------------


def run_traced(
    argv: Sequence[str],
    pin_dir: Path,
    *,
    on_event: Callable[[TraceEvent], None] | None = None,
) -> int:
    """Run *argv* (PATH lookup, same environment), pinning its coverage maps.

    Returns the program's exit status as a shell would (killed by signal N: 128 + N).
    Raises :class:`~bpfcov_build.errors.BpfcovError` when not root, when *pin_dir* is
    not on bpffs, or when the program cannot be started.
    """
    if not argv:
        msg = "no program to run"
        raise BpfcovError(msg)
    if os.geteuid() != 0:
        msg = "bpfcov run needs root: it traces the program and pins its maps in bpffs"
        raise BpfcovError(msg)
    pin_dir = Path(pin_dir)
    first_group = prepare_pin_dir(pin_dir)
    prog = ptrace.bpf_trap_filter(syscalls(), bpf.Cmd.MAP_CREATE, bpf.Cmd.PROG_LOAD)
    # Ignored ones too: blocked, a signal is kept for sigwaitinfo even when ignored.
    relayed = FORWARDED_SIGNALS
    with signals_blocked(relayed) as mask:
        child = start_seized(argv, prog, mask)
        try:
            tracer = _Tracer(child.pid, pin_dir, first_group, on_event)
            with Relay(relayed, child.pid):
                status = tracer.run()
            if not tracer.main_execed:
                report = os.read(child.failure, 4096)
                if report:
                    raise spawn_error(argv, report)
            for path in tracer.unloaded():
                with contextlib.suppress(OSError):
                    (path / sections.NO_PROGRAM_LOADED).mkdir(mode=0o700, exist_ok=True)
                tracer.emit(NothingLoaded(path))
            return status
        finally:
            os.close(child.failure)
