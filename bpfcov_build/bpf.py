"""The bpf(2) syscall through ctypes: maps, programs, pins and object info.

No libbpf: every command goes through one chokepoint, :func:`_sys_bpf`, which turns
a failed call into :class:`BpfSyscallError` (an ``OSError`` and a ``BpfcovError``)
naming the command. Each command has one typed function on top of it. The
``bpf_attr`` variants, ``bpf_map_info`` and ``bpf_prog_info`` are ctypes structures
written from ``linux/bpf.h``; ``tests/test_bpf.py`` checks their layout against the
C compiler.

USAGE::

    from bpfcov_build import bpf

    fd = bpf.map_create(bpf.MapType.ARRAY, 4, 8, 1, name="counters")
    bpf.map_update(fd, (0).to_bytes(4, "little"), (7).to_bytes(8, "little"))
    assert bpf.read_map_value(fd) == (7).to_bytes(8, "little")
    bpf.obj_pin(fd, "/sys/fs/bpf/counters")
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import errno
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build.arch import syscalls
from bpfcov_build.errors import BpfcovError, FormatError

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
    "TestRunResult",
    "UpdateFlag",
    "ensure_bpffs",
    "is_bpffs",
    "map_create",
    "map_fd_by_id",
    "map_freeze",
    "map_ids",
    "map_info",
    "map_lookup",
    "map_update",
    "obj_get",
    "obj_pin",
    "owned_fd",
    "prog_fd_by_id",
    "prog_ids",
    "prog_info",
    "prog_load",
    "prog_test_run",
    "read_map_value",
]

# --------------------------------------------------------------------------------------
# Constants and enums. keep in sync with linux/bpf.h and linux/magic.h
# --------------------------------------------------------------------------------------

OBJ_NAME_LEN = 16
"""``BPF_OBJ_NAME_LEN``: map and program names hold at most 15 bytes plus NUL."""

TAG_SIZE = 8
"""``BPF_TAG_SIZE``: length of a program tag."""

PSEUDO_MAP_FD = 1
"""``BPF_PSEUDO_MAP_FD``: ``ld_imm64`` src_reg whose imm is a map fd."""

PSEUDO_MAP_VALUE = 2
"""``BPF_PSEUDO_MAP_VALUE``: ``ld_imm64`` src_reg for the address of a map value."""

TEST_RUN_ON_CPU = 1 << 0
"""``BPF_F_TEST_RUN_ON_CPU``: run ``BPF_PROG_TEST_RUN`` on the given cpu."""

BPF_FS_MAGIC = 0xCAFE4A11
"""``BPF_FS_MAGIC`` from linux/magic.h: ``statfs.f_type`` of bpffs."""

_DEFAULT_LOG_SIZE = 1 << 22
_PROG_LOAD_RETRIES = 5
_LOG_EXCERPT_LINES = 3
_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.")


class Cmd(enum.IntEnum):
    """``enum bpf_cmd``: the first argument of bpf(2)."""

    MAP_CREATE = 0
    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    MAP_GET_NEXT_KEY = 4
    PROG_LOAD = 5
    OBJ_PIN = 6
    OBJ_GET = 7
    PROG_ATTACH = 8
    PROG_DETACH = 9
    PROG_TEST_RUN = 10
    PROG_GET_NEXT_ID = 11
    MAP_GET_NEXT_ID = 12
    PROG_GET_FD_BY_ID = 13
    MAP_GET_FD_BY_ID = 14
    OBJ_GET_INFO_BY_FD = 15
    PROG_QUERY = 16
    RAW_TRACEPOINT_OPEN = 17
    BTF_LOAD = 18
    BTF_GET_FD_BY_ID = 19
    TASK_FD_QUERY = 20
    MAP_LOOKUP_AND_DELETE_ELEM = 21
    MAP_FREEZE = 22
    BTF_GET_NEXT_ID = 23
    MAP_LOOKUP_BATCH = 24
    MAP_LOOKUP_AND_DELETE_BATCH = 25
    MAP_UPDATE_BATCH = 26
    MAP_DELETE_BATCH = 27
    LINK_CREATE = 28
    LINK_UPDATE = 29
    LINK_GET_FD_BY_ID = 30
    LINK_GET_NEXT_ID = 31
    ENABLE_STATS = 32
    ITER_CREATE = 33
    LINK_DETACH = 34
    PROG_BIND_MAP = 35

    @property
    def c_name(self) -> str:
        """Return the kernel's name for this command, e.g. ``BPF_OBJ_GET``."""
        return f"BPF_{self.name}"


class MapType(enum.IntEnum):
    """``enum bpf_map_type``."""

    UNSPEC = 0
    HASH = 1
    ARRAY = 2
    PROG_ARRAY = 3
    PERF_EVENT_ARRAY = 4
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    STACK_TRACE = 7
    CGROUP_ARRAY = 8
    LRU_HASH = 9
    LRU_PERCPU_HASH = 10
    LPM_TRIE = 11
    ARRAY_OF_MAPS = 12
    HASH_OF_MAPS = 13
    DEVMAP = 14
    SOCKMAP = 15
    CPUMAP = 16
    XSKMAP = 17
    SOCKHASH = 18
    CGROUP_STORAGE = 19
    REUSEPORT_SOCKARRAY = 20
    PERCPU_CGROUP_STORAGE = 21
    QUEUE = 22
    STACK = 23
    SK_STORAGE = 24
    DEVMAP_HASH = 25
    STRUCT_OPS = 26
    RINGBUF = 27
    INODE_STORAGE = 28
    TASK_STORAGE = 29
    BLOOM_FILTER = 30
    USER_RINGBUF = 31


class ProgType(enum.IntEnum):
    """``enum bpf_prog_type``."""

    UNSPEC = 0
    SOCKET_FILTER = 1
    KPROBE = 2
    SCHED_CLS = 3
    SCHED_ACT = 4
    TRACEPOINT = 5
    XDP = 6
    PERF_EVENT = 7
    CGROUP_SKB = 8
    CGROUP_SOCK = 9
    LWT_IN = 10
    LWT_OUT = 11
    LWT_XMIT = 12
    SOCK_OPS = 13
    SK_SKB = 14
    CGROUP_DEVICE = 15
    SK_MSG = 16
    RAW_TRACEPOINT = 17
    CGROUP_SOCK_ADDR = 18
    LWT_SEG6LOCAL = 19
    LIRC_MODE2 = 20
    SK_REUSEPORT = 21
    FLOW_DISSECTOR = 22
    CGROUP_SYSCTL = 23
    RAW_TRACEPOINT_WRITABLE = 24
    CGROUP_SOCKOPT = 25
    TRACING = 26
    STRUCT_OPS = 27
    EXT = 28
    LSM = 29
    SK_LOOKUP = 30
    SYSCALL = 31


class UpdateFlag(enum.IntFlag):
    """Flags of ``BPF_MAP_UPDATE_ELEM`` (``BPF_ANY``, ``BPF_NOEXIST``, ...)."""

    ANY = 0
    NOEXIST = 1
    EXIST = 2
    LOCK = 4


class MapFlag(enum.IntFlag):
    """``BPF_F_*`` flags of ``BPF_MAP_CREATE``; also GET_FD_BY_ID ``open_flags``."""

    NO_PREALLOC = 1 << 0
    NO_COMMON_LRU = 1 << 1
    NUMA_NODE = 1 << 2
    RDONLY = 1 << 3
    WRONLY = 1 << 4
    STACK_BUILD_ID = 1 << 5
    ZERO_SEED = 1 << 6
    RDONLY_PROG = 1 << 7
    WRONLY_PROG = 1 << 8
    CLONE = 1 << 9
    MMAPABLE = 1 << 10
    PRESERVE_ELEMS = 1 << 11
    INNER_MAP = 1 << 12


# --------------------------------------------------------------------------------------
# Kernel structures. Field names are the C names, so the layout test can offsetof()
# them. Padding the compiler inserts is left to ctypes; explicit C padding is _pad*.
# --------------------------------------------------------------------------------------

_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64  # also __aligned_u64: 8-aligned on every arch in arch.SYSCALLS
_name = ctypes.c_char * OBJ_NAME_LEN


class MapCreateAttr(ctypes.Structure):
    """``union bpf_attr`` for ``BPF_MAP_CREATE``."""

    # keep in sync with linux/bpf.h (union bpf_attr, BPF_MAP_CREATE)
    _fields_ = (
        ("map_type", _u32),
        ("key_size", _u32),
        ("value_size", _u32),
        ("max_entries", _u32),
        ("map_flags", _u32),
        ("inner_map_fd", _u32),
        ("numa_node", _u32),
        ("map_name", _name),
        ("map_ifindex", _u32),
        ("btf_fd", _u32),
        ("btf_key_type_id", _u32),
        ("btf_value_type_id", _u32),
        ("btf_vmlinux_value_type_id", _u32),
        ("map_extra", _u64),
    )


class MapElemAttr(ctypes.Structure):
    """``union bpf_attr`` for ``BPF_MAP_*_ELEM`` and ``BPF_MAP_FREEZE``."""

    # keep in sync with linux/bpf.h (union bpf_attr, BPF_MAP_*_ELEM)
    _fields_ = (
        ("map_fd", _u32),
        ("key", _u64),
        ("value", _u64),  # union with next_key
        ("flags", _u64),
    )


class ProgLoadAttr(ctypes.Structure):
    """``union bpf_attr`` for ``BPF_PROG_LOAD``."""

    # keep in sync with linux/bpf.h (union bpf_attr, BPF_PROG_LOAD)
    _fields_ = (
        ("prog_type", _u32),
        ("insn_cnt", _u32),
        ("insns", _u64),
        ("license", _u64),
        ("log_level", _u32),
        ("log_size", _u32),
        ("log_buf", _u64),
        ("kern_version", _u32),
        ("prog_flags", _u32),
        ("prog_name", _name),
        ("prog_ifindex", _u32),
        ("expected_attach_type", _u32),
        ("prog_btf_fd", _u32),
        ("func_info_rec_size", _u32),
        ("func_info", _u64),
        ("func_info_cnt", _u32),
        ("line_info_rec_size", _u32),
        ("line_info", _u64),
        ("line_info_cnt", _u32),
        ("attach_btf_id", _u32),
        ("attach_prog_fd", _u32),  # union with attach_btf_obj_fd
        ("core_relo_cnt", _u32),
        ("fd_array", _u64),
        ("core_relos", _u64),
        ("core_relo_rec_size", _u32),
    )


class ObjAttr(ctypes.Structure):
    """``union bpf_attr`` for ``BPF_OBJ_PIN`` and ``BPF_OBJ_GET``."""

    # keep in sync with linux/bpf.h (union bpf_attr, BPF_OBJ_*)
    _fields_ = (
        ("pathname", _u64),
        ("bpf_fd", _u32),
        ("file_flags", _u32),
    )


class TestRunAttr(ctypes.Structure):
    """``union bpf_attr`` for ``BPF_PROG_TEST_RUN`` (the ``test`` member)."""

    __test__ = False  # not a pytest test class

    # keep in sync with linux/bpf.h (union bpf_attr, BPF_PROG_TEST_RUN)
    _fields_ = (
        ("prog_fd", _u32),
        ("retval", _u32),
        ("data_size_in", _u32),
        ("data_size_out", _u32),
        ("data_in", _u64),
        ("data_out", _u64),
        ("repeat", _u32),
        ("duration", _u32),
        ("ctx_size_in", _u32),
        ("ctx_size_out", _u32),
        ("ctx_in", _u64),
        ("ctx_out", _u64),
        ("flags", _u32),
        ("cpu", _u32),
        ("batch_size", _u32),
    )


class GetIdAttr(ctypes.Structure):
    """``union bpf_attr`` for ``BPF_*_GET_NEXT_ID`` and ``BPF_*_GET_FD_BY_ID``."""

    # keep in sync with linux/bpf.h (union bpf_attr, BPF_*_GET_*_ID)
    _fields_ = (
        ("start_id", _u32),  # union with prog_id, map_id, btf_id, link_id
        ("next_id", _u32),
        ("open_flags", _u32),
    )


class InfoByFdAttr(ctypes.Structure):
    """``union bpf_attr`` for ``BPF_OBJ_GET_INFO_BY_FD`` (the ``info`` member)."""

    # keep in sync with linux/bpf.h (union bpf_attr, BPF_OBJ_GET_INFO_BY_FD)
    _fields_ = (
        ("bpf_fd", _u32),
        ("info_len", _u32),
        ("info", _u64),
    )


class BpfMapInfo(ctypes.Structure):
    """``struct bpf_map_info``, filled by ``BPF_OBJ_GET_INFO_BY_FD`` on a map fd."""

    # keep in sync with linux/bpf.h (struct bpf_map_info)
    _fields_ = (
        ("type", _u32),
        ("id", _u32),
        ("key_size", _u32),
        ("value_size", _u32),
        ("max_entries", _u32),
        ("map_flags", _u32),
        ("name", _name),
        ("ifindex", _u32),
        ("btf_vmlinux_value_type_id", _u32),
        ("netns_dev", _u64),
        ("netns_ino", _u64),
        ("btf_id", _u32),
        ("btf_key_type_id", _u32),
        ("btf_value_type_id", _u32),
        ("_pad0", _u32),
        ("map_extra", _u64),
    )


class BpfProgInfo(ctypes.Structure):
    """``struct bpf_prog_info``, filled by ``BPF_OBJ_GET_INFO_BY_FD`` on a prog fd."""

    # keep in sync with linux/bpf.h (struct bpf_prog_info)
    _fields_ = (
        ("type", _u32),
        ("id", _u32),
        ("tag", ctypes.c_uint8 * TAG_SIZE),
        ("jited_prog_len", _u32),
        ("xlated_prog_len", _u32),
        ("jited_prog_insns", _u64),
        ("xlated_prog_insns", _u64),
        ("load_time", _u64),
        ("created_by_uid", _u32),
        ("nr_map_ids", _u32),
        ("map_ids", _u64),
        ("name", _name),
        ("ifindex", _u32),
        ("gpl_compatible", _u32, 1),
        ("_pad0", _u32, 31),
        ("netns_dev", _u64),
        ("netns_ino", _u64),
        ("nr_jited_ksyms", _u32),
        ("nr_jited_func_lens", _u32),
        ("jited_ksyms", _u64),
        ("jited_func_lens", _u64),
        ("btf_id", _u32),
        ("func_info_rec_size", _u32),
        ("func_info", _u64),
        ("nr_func_info", _u32),
        ("nr_line_info", _u32),
        ("line_info", _u64),
        ("jited_line_info", _u64),
        ("nr_jited_line_info", _u32),
        ("line_info_rec_size", _u32),
        ("jited_line_info_rec_size", _u32),
        ("nr_prog_tags", _u32),
        ("prog_tags", _u64),
        ("run_time_ns", _u64),
        ("run_cnt", _u64),
        ("recursion_misses", _u64),
        ("verified_insns", _u32),
        ("attach_btf_obj_id", _u32),
        ("attach_btf_id", _u32),
        ("_pad1", _u32),
    )


class Statfs(ctypes.Structure):
    """glibc ``struct statfs`` on 64-bit Linux (x86_64, aarch64)."""

    # keep in sync with bits/statfs.h (64-bit, no __USE_FILE_OFFSET64 split)
    _fields_ = (
        ("f_type", ctypes.c_long),
        ("f_bsize", ctypes.c_long),
        ("f_blocks", ctypes.c_ulong),
        ("f_bfree", ctypes.c_ulong),
        ("f_bavail", ctypes.c_ulong),
        ("f_files", ctypes.c_ulong),
        ("f_ffree", ctypes.c_ulong),
        ("f_fsid", ctypes.c_int * 2),
        ("f_namelen", ctypes.c_long),
        ("f_frsize", ctypes.c_long),
        ("f_flags", ctypes.c_long),
        ("f_spare", ctypes.c_long * 4),
    )


# --------------------------------------------------------------------------------------
# libc: loaded once, every foreign signature declared here.
# --------------------------------------------------------------------------------------

# The C library this Python runs on, without searching for it (find_library forks).
_libc = ctypes.CDLL(None, use_errno=True)

# long syscall(long number, ...); used as syscall(__NR_bpf, cmd, attr, size)
_libc.syscall.restype = ctypes.c_long
_libc.syscall.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_ulong)

# int statfs(const char *path, struct statfs *buf)
_libc.statfs.restype = ctypes.c_int
_libc.statfs.argtypes = (ctypes.c_char_p, ctypes.POINTER(Statfs))

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


# --------------------------------------------------------------------------------------
# The chokepoint.
# --------------------------------------------------------------------------------------


class BpfSyscallError(OSError, BpfcovError):
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
        super().__init__(errnum, os.strerror(errnum))
        self.cmd = cmd
        self.subject = subject
        self.verifier_log = verifier_log

    def __str__(self) -> str:
        """Return ``bpf(BPF_X) failed[ for subject]: strerror[; verifier: ...]``."""
        where = f" for {self.subject}" if self.subject else ""
        text = f"bpf({self.cmd.c_name}) failed{where}: {self.strerror}"
        excerpt = _log_excerpt(self.verifier_log)
        return f"{text}; verifier: {excerpt}" if excerpt else text


def _log_excerpt(log: str) -> str:
    """Return the last few meaningful lines of a verifier log, joined on one line."""
    lines = [line.strip() for line in log.splitlines()]
    lines = [line for line in lines if line and not line.startswith("processed ")]
    return " | ".join(lines[-_LOG_EXCERPT_LINES:])


def _sys_bpf(cmd: Cmd, attr: ctypes.Structure, *, subject: str = "") -> int:
    """Run bpf(cmd, &attr, sizeof(attr)); raise BpfSyscallError when it fails."""
    ret = _libc.syscall(syscalls().bpf, int(cmd), ctypes.byref(attr), ctypes.sizeof(attr))
    if ret < 0:
        raise BpfSyscallError(ctypes.get_errno(), cmd, subject=subject)
    return int(ret)


# --------------------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def owned_fd(fd: int) -> Iterator[int]:
    """Yield *fd* and close it with ``os.close`` when the block ends."""
    try:
        yield fd
    finally:
        os.close(fd)


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


def map_lookup(fd: int, key: bytes, value_size: int) -> bytes:
    """Return the value stored under *key* (BPF_MAP_LOOKUP_ELEM)."""
    key_buf = _bytes_buf(key)
    value_buf = ctypes.create_string_buffer(value_size)
    attr = MapElemAttr(map_fd=fd, key=_addr(key_buf), value=_addr(value_buf))
    _sys_bpf(Cmd.MAP_LOOKUP_ELEM, attr)
    return value_buf.raw


def map_update(fd: int, key: bytes, value: bytes, flags: int = UpdateFlag.ANY) -> None:
    """Store *value* under *key* (BPF_MAP_UPDATE_ELEM)."""
    key_buf = _bytes_buf(key)
    value_buf = _bytes_buf(value)
    attr = MapElemAttr(map_fd=fd, key=_addr(key_buf), value=_addr(value_buf), flags=flags)
    _sys_bpf(Cmd.MAP_UPDATE_ELEM, attr)


def map_freeze(fd: int) -> None:
    """Make a map read-only for user space (BPF_MAP_FREEZE)."""
    _sys_bpf(Cmd.MAP_FREEZE, MapElemAttr(map_fd=fd))


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
# Programs.
# --------------------------------------------------------------------------------------


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


def _get_info(fd: int, info: ctypes.Structure) -> None:
    """Fill *info* for the object behind *fd* (BPF_OBJ_GET_INFO_BY_FD)."""
    attr = InfoByFdAttr(bpf_fd=fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info))
    _sys_bpf(Cmd.OBJ_GET_INFO_BY_FD, attr, subject=f"fd {fd}")


def _decode_name(raw: bytes) -> str:
    """Decode a NUL-terminated kernel object name."""
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def map_info(fd: int) -> MapInfo:
    """Return what the kernel knows about the map behind *fd*."""
    info = BpfMapInfo()
    _get_info(fd, info)
    return MapInfo(
        type=int(info.type),
        id=int(info.id),
        key_size=int(info.key_size),
        value_size=int(info.value_size),
        max_entries=int(info.max_entries),
        map_flags=int(info.map_flags),
        name=_decode_name(bytes(info.name)),
        ifindex=int(info.ifindex),
        btf_vmlinux_value_type_id=int(info.btf_vmlinux_value_type_id),
        netns_dev=int(info.netns_dev),
        netns_ino=int(info.netns_ino),
        btf_id=int(info.btf_id),
        btf_key_type_id=int(info.btf_key_type_id),
        btf_value_type_id=int(info.btf_value_type_id),
        map_extra=int(info.map_extra),
    )


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
    return ProgInfo(
        type=int(info.type),
        id=int(info.id),
        name=_decode_name(bytes(info.name)),
        tag=bytes(info.tag),
        map_ids=ids,
        btf_id=int(info.btf_id),
        jited_prog_len=int(info.jited_prog_len),
        xlated_prog_len=int(info.xlated_prog_len),
        load_time=int(info.load_time),
        created_by_uid=int(info.created_by_uid),
        ifindex=int(info.ifindex),
        gpl_compatible=bool(info.gpl_compatible),
        netns_dev=int(info.netns_dev),
        netns_ino=int(info.netns_ino),
        run_time_ns=int(info.run_time_ns),
        run_cnt=int(info.run_cnt),
        recursion_misses=int(info.recursion_misses),
        verified_insns=int(info.verified_insns),
        attach_btf_obj_id=int(info.attach_btf_obj_id),
        attach_btf_id=int(info.attach_btf_id),
    )


# --------------------------------------------------------------------------------------
# bpffs.
# --------------------------------------------------------------------------------------


def is_bpffs(path: str | os.PathLike[str]) -> bool:
    """Return whether *path* exists and lies on a bpf filesystem."""
    buf = Statfs()
    if _libc.statfs(_path_arg(path), ctypes.byref(buf)) == 0:
        return int(buf.f_type) & 0xFFFF_FFFF == BPF_FS_MAGIC
    err = ctypes.get_errno()
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
    if _libc.mount(b"bpf", _path_arg(where), b"bpf", 0, None) != 0:
        err = ctypes.get_errno()
        msg = (
            f"{where} is not a bpf filesystem and mounting one failed ({os.strerror(err)}); {hint}"
        )
        raise BpfcovError(msg)
