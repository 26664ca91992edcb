"""Per-architecture numbers bpfcov needs to talk to the kernel directly.

Data only: syscall numbers (from ``asm/unistd_64.h`` on x86_64 and
``asm-generic/unistd.h`` on aarch64) and the ``AUDIT_ARCH_*`` value a seccomp
filter sees in ``seccomp_data.arch`` (``linux/audit.h``). A 64-bit kernel also
runs tasks through other ABIs (i386 and x32 on x86_64, AArch32 on aarch64);
:attr:`Syscalls.compat` lists how each of those names ``bpf()``, so that a seccomp
filter can trap it there too. Look the table up with :func:`syscalls`; nothing
here branches on the platform at import time.
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
    "AUDIT_ARCH_ARM",
    "AUDIT_ARCH_I386",
    "AUDIT_ARCH_X86_64",
    "SYSCALLS",
    "X32_SYSCALL_BIT",
    "CompatAbi",
    "Syscalls",
    "syscalls",
]

# keep in sync with linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
_AUDIT_ARCH_64BIT = 0x8000_0000
_AUDIT_ARCH_LE = 0x4000_0000
_EM_386 = 3
_EM_ARM = 40
_EM_X86_64 = 62
_EM_AARCH64 = 183

AUDIT_ARCH_X86_64 = _EM_X86_64 | _AUDIT_ARCH_64BIT | _AUDIT_ARCH_LE
"""``AUDIT_ARCH_X86_64`` (0xc000003e)."""

AUDIT_ARCH_AARCH64 = _EM_AARCH64 | _AUDIT_ARCH_64BIT | _AUDIT_ARCH_LE
"""``AUDIT_ARCH_AARCH64`` (0xc00000b7)."""

AUDIT_ARCH_I386 = _EM_386 | _AUDIT_ARCH_LE
"""``AUDIT_ARCH_I386`` (0x40000003): ``int $0x80`` on an x86_64 kernel."""

AUDIT_ARCH_ARM = _EM_ARM | _AUDIT_ARCH_LE
"""``AUDIT_ARCH_ARM`` (0x40000028): AArch32 tasks on an aarch64 kernel."""

# keep in sync with asm/unistd_x32.h
X32_SYSCALL_BIT = 0x4000_0000
"""``__X32_SYSCALL_BIT``: x32 calls report ``AUDIT_ARCH_X86_64`` and this bit in ``nr``."""


@dataclass(frozen=True)
class CompatAbi:
    """Another ABI a task of this machine can enter the kernel through."""

    name: str
    """What the ABI is called (``i386``, ``x32``, ``arm``)."""
    audit_arch: int
    """``seccomp_data.arch`` for a call through it."""
    bpf: int
    """``__NR_bpf`` in it, as ``seccomp_data.nr`` shows it."""


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
    compat: tuple[CompatAbi, ...] = ()
    """The other ABIs the kernel of this machine runs, and ``__NR_bpf`` in each."""

    def bpf_numbers(self) -> tuple[tuple[int, int], ...]:
        """Every ``(seccomp_data.arch, seccomp_data.nr)`` that means ``bpf()`` here."""
        native = ((self.audit_arch, self.bpf),)
        return native + tuple((abi.audit_arch, abi.bpf) for abi in self.compat)


# keep in sync with asm/unistd_64.h (x86_64)
_X86_64 = Syscalls(
    bpf=321,
    pidfd_open=434,
    pidfd_getfd=438,
    seccomp=317,
    ptrace=101,
    audit_arch=AUDIT_ARCH_X86_64,
    # keep in sync with asm/unistd_x32.h and asm/unistd_32.h
    compat=(
        CompatAbi("x32", AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 321),
        CompatAbi("i386", AUDIT_ARCH_I386, 357),
    ),
)

# keep in sync with asm-generic/unistd.h (aarch64 uses the generic table)
_AARCH64 = Syscalls(
    bpf=280,
    pidfd_open=434,
    pidfd_getfd=438,
    seccomp=277,
    ptrace=117,
    audit_arch=AUDIT_ARCH_AARCH64,
    # keep in sync with arch/arm/tools/syscall.tbl (EABI)
    compat=(CompatAbi("arm", AUDIT_ARCH_ARM, 386),),
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
