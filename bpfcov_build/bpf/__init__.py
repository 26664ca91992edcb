"""The bpf(2) syscall through ctypes: what ``bpfcov run`` and ``gen`` ask of the kernel.

No libbpf: every command goes through one chokepoint, :func:`_sys_bpf` (on
:func:`bpfcov_build.libc.syscall`), which turns a failed call into
:class:`BpfSyscallError` naming the command. Each command has one typed function on
top of it: reading maps, pinning, walking ids, object info, bpffs. The ABI (enums,
``bpf_attr`` variants, info structures) is data in :mod:`bpfcov_build.bpf.abi`;
creating maps and loading and test-running programs, which only the tests and the
benchmarks do, is :mod:`bpfcov_build.bpf.harness`.

USAGE::

    from bpfcov_build import bpf

    with bpf.owned_fd(bpf.obj_get("/sys/fs/bpf/bpfcov/RUN/1-btf5/_data_profc")) as fd:
        counters = bpf.read_map_value(fd)
"""

from __future__ import annotations

import ctypes
import errno
import os
import string
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bpfcov_build import libc
from bpfcov_build.arch import syscalls
from bpfcov_build.bpf.abi import (
    BPF_FS_MAGIC,
    OBJ_NAME_LEN,
    PSEUDO_MAP_FD,
    PSEUDO_MAP_VALUE,
    TAG_SIZE,
    TEST_RUN_ON_CPU,
    BpfMapInfo,
    BpfProgInfo,
    Cmd,
    GetIdAttr,
    InfoByFdAttr,
    MapCreateAttr,
    MapElemAttr,
    MapFlag,
    MapType,
    ObjAttr,
    ProgLoadAttr,
    ProgType,
    Statfs,
    TestRunAttr,
    UpdateFlag,
)
from bpfcov_build.errors import BpfcovError, FormatError
from bpfcov_build.libc import SyscallError, owned_fd

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "BPF_FS_MAGIC",
    "OBJ_NAME_LEN",
    "PSEUDO_MAP_FD",
    "PSEUDO_MAP_VALUE",
    "TAG_SIZE",
    "TEST_RUN_ON_CPU",
    "BpfMapInfo",
    "BpfProgInfo",
    "BpfSyscallError",
    "Cmd",
    "GetIdAttr",
    "InfoByFdAttr",
    "MapCreateAttr",
    "MapElemAttr",
    "MapFlag",
    "MapInfo",
    "MapType",
    "ObjAttr",
    "ProgInfo",
    "ProgLoadAttr",
    "ProgType",
    "Statfs",
    "TestRunAttr",
    "UpdateFlag",
    "ensure_bpffs",
    "is_bpffs",
    "map_fd_by_id",
    "map_ids",
    "map_info",
    "map_lookup",
    "obj_get",
    "obj_pin",
    "owned_fd",
    "prog_fd_by_id",
    "prog_ids",
    "prog_info",
    "read_map_value",
]

_LOG_EXCERPT_LINES = 3
_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.")


# --------------------------------------------------------------------------------------
# The chokepoint.
# --------------------------------------------------------------------------------------


class BpfSyscallError(SyscallError):
    """bpf(2) failed; ``errno`` and ``cmd`` say how, ``str()`` is one line."""

    def __init__(
        self,
        errnum: int,
        cmd: Cmd,
        *,
        subject: str = "",
        verifier_log: str = "",
    ) -> None:
        """Record errno *errnum* for *cmd*, the object at fault and any verifier log."""
        super().__init__(errnum, f"bpf({cmd.c_name})", subject=subject)
        self.cmd = cmd
        self.verifier_log = verifier_log

    def __str__(self) -> str:
        """Return ``bpf(BPF_X) failed[ for subject]: strerror[; verifier: ...]``."""
        text = super().__str__()
        excerpt = _log_excerpt(self.verifier_log)
        return f"{text}; verifier: {excerpt}" if excerpt else text


def _log_excerpt(log: str) -> str:
    """Return the last few meaningful lines of a verifier log, joined on one line."""
    lines = [line.strip() for line in log.splitlines()]
    lines = [line for line in lines if line and not line.startswith("processed ")]
    return " | ".join(lines[-_LOG_EXCERPT_LINES:])


def _sys_bpf(cmd: Cmd, attr: ctypes.Structure, *, subject: str = "") -> int:
    """Run bpf(cmd, &attr, sizeof(attr)); raise BpfSyscallError when it fails."""
    return libc.syscall(
        syscalls().bpf,
        int(cmd),
        ctypes.addressof(attr),
        ctypes.sizeof(attr),
        call=f"bpf({cmd.c_name})",
        error=lambda errnum: BpfSyscallError(errnum, cmd, subject=subject),
    )


# --------------------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------------------


def _addr(buf: ctypes.Array[ctypes.c_char] | None) -> int:
    """Return the address of *buf* as a u64 for bpf_attr, or 0 for None."""
    return 0 if buf is None else ctypes.addressof(buf)


def _bytes_buf(data: bytes) -> ctypes.Array[ctypes.c_char] | None:
    """Return a C buffer holding exactly *data*, or None when it is empty."""
    if not data:
        return None
    return (ctypes.c_char * len(data)).from_buffer_copy(data)


def _obj_name(name: str) -> bytes:
    """Check a map or program name the way the kernel does and encode it."""
    if len(name) >= OBJ_NAME_LEN or not _NAME_CHARS.issuperset(name):
        msg = (
            f"invalid BPF object name {name!r}: use at most {OBJ_NAME_LEN - 1} "
            "characters from [A-Za-z0-9_.]"
        )
        raise ValueError(msg)
    return name.encode("ascii")


def _path_arg(path: str | os.PathLike[str]) -> bytes:
    """Return *path* as bytes for a C string argument."""
    return os.fsencode(path)


# --------------------------------------------------------------------------------------
# Maps.
# --------------------------------------------------------------------------------------


def map_lookup(fd: int, key: bytes, value_size: int) -> bytes:
    """Return the value stored under *key* (BPF_MAP_LOOKUP_ELEM)."""
    key_buf = _bytes_buf(key)
    value_buf = ctypes.create_string_buffer(value_size)
    attr = MapElemAttr(map_fd=fd, key=_addr(key_buf), value=_addr(value_buf))
    _sys_bpf(Cmd.MAP_LOOKUP_ELEM, attr)
    return value_buf.raw


def read_map_value(fd: int) -> bytes:
    """Return entry 0 of a global-data ARRAY map, sized by the map's value_size."""
    info = map_info(fd)
    if info.type != MapType.ARRAY or info.max_entries < 1:
        msg = (
            f"map {info.name!r} (id {info.id}) is not an ARRAY map with an entry 0 "
            f"(type {info.type}, max_entries {info.max_entries})"
        )
        raise FormatError(msg)
    return map_lookup(fd, (0).to_bytes(4, "little"), info.value_size)


# --------------------------------------------------------------------------------------
# Pinning.
# --------------------------------------------------------------------------------------


def obj_pin(fd: int, path: str | os.PathLike[str]) -> None:
    """Pin a map or program fd at *path* on bpffs (BPF_OBJ_PIN)."""
    path_buf = ctypes.create_string_buffer(_path_arg(path))
    attr = ObjAttr(pathname=_addr(path_buf), bpf_fd=fd)
    _sys_bpf(Cmd.OBJ_PIN, attr, subject=os.fspath(path))


def obj_get(path: str | os.PathLike[str], *, read_only: bool = False) -> int:
    """Open the object pinned at *path* (BPF_OBJ_GET) and return its fd."""
    path_buf = ctypes.create_string_buffer(_path_arg(path))
    attr = ObjAttr(pathname=_addr(path_buf), file_flags=MapFlag.RDONLY if read_only else 0)
    return _sys_bpf(Cmd.OBJ_GET, attr, subject=os.fspath(path))


# --------------------------------------------------------------------------------------
# Walking the kernel's objects.
# --------------------------------------------------------------------------------------


def _next_ids(cmd: Cmd) -> Iterator[int]:
    """Yield every id the GET_NEXT_ID command *cmd* walks, in increasing order."""
    attr = GetIdAttr(start_id=0)
    while True:
        try:
            _sys_bpf(cmd, attr)
        except BpfSyscallError as exc:
            if exc.errno == errno.ENOENT:  # walked past the last id
                return
            raise
        yield int(attr.next_id)
        attr = GetIdAttr(start_id=attr.next_id)


def prog_ids() -> Iterator[int]:
    """Yield the ids of all loaded programs (BPF_PROG_GET_NEXT_ID)."""
    return _next_ids(Cmd.PROG_GET_NEXT_ID)


def map_ids() -> Iterator[int]:
    """Yield the ids of all maps (BPF_MAP_GET_NEXT_ID)."""
    return _next_ids(Cmd.MAP_GET_NEXT_ID)


def prog_fd_by_id(prog_id: int) -> int:
    """Open a program by id (BPF_PROG_GET_FD_BY_ID) and return its fd."""
    return _sys_bpf(
        Cmd.PROG_GET_FD_BY_ID,
        GetIdAttr(start_id=prog_id),
        subject=f"program id {prog_id}",
    )


def map_fd_by_id(map_id: int, *, read_only: bool = False) -> int:
    """Open a map by id (BPF_MAP_GET_FD_BY_ID) and return its fd."""
    attr = GetIdAttr(start_id=map_id, open_flags=MapFlag.RDONLY if read_only else 0)
    return _sys_bpf(Cmd.MAP_GET_FD_BY_ID, attr, subject=f"map id {map_id}")


# --------------------------------------------------------------------------------------
# Object info.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapInfo:
    """``struct bpf_map_info`` as plain Python values."""

    type: int
    id: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int
    name: str
    ifindex: int
    btf_vmlinux_value_type_id: int
    netns_dev: int
    netns_ino: int
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    map_extra: int


@dataclass(frozen=True)
class ProgInfo:
    """``struct bpf_prog_info`` as plain Python values (pointer fields resolved)."""

    type: int
    id: int
    name: str
    tag: bytes
    map_ids: tuple[int, ...]
    btf_id: int
    jited_prog_len: int
    xlated_prog_len: int
    load_time: int
    created_by_uid: int
    ifindex: int
    gpl_compatible: bool
    netns_dev: int
    netns_ino: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    verified_insns: int
    attach_btf_obj_id: int
    attach_btf_id: int


_Info = TypeVar("_Info", MapInfo, ProgInfo)


def _get_info(fd: int, info: ctypes.Structure) -> None:
    """Fill *info* for the object behind *fd* (BPF_OBJ_GET_INFO_BY_FD)."""
    attr = InfoByFdAttr(bpf_fd=fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info))
    _sys_bpf(Cmd.OBJ_GET_INFO_BY_FD, attr, subject=f"fd {fd}")


def _decode_name(raw: bytes) -> str:
    """Decode a NUL-terminated kernel object name."""
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _from_struct(cls: type[_Info], raw: ctypes.Structure, **special: object) -> _Info:
    """``cls`` with each field the struct field of its name (an int), unless ``special``."""
    values: dict[str, Any] = {
        f.name: special[f.name] if f.name in special else int(getattr(raw, f.name))
        for f in fields(cls)
    }
    return cls(**values)


def map_info(fd: int) -> MapInfo:
    """Return what the kernel knows about the map behind *fd*."""
    info = BpfMapInfo()
    _get_info(fd, info)
    return _from_struct(MapInfo, info, name=_decode_name(bytes(info.name)))


def prog_info(fd: int) -> ProgInfo:
    """Return what the kernel knows about the program behind *fd*, with its map ids."""
    info = BpfProgInfo()
    _get_info(fd, info)  # first call: learn nr_map_ids
    ids: tuple[int, ...] = ()
    while info.nr_map_ids:
        wanted = int(info.nr_map_ids)
        id_buf = (ctypes.c_uint32 * wanted)()
        info = BpfProgInfo(nr_map_ids=wanted, map_ids=ctypes.addressof(id_buf))
        _get_info(fd, info)  # second call: the kernel fills id_buf
        if info.nr_map_ids <= wanted:  # BPF_PROG_BIND_MAP may add maps in between
            ids = tuple(id_buf[: info.nr_map_ids])
            break
    return _from_struct(
        ProgInfo,
        info,
        name=_decode_name(bytes(info.name)),
        tag=bytes(info.tag),
        map_ids=ids,
        gpl_compatible=bool(info.gpl_compatible),
    )


# --------------------------------------------------------------------------------------
# bpffs.
# --------------------------------------------------------------------------------------


def is_bpffs(path: str | os.PathLike[str]) -> bool:
    """Return whether *path* exists and lies on a bpf filesystem."""
    buf = Statfs()
    err = libc.statfs(_path_arg(path), buf)
    if err == 0:
        return int(buf.f_type) & 0xFFFF_FFFF == BPF_FS_MAGIC
    if err in {errno.ENOENT, errno.ENOTDIR}:
        return False
    msg = f"cannot statfs {os.fspath(path)}: {os.strerror(err)}"
    raise BpfcovError(msg)


def ensure_bpffs(path: str | os.PathLike[str] = "/sys/fs/bpf") -> None:
    """Make sure *path* is on bpffs, mounting bpffs there if it is not."""
    where = os.fspath(path)
    hint = f"mount it with: mount -t bpf bpf {where}"
    try:
        Path(where).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"bpffs directory {where} is missing and cannot be created ({exc.strerror}); {hint}"
        raise BpfcovError(msg) from None
    if is_bpffs(where):
        return
    err = libc.mount(b"bpf", _path_arg(where), b"bpf")
    if err != 0:
        msg = (
            f"{where} is not a bpf filesystem and mounting one failed ({os.strerror(err)}); {hint}"
        )
        raise BpfcovError(msg)
