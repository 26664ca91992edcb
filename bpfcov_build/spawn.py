"""Starting a program to be traced, and passing the tracer's signals on to it.

The child waits on a pipe until the tracer has seized it (``PTRACE_SEIZE``, so that
Ctrl-Z, SIGSTOP and SIGCONT keep working on the traced program), then installs the
seccomp filter it is given and execs: nothing it runs escapes the tracer. When it
cannot exec, it says why on a close-on-exec pipe, and :func:`spawn_error` makes that
the one-line error of ``bpfcov run``.

SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the tracer go to the main child
(:class:`Relay`), also when the tracer started with them ignored (a background job
of a script starts with SIGINT ignored: the program inherits that, as it would bare,
and may catch the signal itself). A signal the terminal sent to the whole foreground
process group already reached the program and is not sent twice.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from bpfcov_build import ptrace
from bpfcov_build.errors import BpfcovError, NotFoundError
from bpfcov_build.libc import SyscallError
from bpfcov_build.ptrace import Option

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from bpfcov_build.ptrace import SockFilter

__all__ = [
    "FORWARDED_SIGNALS",
    "TRACE_OPTIONS",
    "Child",
    "Relay",
    "shell_status",
    "signals_blocked",
    "spawn_error",
    "start_seized",
]

log = logging.getLogger("bpfcov")

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
"""Signals the tracer passes on to the program instead of dying of them."""

TRACE_OPTIONS = (
    Option.TRACESECCOMP
    | Option.TRACEFORK
    | Option.TRACEVFORK
    | Option.TRACECLONE
    | Option.TRACEEXEC
    | Option.TRACESYSGOOD
)
"""What every tracee reports. Not EXITKILL: if the tracer dies, the program lives on."""

_RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)  # Python ignores them; a program must not
_SI_KERNEL = 0x80  # si_code of a signal the kernel sent, e.g. the terminal's ^C
_GO = b"g"
_CHILD_FAILED = 127
_SigSet = set[int | signal.Signals]  # what pthread_sigmask returns


def shell_status(wait_status: int) -> int:
    """A waitpid(2) status as a shell reports it: the exit code, or 128 + signal."""
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.WEXITSTATUS(wait_status)


@dataclass
class Child:
    pid: int
    go: int
    """Write end of the pipe the child waits on until it is seized."""
    failure: int
    """Read end of a close-on-exec pipe: the child says here why it could not exec."""


def _spawn(argv: Sequence[str], prog: tuple[SockFilter, ...], mask: _SigSet) -> Child:
    """Forks the child, which waits to be told to go."""
    go_r, go_w = os.pipe()
    fail_r, fail_w = os.pipe()  # both close-on-exec (PEP 446)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which execs or _exits
        os.close(go_w)
        os.close(fail_r)
        _child(argv, prog, mask, go_r, fail_w)
    os.close(go_r)
    os.close(fail_w)
    return Child(pid, go_w, fail_r)


def _child(
    argv: Sequence[str],
    prog: tuple[SockFilter, ...],
    mask: _SigSet,
    go: int,
    failure: int,
) -> NoReturn:  # pragma: no cover - runs in the child
    stage = "exec"
    try:
        if os.read(go, 1) != _GO:  # the tracer gave up
            os._exit(_CHILD_FAILED)
        os.close(go)
        for sig in _RESET_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        for sig in FORWARDED_SIGNALS:
            if callable(signal.getsignal(sig)):  # caught here: exec would reset it anyway
                signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        stage = "trace"
        ptrace.install_seccomp_filter(prog)
        stage = "exec"
        os.execvp(argv[0], list(argv))  # noqa: S606 - the user's argv, as a shell runs it
    except OSError as exc:
        text = str(exc) if stage == "trace" else (exc.strerror or str(exc))
        os.write(failure, f"{stage}\0{exc.errno or 0}\0{text}".encode())
    except BaseException as exc:  # anything: reported to the tracer
        os.write(failure, f"{stage}\0{0}\0{exc!r}".encode())
    os._exit(_CHILD_FAILED)


def spawn_error(argv: Sequence[str], report: bytes) -> BpfcovError:
    """The error to raise for what a child that could not exec wrote."""
    stage, errnum, text = report.decode(errors="replace").split("\0", 2)
    if stage == "trace":
        return BpfcovError(f"cannot trace {argv[0]}: {text}")
    if int(errnum) == errno.ENOENT:
        return NotFoundError(f"{argv[0]}: command not found")
    return BpfcovError(f"cannot run {argv[0]}: {text}")


class Relay:
    """Passes signals sent to the tracer on to the main child, from its own thread.

    The signals are blocked in the tracer and taken with sigwaitinfo, which tells who
    sent each: one the kernel sent (the terminal's interrupt or quit key, a hangup)
    already reached a program in the tracer's process group and is not sent twice.
    The thread ends when the tracer itself signals it (``pthread_kill``) after the
    program exited, so it needs no polling and is alive to be signalled.
    """

    def __init__(self, signals: tuple[signal.Signals, ...], pid: int) -> None:
        self._signals = signals
        self._pid = pid
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bpfcov-signals", daemon=True)

    def __enter__(self) -> Relay:
        if self._signals:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.ident is None:
            return
        self._done.set()
        signal.pthread_kill(self._thread.ident, self._signals[0])
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while True:
            info = signal.sigwaitinfo(self._signals)
            if self._done.is_set():
                if info.si_pid == me:
                    return  # the tracer's own wake-up
                continue  # meant for the program, which has exited
            with contextlib.suppress(ProcessLookupError):
                if info.si_code == _SI_KERNEL and os.getpgid(self._pid) == os.getpgrp():
                    continue
                log.debug("forwarding %s to %d", signal.Signals(info.si_signo).name, self._pid)
                os.kill(self._pid, info.si_signo)


@contextlib.contextmanager
def signals_blocked(signals: tuple[signal.Signals, ...]) -> Iterator[_SigSet]:
    """Block *signals* in this thread; yield the mask to restore (in the child too)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield old
    finally:
        if signals:
            while signal.sigtimedwait(signals, 0) is not None:
                pass  # meant for the program, which has exited
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def start_seized(argv: Sequence[str], prog: tuple[SockFilter, ...], mask: _SigSet) -> Child:
    """Forks the child, seizes it with :data:`TRACE_OPTIONS`, and lets it go on.

    The child installs ``prog`` and execs ``argv`` with signal mask ``mask``; the
    caller closes :attr:`Child.failure` and reads it if the program never exec'd.
    """
    child = _spawn(argv, prog, mask)
    try:
        ptrace.seize(child.pid, TRACE_OPTIONS)
    except SyscallError:
        os.kill(child.pid, signal.SIGKILL)
        os.waitpid(child.pid, 0)
        os.close(child.go)
        os.close(child.failure)
        raise
    os.write(child.go, _GO)
    os.close(child.go)
    child.go = -1
    return child
