"""The C library, loaded once: its foreign signatures and the one syscall chokepoint.

Every system call bpfcov makes without a Python wrapper (``bpf``, ``ptrace``,
``seccomp``, ``pidfd_open``, ``pidfd_getfd``) goes through :func:`syscall`, which turns
a failure into :class:`SyscallError` (an ``OSError`` and a ``BpfcovError``) whose one
line names the call and what it was made for. ``statfs`` and ``mount`` are declared
here too, so that no other module loads libc.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from typing import TYPE_CHECKING

from bpfcov_build.errors import BpfcovError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["SyscallError", "mount", "owned_fd", "statfs", "syscall"]

# The C library this Python runs on, without searching for it (find_library forks).
_libc = ctypes.CDLL(None, use_errno=True)

# long syscall(long number, ...); used with up to four word-sized arguments
_libc.syscall.restype = ctypes.c_long
_libc.syscall.argtypes = (ctypes.c_long,) * 5

# int statfs(const char *path, struct statfs *buf)
_libc.statfs.restype = ctypes.c_int
_libc.statfs.argtypes = (ctypes.c_char_p, ctypes.c_void_p)

# int mount(const char *source, const char *target, const char *fstype,
#           unsigned long flags, const void *data)
_libc.mount.restype = ctypes.c_int
_libc.mount.argtypes = (
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_void_p,
)


class SyscallError(OSError, BpfcovError):
    """A system call failed; ``errno``, ``call`` and ``subject`` say how, on one line."""

    def __init__(self, errnum: int, call: str, *, subject: str = "") -> None:
        """Record errno *errnum* for *call* (``ptrace(PTRACE_CONT)``) made for *subject*."""
        super().__init__(errnum, os.strerror(errnum))
        self.call = call
        self.subject = subject

    def __str__(self) -> str:
        """Return ``call failed[ for subject]: strerror``."""
        where = f" for {self.subject}" if self.subject else ""
        return f"{self.call} failed{where}: {self.strerror}"


def syscall(
    nr: int,
    *args: int,
    call: str,
    subject: str = "",
    error: Callable[[int], SyscallError] | None = None,
) -> int:
    """Run system call *nr* with up to four arguments; its result, or raise naming *call*.

    ``error`` makes the exception from the errno, for callers that say more (the
    bpf command); by default it is a :class:`SyscallError`.
    """
    padded = (*args, 0, 0, 0, 0)[:4]
    ret = _libc.syscall(nr, *padded)
    if ret < 0:
        errnum = ctypes.get_errno()
        raise error(errnum) if error else SyscallError(errnum, call, subject=subject)
    return int(ret)


def statfs(path: bytes, buf: ctypes.Structure) -> int:
    """Fill *buf* with the ``statfs`` of *path*: 0, or the errno."""
    return 0 if _libc.statfs(path, ctypes.byref(buf)) == 0 else ctypes.get_errno()


def mount(source: bytes, target: bytes, fstype: bytes) -> int:
    """Mount *fstype* from *source* on *target*, no flags or data: 0, or the errno."""
    return 0 if _libc.mount(source, target, fstype, 0, None) == 0 else ctypes.get_errno()


@contextlib.contextmanager
def owned_fd(fd: int) -> Iterator[int]:
    """Yield *fd* and close it with ``os.close`` when the block ends."""
    try:
        yield fd
    finally:
        os.close(fd)
