"""Per-architecture numbers bpfcov needs to talk to the kernel directly.

Data only: syscall numbers (from ``asm/unistd_64.h`` on x86_64 and
``asm-generic/unistd.h`` on aarch64) and the ``AUDIT_ARCH_*`` value a seccomp
filter sees in ``seccomp_data.arch`` (``linux/audit.h``). Look the table up
with :func:`syscalls`; nothing here branches on the platform at import time.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from bpfcov_build.errors import BpfcovError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "AUDIT_ARCH_AARCH64",
    "AUDIT_ARCH_X86_64",
    "SYSCALLS",
    "Syscalls",
    "syscalls",
]

# keep in sync with linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
_AUDIT_ARCH_64BIT = 0x8000_0000
_AUDIT_ARCH_LE = 0x4000_0000
_EM_X86_64 = 62
_EM_AARCH64 = 183

AUDIT_ARCH_X86_64 = _EM_X86_64 | _AUDIT_ARCH_64BIT | _AUDIT_ARCH_LE
"""``AUDIT_ARCH_X86_64`` (0xc000003e)."""

AUDIT_ARCH_AARCH64 = _EM_AARCH64 | _AUDIT_ARCH_64BIT | _AUDIT_ARCH_LE
"""``AUDIT_ARCH_AARCH64`` (0xc00000b7)."""


@dataclass(frozen=True)
class Syscalls:
    """Syscall numbers and the seccomp audit arch of one architecture."""

    bpf: int
    """``__NR_bpf``."""
    pidfd_open: int
    """``__NR_pidfd_open``."""
    pidfd_getfd: int
    """``__NR_pidfd_getfd``."""
    seccomp: int
    """``__NR_seccomp``."""
    ptrace: int
    """``__NR_ptrace``."""
    audit_arch: int
    """``AUDIT_ARCH_*`` value seccomp reports for this architecture."""


# keep in sync with asm/unistd_64.h (x86_64)
_X86_64 = Syscalls(
    bpf=321,
    pidfd_open=434,
    pidfd_getfd=438,
    seccomp=317,
    ptrace=101,
    audit_arch=AUDIT_ARCH_X86_64,
)

# keep in sync with asm-generic/unistd.h (aarch64 uses the generic table)
_AARCH64 = Syscalls(
    bpf=280,
    pidfd_open=434,
    pidfd_getfd=438,
    seccomp=277,
    ptrace=117,
    audit_arch=AUDIT_ARCH_AARCH64,
)

SYSCALLS: Mapping[str, Syscalls] = MappingProxyType(
    {
        "x86_64": _X86_64,
        "aarch64": _AARCH64,
        "arm64": _AARCH64,
    },
)
"""Syscall tables keyed by :func:`platform.machine` values."""


def syscalls(machine: str | None = None) -> Syscalls:
    """Return the syscall table for *machine* (default: this machine)."""
    name = platform.machine() if machine is None else machine
    try:
        return SYSCALLS[name]
    except KeyError:
        known = ", ".join(sorted(SYSCALLS))
        msg = f"unsupported machine {name!r}: bpfcov knows the syscall numbers for {known} only"
        raise BpfcovError(msg) from None
