"""ptrace(2), seccomp(2) and pidfds through ctypes: the raw calls the tracer needs.

Every call goes through bpfcov's one syscall chokepoint (:func:`bpfcov_build.libc.syscall`),
which turns a failure into :class:`~bpfcov_build.libc.SyscallError` naming the request, e.g.
``ptrace(PTRACE_SEIZE) failed for pid 42: Operation not permitted``. On top of it,
one typed function per request. The calls are made with ``syscall(2)`` and the
numbers of :mod:`bpfcov_build.arch`, so glibc's variadic ``ptrace()`` wrapper and its
``PEEK*`` conventions never come into play. The one kernel structure read here,
``struct ptrace_syscall_info``, is written from ``linux/ptrace.h``;
``tests/test_tracer.py`` checks its layout against the C compiler.

USAGE::

    from bpfcov_build import arch, ptrace

    program = ptrace.bpf_trap_filter(arch.syscalls(), 0)  # SECCOMP_RET_TRACE for bpf(0, ...)
    ptrace.seize(pid, ptrace.Option.TRACESECCOMP | ptrace.Option.TRACEFORK)
    info = ptrace.get_syscall_info(pid)  # at a PTRACE_EVENT_SECCOMP stop
    if info.args[0] == 0:  # BPF_MAP_CREATE
        ptrace.resume(ptrace.Request.SYSCALL, pid)  # on to its syscall-exit-stop
"""

from __future__ import annotations

import ctypes
import enum
import errno
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfcov_build import libc
from bpfcov_build.arch import syscalls
from bpfcov_build.errors import BpfcovError
from bpfcov_build.libc import SyscallError

if TYPE_CHECKING:
    from bpfcov_build.arch import Syscalls

__all__ = [
    "PIDFD_THREAD",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_SET_MODE_FILTER",
    "SYSGOOD_TRAP",
    "WALL",
    "Event",
    "Option",
    "PtraceSyscallInfo",
    "Request",
    "SeccompRet",
    "SockFilter",
    "SockFprog",
    "SyscallError",
    "SyscallInfo",
    "SyscallInfoOp",
    "allow_filter",
    "bpf_trap_filter",
    "get_syscall_info",
    "geteventmsg",
    "install_seccomp_filter",
    "interrupt",
    "pidfd_getfd",
    "pidfd_open",
    "resume",
    "seize",
]

# --------------------------------------------------------------------------------------
# Constants. keep in sync with linux/ptrace.h, linux/seccomp.h, linux/filter.h,
# linux/bpf_common.h, linux/wait.h and linux/pidfd.h
# --------------------------------------------------------------------------------------

WALL = 0x4000_0000
"""``__WALL`` for waitpid(2): report every tracee, thread or process (not in :mod:`os`)."""

PIDFD_THREAD = os.O_EXCL
"""``PIDFD_THREAD`` (Linux >= 6.9): a pidfd for one thread rather than a thread group."""

SYSGOOD_TRAP = 0x80 | 5  # 0x80 | SIGTRAP
"""``WSTOPSIG`` of a syscall-stop when ``PTRACE_O_TRACESYSGOOD`` is set."""

SECCOMP_SET_MODE_FILTER = 1
"""seccomp(2) operation installing a classic-BPF filter."""

SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2
"""Installs the filter without turning on the speculative-store-bypass mitigation
that kernels booted with ``spec_store_bypass_disable=seccomp`` (once the default)
force on every task with a filter; linux/seccomp.h."""


class Request(enum.IntEnum):
    """The ptrace requests bpfcov makes."""

    CONT = 7
    SYSCALL = 24
    DETACH = 17
    SETOPTIONS = 0x4200
    GETEVENTMSG = 0x4201
    SEIZE = 0x4206
    INTERRUPT = 0x4207
    LISTEN = 0x4208
    GET_SYSCALL_INFO = 0x420E

    @property
    def c_name(self) -> str:
        """Return the kernel's name for this request, e.g. ``PTRACE_SEIZE``."""
        return f"PTRACE_{self.name}"


class Option(enum.IntFlag):
    """``PTRACE_O_*``: what a tracee reports beyond signals."""

    TRACESYSGOOD = 1 << 0
    TRACEFORK = 1 << 1
    TRACEVFORK = 1 << 2
    TRACECLONE = 1 << 3
    TRACEEXEC = 1 << 4
    TRACEVFORKDONE = 1 << 5
    TRACEEXIT = 1 << 6
    TRACESECCOMP = 1 << 7
    EXITKILL = 1 << 20


class Event(enum.IntEnum):
    """``PTRACE_EVENT_*``: bits 16..23 of a ptrace-stop's wait status."""

    NONE = 0
    FORK = 1
    VFORK = 2
    CLONE = 3
    EXEC = 4
    VFORK_DONE = 5
    EXIT = 6
    SECCOMP = 7
    STOP = 128


class SyscallInfoOp(enum.IntEnum):
    """``PTRACE_SYSCALL_INFO_*``: which stop ``PTRACE_GET_SYSCALL_INFO`` describes."""

    NONE = 0
    ENTRY = 1
    EXIT = 2
    SECCOMP = 3


class SeccompRet(enum.IntEnum):
    """``SECCOMP_RET_*`` actions a filter returns (the data bits left 0)."""

    KILL_PROCESS = 0x8000_0000
    TRACE = 0x7FF0_0000
    ALLOW = 0x7FFF_0000


# classic BPF (linux/bpf_common.h): class | size | mode, class | op | source
_BPF_LD_W_ABS = 0x00 | 0x00 | 0x20
_BPF_JMP_JEQ_K = 0x05 | 0x10 | 0x00
_BPF_RET_K = 0x06 | 0x00
_MAX_JUMP = 0xFF

# offsets in struct seccomp_data (linux/seccomp.h); args[0] is a u64 whose low half,
# where an int argument lives, comes first on a little-endian ABI
_SECCOMP_DATA_NR = 0
_SECCOMP_DATA_ARCH = 4
_SECCOMP_DATA_ARG0 = 16
_AUDIT_ARCH_LE = 0x4000_0000  # __AUDIT_ARCH_LE (linux/audit.h)

# --------------------------------------------------------------------------------------
# Kernel structures. Field names are the C names, so the layout test can offsetof()
# them.
# --------------------------------------------------------------------------------------

_u8 = ctypes.c_uint8
_u16 = ctypes.c_uint16
_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64
_s64 = ctypes.c_int64


class SyscallInfoEntry(ctypes.Structure):
    """``ptrace_syscall_info.entry``."""

    _fields_ = (("nr", _u64), ("args", _u64 * 6))


class SyscallInfoExit(ctypes.Structure):
    """``ptrace_syscall_info.exit``."""

    _fields_ = (("rval", _s64), ("is_error", _u8))


class SyscallInfoSeccomp(ctypes.Structure):
    """``ptrace_syscall_info.seccomp``."""

    _fields_ = (("nr", _u64), ("args", _u64 * 6), ("ret_data", _u32))


class SyscallInfoUnion(ctypes.Union):
    """The anonymous union of ``struct ptrace_syscall_info``."""

    _fields_ = (
        ("entry", SyscallInfoEntry),
        ("exit", SyscallInfoExit),
        ("seccomp", SyscallInfoSeccomp),
    )


class PtraceSyscallInfo(ctypes.Structure):
    """``struct ptrace_syscall_info``, filled by ``PTRACE_GET_SYSCALL_INFO``."""

    # keep in sync with linux/ptrace.h (struct ptrace_syscall_info)
    _anonymous_ = ("u",)
    _fields_ = (
        ("op", _u8),
        ("pad", _u8 * 3),
        ("arch", _u32),
        ("instruction_pointer", _u64),
        ("stack_pointer", _u64),
        ("u", SyscallInfoUnion),
    )


class SockFilter(ctypes.Structure):
    """``struct sock_filter``: one classic-BPF instruction."""

    # keep in sync with linux/filter.h (struct sock_filter)
    _fields_ = (("code", _u16), ("jt", _u8), ("jf", _u8), ("k", _u32))


class SockFprog(ctypes.Structure):
    """``struct sock_fprog``: a classic-BPF program for seccomp(2)."""

    # keep in sync with linux/filter.h (struct sock_fprog)
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter)))


def _syscall(nr: int, call: str, *args: int, pid: int = 0) -> int:
    """Run syscall(nr, *args) through the chokepoint, naming *call* and *pid*."""
    return libc.syscall(nr, *args, call=call, subject=f"pid {pid}" if pid else "")


def _ptrace(request: Request, pid: int, addr: int = 0, data: int = 0) -> int:
    """ptrace(request, pid, addr, data) through the chokepoint."""
    call = f"ptrace({request.c_name})"
    return _syscall(syscalls().ptrace, call, request, pid, addr, data, pid=pid)


# --------------------------------------------------------------------------------------
# ptrace requests.
# --------------------------------------------------------------------------------------


def seize(pid: int, options: Option) -> None:
    """Attach to *pid* without stopping it (``PTRACE_SEIZE``), with *options*."""
    _ptrace(Request.SEIZE, pid, 0, int(options))


def resume(request: Request, pid: int, sig: int = 0) -> None:
    """Restart a stopped tracee: CONT, SYSCALL, LISTEN, DETACH (delivering *sig*)."""
    _ptrace(request, pid, 0, sig)


def interrupt(pid: int) -> None:
    """Make a running seized tracee stop (``PTRACE_INTERRUPT``)."""
    _ptrace(Request.INTERRUPT, pid)


def geteventmsg(pid: int) -> int:
    """The message of the last ptrace event (new pid, former tid, ...)."""
    msg = ctypes.c_ulong()
    _ptrace(Request.GETEVENTMSG, pid, 0, ctypes.addressof(msg))
    return int(msg.value)


@dataclass(frozen=True)
class SyscallInfo:
    """What ``PTRACE_GET_SYSCALL_INFO`` says about the syscall a tracee is stopped in."""

    op: SyscallInfoOp
    arch: int
    """``AUDIT_ARCH_*`` of the call."""
    nr: int = -1
    """Syscall number (entry and seccomp stops)."""
    args: tuple[int, ...] = ()
    """The six arguments (entry and seccomp stops)."""
    rval: int = 0
    """Return value, ``-errno`` when ``is_error`` (exit stops)."""
    is_error: bool = False


def get_syscall_info(pid: int) -> SyscallInfo:
    """Read the syscall *pid* is stopped in, whatever the architecture (Linux >= 5.3)."""
    raw = PtraceSyscallInfo()
    _ptrace(Request.GET_SYSCALL_INFO, pid, ctypes.sizeof(raw), ctypes.addressof(raw))
    try:
        op = SyscallInfoOp(raw.op)
    except ValueError:  # a stop kind newer than this table
        op = SyscallInfoOp.NONE
    if op is SyscallInfoOp.EXIT:
        return SyscallInfo(
            op, int(raw.arch), rval=int(raw.exit.rval), is_error=bool(raw.exit.is_error)
        )
    if op in {SyscallInfoOp.ENTRY, SyscallInfoOp.SECCOMP}:
        part = raw.entry if op is SyscallInfoOp.ENTRY else raw.seccomp
        return SyscallInfo(op, int(raw.arch), nr=int(part.nr), args=tuple(part.args))
    return SyscallInfo(op, int(raw.arch))


# --------------------------------------------------------------------------------------
# pidfds.
# --------------------------------------------------------------------------------------


def pidfd_open(pid: int, flags: int = 0) -> int:
    """A pidfd for *pid* (Linux >= 5.3; ``PIDFD_THREAD`` >= 6.9)."""
    return _syscall(syscalls().pidfd_open, "pidfd_open", pid, flags, pid=pid)


def pidfd_getfd(pidfd: int, fd: int) -> int:
    """A duplicate, in this process, of *fd* of the task behind *pidfd* (Linux >= 5.6)."""
    return _syscall(syscalls().pidfd_getfd, "pidfd_getfd", pidfd, fd, 0)


# --------------------------------------------------------------------------------------
# seccomp.
# --------------------------------------------------------------------------------------


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> SockFilter:
    return SockFilter(code=code, jt=jt, jf=jf, k=k)


def bpf_trap_filter(table: Syscalls, command: int, *more: int) -> tuple[SockFilter, ...]:
    """A seccomp filter: ``SECCOMP_RET_TRACE`` for ``bpf(command, ...)``, ``ALLOW`` for the rest.

    Only those bpf() commands (``command`` and ``more``) stop the program: map lookups
    and updates and every other command run as they would untraced. A command is
    compared as the int it is (the low half of the 64-bit argument).

    It checks ``seccomp_data.arch`` first and traps ``bpf()`` under every ABI the
    machine's kernel runs (native, and i386/x32 or AArch32): a number means another
    call under another ABI. A call under an ABI the table does not know is allowed;
    the tables list every ABI the supported kernels offer, so that is unreachable,
    and a program running uncovered beats a program killed. It only compares the
    arch and the number, so the kernel's constant-action cache lets every other
    syscall through without running it.
    """
    by_arch: dict[int, list[int]] = {}
    for audit_arch, nr in table.bpf_numbers():
        by_arch.setdefault(audit_arch, []).append(nr)
    commands = (command, *more)
    prog = [_insn(_BPF_LD_W_ABS, _SECCOMP_DATA_ARCH)]
    for audit_arch, numbers in by_arch.items():
        # ld nr; jeq bpf -> check (per number); ret allow;
        # check: ld arg0 (low half); jeq command -> trace (per command); ret allow;
        # trace: ret trace
        arg0 = _SECCOMP_DATA_ARG0 + (0 if audit_arch & _AUDIT_ARCH_LE else 4)
        block = [_insn(_BPF_LD_W_ABS, _SECCOMP_DATA_NR)]
        for i, nr in enumerate(numbers):
            block.append(_insn(_BPF_JMP_JEQ_K, nr, jt=len(numbers) - i))
        block += [_insn(_BPF_RET_K, SeccompRet.ALLOW), _insn(_BPF_LD_W_ABS, arg0)]
        for i, cmd in enumerate(commands):
            block.append(_insn(_BPF_JMP_JEQ_K, cmd, jt=len(commands) - i))
        block += [
            _insn(_BPF_RET_K, SeccompRet.ALLOW),
            _insn(_BPF_RET_K, SeccompRet.TRACE),
        ]
        if len(block) > _MAX_JUMP:
            msg = f"seccomp filter block for arch {audit_arch:#x} is too long to jump over"
            raise BpfcovError(msg)
        prog.append(_insn(_BPF_JMP_JEQ_K, audit_arch, jt=0, jf=len(block)))
        prog += block
    prog.append(_insn(_BPF_RET_K, SeccompRet.ALLOW))
    return tuple(prog)


def allow_filter() -> tuple[SockFilter, ...]:
    """A seccomp filter that allows every call: what any filter costs, nothing trapped."""
    return (_insn(_BPF_RET_K, SeccompRet.ALLOW),)


def install_seccomp_filter(prog: tuple[SockFilter, ...]) -> None:
    """Install *prog* on the calling thread (needs CAP_SYS_ADMIN or no_new_privs).

    The filter stays across fork, clone and execve. Call it in the child, before exec.
    It is installed with ``SECCOMP_FILTER_FLAG_SPEC_ALLOW``: a filter that only
    watches must not change how fast the program's own code runs. A kernel that
    does not know the flag (EINVAL) gets the filter without it.
    """
    insns = (SockFilter * len(prog))(*prog)
    fprog = SockFprog(len=len(prog), filter=insns)
    for flags in (SECCOMP_FILTER_FLAG_SPEC_ALLOW, 0):
        try:
            _syscall(
                syscalls().seccomp,
                "seccomp(SECCOMP_SET_MODE_FILTER)",
                SECCOMP_SET_MODE_FILTER,
                flags,
                ctypes.addressof(fprog),
            )
        except SyscallError as exc:
            if exc.errno != errno.EINVAL or flags == 0:
                raise
        else:
            return
