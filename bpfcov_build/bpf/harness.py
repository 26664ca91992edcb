"""Creating maps, loading programs and running them: the harness of tests and benchmarks.

``bpfcov`` itself never creates a map or loads a program (the user's loader does);
the test suite and ``bench/`` load instrumented programs with these, through the
same chokepoint as the rest of :mod:`bpfcov_build.bpf`.

USAGE::

    from bpfcov_build import bpf
    from bpfcov_build.bpf import harness

    fd = harness.map_create(bpf.MapType.ARRAY, 4, 8, 1, name="counters")
    harness.map_update(fd, (0).to_bytes(4, "little"), (7).to_bytes(8, "little"))
    assert bpf.read_map_value(fd) == (7).to_bytes(8, "little")
"""

from __future__ import annotations

import ctypes
import errno
from dataclasses import dataclass

from bpfcov_build.bpf import BpfSyscallError, _addr, _bytes_buf, _obj_name, _sys_bpf
from bpfcov_build.bpf.abi import (
    Cmd,
    MapCreateAttr,
    MapElemAttr,
    MapType,
    ProgLoadAttr,
    ProgType,
    TestRunAttr,
    UpdateFlag,
)

__all__ = ["TestRunResult", "map_create", "map_freeze", "map_update", "prog_load", "prog_test_run"]

_DEFAULT_LOG_SIZE = 1 << 22
_PROG_LOAD_RETRIES = 5


def map_create(
    map_type: MapType | int,
    key_size: int,
    value_size: int,
    max_entries: int,
    name: str = "",
    flags: int = 0,
) -> int:
    """Create a map (BPF_MAP_CREATE) and return its fd."""
    attr = MapCreateAttr(
        map_type=map_type,
        key_size=key_size,
        value_size=value_size,
        max_entries=max_entries,
        map_flags=flags,
        map_name=_obj_name(name),
    )
    return _sys_bpf(Cmd.MAP_CREATE, attr, subject=f"map {name!r}" if name else "")


def map_update(fd: int, key: bytes, value: bytes, flags: int = UpdateFlag.ANY) -> None:
    """Store *value* under *key* (BPF_MAP_UPDATE_ELEM)."""
    key_buf = _bytes_buf(key)
    value_buf = _bytes_buf(value)
    attr = MapElemAttr(map_fd=fd, key=_addr(key_buf), value=_addr(value_buf), flags=flags)
    _sys_bpf(Cmd.MAP_UPDATE_ELEM, attr)


def map_freeze(fd: int) -> None:
    """Make a map read-only for user space (BPF_MAP_FREEZE)."""
    _sys_bpf(Cmd.MAP_FREEZE, MapElemAttr(map_fd=fd))


def prog_load(
    prog_type: ProgType | int,
    insns: bytes,
    license: str = "GPL",
    name: str = "",
    *,
    expected_attach_type: int = 0,
    flags: int = 0,
    log_size: int = _DEFAULT_LOG_SIZE,
) -> int:
    """Load a program (BPF_PROG_LOAD); on failure the error carries the verifier log."""
    if not insns or len(insns) % 8:
        msg = f"BPF program must be a non-empty multiple of 8 bytes, got {len(insns)}"
        raise ValueError(msg)
    insns_buf = _bytes_buf(insns)
    license_buf = ctypes.create_string_buffer(license.encode("ascii"))
    attr = ProgLoadAttr(
        prog_type=prog_type,
        insn_cnt=len(insns) // 8,
        insns=_addr(insns_buf),
        license=_addr(license_buf),
        prog_flags=flags,
        prog_name=_obj_name(name),
        expected_attach_type=expected_attach_type,
    )
    subject = f"program {name!r}" if name else ""
    for _ in range(_PROG_LOAD_RETRIES):
        try:
            return _sys_bpf(Cmd.PROG_LOAD, attr, subject=subject)
        except BpfSyscallError as exc:
            if exc.errno != errno.EAGAIN:  # EAGAIN: verifier interrupted by a signal
                break
    # Load once more with a log so the error says why the verifier refused it.
    log_buf = ctypes.create_string_buffer(log_size)
    attr.log_level = 1
    attr.log_size = log_size
    attr.log_buf = _addr(log_buf)
    try:
        return _sys_bpf(Cmd.PROG_LOAD, attr, subject=subject)
    except BpfSyscallError as exc:
        log = log_buf.value.decode("utf-8", errors="replace")
        raise BpfSyscallError(
            exc.errno or errno.EINVAL,
            Cmd.PROG_LOAD,
            subject=subject,
            verifier_log=log,
        ) from None


@dataclass(frozen=True)
class TestRunResult:
    """What ``BPF_PROG_TEST_RUN`` reports."""

    __test__ = False  # not a pytest test class

    retval: int
    """The program's return value (of the last run)."""
    duration_ns: int
    """Average run time per repetition, in nanoseconds."""
    data_out: bytes
    """The packet after the program ran (empty unless data_out_size > 0)."""
    ctx_out: bytes = b""
    """The context after the program ran (empty unless ctx_out_size > 0)."""


def prog_test_run(
    fd: int,
    data_in: bytes = b"",
    repeat: int = 1,
    ctx_in: bytes | None = None,
    data_out_size: int | None = None,
    *,
    ctx_out_size: int = 0,
    flags: int = 0,
    cpu: int = 0,
) -> TestRunResult:
    """Run a loaded program in the kernel on test input (BPF_PROG_TEST_RUN)."""
    out_size = len(data_in) if data_out_size is None else data_out_size
    data_in_buf = _bytes_buf(data_in)
    data_out_buf = ctypes.create_string_buffer(out_size) if out_size else None
    ctx_in_buf = _bytes_buf(ctx_in or b"")
    ctx_out_buf = ctypes.create_string_buffer(ctx_out_size) if ctx_out_size else None
    attr = TestRunAttr(
        prog_fd=fd,
        data_size_in=len(data_in),
        data_size_out=out_size,
        data_in=_addr(data_in_buf),
        data_out=_addr(data_out_buf),
        repeat=repeat,
        ctx_size_in=len(ctx_in or b""),
        ctx_size_out=ctx_out_size,
        ctx_in=_addr(ctx_in_buf),
        ctx_out=_addr(ctx_out_buf),
        flags=flags,
        cpu=cpu,
    )
    _sys_bpf(Cmd.PROG_TEST_RUN, attr)
    data_out = data_out_buf.raw[: min(int(attr.data_size_out), out_size)] if data_out_buf else b""
    ctx_out = ctx_out_buf.raw[: min(int(attr.ctx_size_out), ctx_out_size)] if ctx_out_buf else b""
    return TestRunResult(
        retval=int(attr.retval),
        duration_ns=int(attr.duration),
        data_out=data_out,
        ctx_out=ctx_out,
    )
