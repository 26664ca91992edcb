"""The bpf(2) ABI as data: constants, enums and the ``bpf_attr`` / info structures.

Written from ``linux/bpf.h`` and ``linux/magic.h``; ``tests/test_bpf.py`` checks every
structure's layout against the C compiler. Nothing here calls the kernel.
"""

from __future__ import annotations

import ctypes
import enum

__all__ = [
    "BPF_FS_MAGIC",
    "OBJ_NAME_LEN",
    "PSEUDO_MAP_FD",
    "PSEUDO_MAP_VALUE",
    "TAG_SIZE",
    "TEST_RUN_ON_CPU",
    "BpfMapInfo",
    "BpfProgInfo",
    "Cmd",
    "GetIdAttr",
    "InfoByFdAttr",
    "MapCreateAttr",
    "MapElemAttr",
    "MapFlag",
    "MapType",
    "ObjAttr",
    "ProgLoadAttr",
    "ProgType",
    "Statfs",
    "TestRunAttr",
    "UpdateFlag",
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
