"""The few calls of the system libbpf (libbpf.so.1) xdp-demo needs, through ctypes.

Open and load an object, find a program's fd, run it on a packet with
``BPF_PROG_TEST_RUN``, close the object. Nothing is pinned: the programs and maps
live as long as the object is open, and closing it (or exiting) frees them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

__all__ = ["BpfObject", "LibbpfError"]

#: libbpf 0.x returned errors as pointers in the last page (ERR_PTR).
_MAX_ERRNO = 4095


class LibbpfError(OSError):
    """A libbpf call failed; ``errno`` says why."""


class _TestRunOpts(ctypes.Structure):
    """``struct bpf_test_run_opts`` of libbpf 1.x; ``sz`` tells libbpf its size."""

    _fields_ = (
        ("sz", ctypes.c_size_t),
        ("data_in", ctypes.c_void_p),
        ("data_out", ctypes.c_void_p),
        ("data_size_in", ctypes.c_uint32),
        ("data_size_out", ctypes.c_uint32),
        ("ctx_in", ctypes.c_void_p),
        ("ctx_out", ctypes.c_void_p),
        ("ctx_size_in", ctypes.c_uint32),
        ("ctx_size_out", ctypes.c_uint32),
        ("retval", ctypes.c_uint32),
        ("repeat", ctypes.c_int),
        ("duration", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("cpu", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
    )


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("bpf") or "libbpf.so.1"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        msg = f"cannot load libbpf ({name}): {exc}; install libbpf (Debian: libbpf1)"
        raise LibbpfError(msg) from exc
    lib.bpf_object__open_file.argtypes = (ctypes.c_char_p, ctypes.c_void_p)
    lib.bpf_object__open_file.restype = ctypes.c_void_p
    lib.bpf_object__load.argtypes = (ctypes.c_void_p,)
    lib.bpf_object__load.restype = ctypes.c_int
    lib.bpf_object__find_program_by_name.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
    lib.bpf_object__find_program_by_name.restype = ctypes.c_void_p
    lib.bpf_program__fd.argtypes = (ctypes.c_void_p,)
    lib.bpf_program__fd.restype = ctypes.c_int
    lib.bpf_prog_test_run_opts.argtypes = (ctypes.c_int, ctypes.POINTER(_TestRunOpts))
    lib.bpf_prog_test_run_opts.restype = ctypes.c_int
    lib.bpf_object__close.argtypes = (ctypes.c_void_p,)
    lib.bpf_object__close.restype = None
    return lib


def _error(what: str, code: int = 0) -> LibbpfError:
    """The error of a failed call: ``code`` if it is a negative errno, else errno."""
    err = -code if code < 0 else ctypes.get_errno()
    return LibbpfError(err, f"{what}: {os.strerror(err)}")


def _pointer(what: str, value: int | None) -> int:
    """``value`` if a valid pointer; raises for NULL or an ERR_PTR."""
    if not value:
        raise _error(what)
    if value >= (1 << 64) - _MAX_ERRNO:
        raise _error(what, value - (1 << 64))
    return value


class BpfObject:
    """An object file opened and loaded into the kernel; a context manager."""

    def __init__(self, path: Path) -> None:
        """Opens ``path`` and loads all its programs and maps."""
        self._lib = _load()
        self._obj: int | None = _pointer(
            f"opening {path}", self._lib.bpf_object__open_file(os.fsencode(path), None)
        )
        err = self._lib.bpf_object__load(self._obj)
        if err:
            self.close()
            raise _error(f"loading {path}", err)

    def program_fd(self, name: str) -> int:
        """The fd of program ``name`` (owned by the object)."""
        prog = _pointer(
            f"finding program {name}",
            self._lib.bpf_object__find_program_by_name(self._obj, name.encode()),
        )
        fd: int = self._lib.bpf_program__fd(prog)
        if fd < 0:
            raise _error(f"program {name} is not loaded", fd)
        return fd

    def test_run(self, prog_fd: int, packet: bytes, repeat: int = 1) -> int:
        """Runs the program ``repeat`` times on ``packet`` in the kernel: its return value."""
        data = ctypes.create_string_buffer(packet, len(packet))
        opts = _TestRunOpts(
            sz=ctypes.sizeof(_TestRunOpts),
            data_in=ctypes.cast(data, ctypes.c_void_p),
            data_size_in=len(packet),
            repeat=repeat,
        )
        err = self._lib.bpf_prog_test_run_opts(prog_fd, ctypes.byref(opts))
        if err:
            raise _error("BPF_PROG_TEST_RUN", err)
        return int(opts.retval)

    def close(self) -> None:
        """Unloads: frees the programs and maps (nothing was pinned)."""
        if self._obj is not None:
            self._lib.bpf_object__close(self._obj)
            self._obj = None

    def __enter__(self) -> BpfObject:
        """The object itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Closes the object."""
        self.close()
