"""bpf(2) through ctypes, against the running kernel (needs root and BPF).

The structure layouts are checked against the C compiler's view of the installed
linux/bpf.h: a small C program, generated from the ctypes field lists and built into
tmp_path at test time, prints offsetof/sizeof for every field.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import shutil
import struct
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bpfcov_build import arch, bpf
from bpfcov_build.bpf import harness
from bpfcov_build.errors import BpfcovError, FormatError

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.kernel

# --------------------------------------------------------------------------------------
# BPF instruction encoding (struct bpf_insn, little-endian: dst_reg is the low nibble).
# --------------------------------------------------------------------------------------

BPF_MOV64_K = 0xB7  # BPF_ALU64 | BPF_MOV | BPF_K
BPF_EXIT = 0x95  # BPF_JMP | BPF_EXIT
BPF_LD_DW_IMM = 0x18  # BPF_LD | BPF_DW | BPF_IMM (two slots)
XDP_TX = 3
XDP_PASS = 2


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """Encode one 8-byte eBPF instruction."""
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def ld_map_fd(dst: int, map_fd: int) -> bytes:
    """Encode ``dst = map`` (BPF_LD_IMM64 with src_reg = BPF_PSEUDO_MAP_FD)."""
    return insn(BPF_LD_DW_IMM, dst, bpf.PSEUDO_MAP_FD, 0, map_fd) + insn(0)


RETURN_PASS = insn(BPF_MOV64_K, 0, 0, 0, XDP_PASS) + insn(BPF_EXIT)


# --------------------------------------------------------------------------------------
# Layout checks against the C compiler.
# --------------------------------------------------------------------------------------

# (ctypes class, C type, member prefix inside it, C expression for sizeof or None when
# the variant is an anonymous struct inside union bpf_attr)
LAYOUTS: list[tuple[type[ctypes.Structure], str, str, str | None]] = [
    (bpf.MapCreateAttr, "union bpf_attr", "", None),
    (bpf.MapElemAttr, "union bpf_attr", "", None),
    (bpf.ProgLoadAttr, "union bpf_attr", "", None),
    (bpf.ObjAttr, "union bpf_attr", "", None),
    (bpf.TestRunAttr, "union bpf_attr", "test.", "sizeof(((union bpf_attr *)0)->test)"),
    (bpf.GetIdAttr, "union bpf_attr", "", None),
    (
        bpf.InfoByFdAttr,
        "union bpf_attr",
        "info.",
        "sizeof(((union bpf_attr *)0)->info)",
    ),
    (bpf.BpfMapInfo, "struct bpf_map_info", "", "sizeof(struct bpf_map_info)"),
    (bpf.BpfProgInfo, "struct bpf_prog_info", "", "sizeof(struct bpf_prog_info)"),
    (bpf.Statfs, "struct statfs", "", "sizeof(struct statfs)"),
]


def _plain_fields(cls: type[ctypes.Structure]) -> list[str]:
    """Return the named, non-bitfield fields of *cls* (padding starts with '_')."""
    return [f[0] for f in cls._fields_ if len(f) == 2 and not f[0].startswith("_")]


def _compile_and_run(tmp: Path, name: str, source: str) -> list[str]:
    """Build *source* with gcc into *tmp* and return its output lines."""
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc is not None, "a C compiler is needed for the layout tests"
    src = tmp / f"{name}.c"
    exe = tmp / name
    src.write_text(source)
    subprocess.run([cc, "-Wall", "-Werror", "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return out.splitlines()


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, int]]:
    """Map 'Class.field' to (offsetof, sizeof) and 'Class' to (sizeof, 0), per gcc."""
    lines = [
        "#include <stddef.h>",
        "#include <stdio.h>",
        "#include <string.h>",
        "#include <sys/statfs.h>",
        "#include <linux/bpf.h>",
        "int main(void) {",
    ]
    for cls, ctype, prefix, size_expr in LAYOUTS:
        for field in _plain_fields(cls):
            member = f"{prefix}{field}"
            lines.append(
                f'  printf("{cls.__name__}.{field} %zu %zu\\n", '
                f"offsetof({ctype}, {member}), sizeof((({ctype} *)0)->{member}));",
            )
        if size_expr is not None:
            lines.append(f'  printf("{cls.__name__} %zu 0\\n", {size_expr});')
    # gpl_compatible is a bitfield: report which byte/bit it sets
    lines += [
        "  struct bpf_prog_info pi; memset(&pi, 0, sizeof(pi)); pi.gpl_compatible = 1;",
        "  for (size_t i = 0; i < sizeof(pi); i++)",
        "    if (((unsigned char *)&pi)[i])",
        '      printf("gpl_compatible %zu %u\\n", i, ((unsigned char *)&pi)[i]);',
        "  return 0;",
        "}",
    ]
    out = _compile_and_run(tmp_path_factory.mktemp("layout"), "layout", "\n".join(lines) + "\n")
    result: dict[str, tuple[int, int]] = {}
    for line in out:
        key, a, b = line.split()
        result[key] = (int(a), int(b))
    return result


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout[0].__name__)
def test_structure_layout_matches_kernel_header(
    layout: tuple[type[ctypes.Structure], str, str, str | None],
    c_layout: dict[str, tuple[int, int]],
) -> None:
    cls, ctype, _prefix, size_expr = layout
    ends = []
    for field in _plain_fields(cls):
        descr = getattr(cls, field)
        c_offset, c_size = c_layout[f"{cls.__name__}.{field}"]
        assert (descr.offset, descr.size) == (c_offset, c_size), field
        ends.append(c_offset + c_size)
    # C rounds the last member's end up to the struct's alignment
    align = ctypes.alignment(cls)
    assert ctypes.sizeof(cls) == -(-max(ends) // align) * align
    if size_expr is None:
        return
    header_size = c_layout[cls.__name__][0]
    if "bpf" in ctype:
        # a newer header may have grown a bpf struct at its end: the kernel takes a
        # shorter one (the length passed with it says how much), so ours is a prefix
        assert ctypes.sizeof(cls) <= header_size
    else:  # the kernel writes all of it
        assert ctypes.sizeof(cls) == header_size


def test_prog_info_gpl_compatible_bitfield(
    c_layout: dict[str, tuple[int, int]],
) -> None:
    raw = bytes(bpf.BpfProgInfo(gpl_compatible=1))
    nonzero = [(i, b) for i, b in enumerate(raw) if b]
    assert nonzero == [c_layout["gpl_compatible"]]


def _header_syscalls(tmp: Path, include: str, audit_arch: str) -> list[int]:
    """Return the numbers of the syscalls arch.Syscalls lists, then the audit arch."""
    source = (
        "#include <stdio.h>\n"
        f"#include <{include}>\n"
        "#include <linux/audit.h>\n"
        "int main(void) {\n"
        '  printf("%d %d %d %d %d %u\\n", __NR_bpf, __NR_pidfd_open, __NR_pidfd_getfd,'
        f" __NR_seccomp, __NR_ptrace, (unsigned)AUDIT_ARCH_{audit_arch});\n"
        "  return 0;\n"
        "}\n"
    )
    name = include.replace("/", "_").removesuffix(".h")
    return [int(v) for v in _compile_and_run(tmp, name, source)[0].split()]


def _table(sc: arch.Syscalls) -> list[int]:
    return [sc.bpf, sc.pidfd_open, sc.pidfd_getfd, sc.seccomp, sc.ptrace, sc.audit_arch]


def test_arch_syscalls_match_native_headers(tmp_path: Path) -> None:
    audit = {"x86_64": "X86_64", "aarch64": "AARCH64"}[platform.machine()]
    assert _table(arch.syscalls()) == _header_syscalls(tmp_path, "sys/syscall.h", audit)


def test_arch_aarch64_matches_generic_headers(tmp_path: Path) -> None:
    expected = _header_syscalls(tmp_path, "asm-generic/unistd.h", "AARCH64")
    assert _table(arch.syscalls("aarch64")) == expected
    assert arch.syscalls("arm64") == arch.syscalls("aarch64")
    assert arch.AUDIT_ARCH_AARCH64 == 0xC00000B7
    assert arch.AUDIT_ARCH_X86_64 == 0xC000003E


def test_arch_unknown_machine_is_one_line_error() -> None:
    with pytest.raises(BpfcovError, match=r"unsupported machine 'sparc64'") as info:
        arch.syscalls("sparc64")
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------------------
# Fixtures on the real kernel.
# --------------------------------------------------------------------------------------

KEY0 = (0).to_bytes(4, "little")


@pytest.fixture
def array_map() -> Iterator[int]:
    """Yield a one-entry ARRAY map (u32 key, 16-byte value) named like a .bss map."""
    with bpf.owned_fd(harness.map_create(bpf.MapType.ARRAY, 4, 16, 1, name="bpfcov_t.bss")) as fd:
        yield fd


@pytest.fixture
def pin_dir() -> Iterator[Path]:
    """Yield a fresh directory on /sys/fs/bpf; remove it and its pins afterwards."""
    path = Path(f"/sys/fs/bpf/bpfcov-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    path.mkdir()
    try:
        yield path
    finally:
        for entry in path.iterdir():
            entry.unlink()
        path.rmdir()


# --------------------------------------------------------------------------------------
# Maps.
# --------------------------------------------------------------------------------------


def test_map_update_then_lookup(array_map: int) -> None:
    assert bpf.map_lookup(array_map, KEY0, 16) == bytes(16)
    value = bytes(range(1, 17))
    harness.map_update(array_map, KEY0, value)
    assert bpf.map_lookup(array_map, KEY0, 16) == value
    assert bpf.read_map_value(array_map) == value


def test_map_lookup_out_of_range_is_enoent(array_map: int) -> None:
    with pytest.raises(bpf.BpfSyscallError) as info:
        bpf.map_lookup(array_map, (1).to_bytes(4, "little"), 16)
    assert info.value.errno == errno.ENOENT
    assert info.value.cmd is bpf.Cmd.MAP_LOOKUP_ELEM


def test_map_update_noexist_on_array_is_eexist(array_map: int) -> None:
    with pytest.raises(bpf.BpfSyscallError) as info:
        harness.map_update(array_map, KEY0, bytes(16), bpf.UpdateFlag.NOEXIST)
    assert info.value.errno == errno.EEXIST


def test_map_info_fields(array_map: int) -> None:
    info = bpf.map_info(array_map)
    assert info.type == bpf.MapType.ARRAY
    assert (info.key_size, info.value_size, info.max_entries) == (4, 16, 1)
    assert info.name == "bpfcov_t.bss"
    assert info.id > 0
    assert info.map_flags == 0
    assert info.btf_id == 0


def test_map_ids_and_map_fd_by_id(array_map: int) -> None:
    map_id = bpf.map_info(array_map).id
    assert map_id in set(bpf.map_ids())
    with bpf.owned_fd(bpf.map_fd_by_id(map_id)) as fd:
        assert bpf.map_info(fd).id == map_id


def test_map_fd_by_id_missing_is_enoent() -> None:
    with pytest.raises(bpf.BpfSyscallError) as info:
        bpf.map_fd_by_id(0x7FFF_FFFF)
    assert info.value.errno == errno.ENOENT
    assert "BPF_MAP_GET_FD_BY_ID" in str(info.value)


def test_read_map_value_rejects_non_array() -> None:
    hash_fd = harness.map_create(bpf.MapType.HASH, 4, 8, 4, name="bpfcov_t_hash")
    with bpf.owned_fd(hash_fd), pytest.raises(FormatError, match="bpfcov_t_hash"):
        bpf.read_map_value(hash_fd)


def test_map_freeze_then_update_is_eperm(array_map: int) -> None:
    harness.map_update(array_map, KEY0, b"A" * 16)
    harness.map_freeze(array_map)
    with pytest.raises(bpf.BpfSyscallError) as info:
        harness.map_update(array_map, KEY0, b"B" * 16)
    assert info.value.errno == errno.EPERM
    assert info.value.cmd is bpf.Cmd.MAP_UPDATE_ELEM
    assert isinstance(info.value, OSError)
    assert isinstance(info.value, BpfcovError)
    assert bpf.read_map_value(array_map) == b"A" * 16


def test_invalid_name_is_rejected_before_the_syscall() -> None:
    with pytest.raises(ValueError, match="invalid BPF object name"):
        harness.map_create(bpf.MapType.ARRAY, 4, 4, 1, name="a-name-that-is-far-too-long")


# --------------------------------------------------------------------------------------
# Pinning and bpffs.
# --------------------------------------------------------------------------------------


def test_pin_then_obj_get_reads_same_value(array_map: int, pin_dir: Path) -> None:
    value = b"pinned-value-16b"
    harness.map_update(array_map, KEY0, value)
    path = pin_dir / "counters"
    bpf.obj_pin(array_map, path)
    assert path.exists()
    with bpf.owned_fd(bpf.obj_get(path)) as fd:
        assert bpf.map_info(fd).id == bpf.map_info(array_map).id
        assert bpf.read_map_value(fd) == value


def test_obj_get_read_only_cannot_update(array_map: int, pin_dir: Path) -> None:
    path = str(pin_dir / "ro")  # plain str paths work too
    bpf.obj_pin(array_map, path)
    with bpf.owned_fd(bpf.obj_get(path, read_only=True)) as fd:
        assert bpf.read_map_value(fd) == bytes(16)
        with pytest.raises(bpf.BpfSyscallError) as info:
            harness.map_update(fd, KEY0, bytes(16))
        assert info.value.errno == errno.EPERM


def test_obj_pin_outside_bpffs_fails(array_map: int, tmp_path: Path) -> None:
    with pytest.raises(bpf.BpfSyscallError) as info:
        bpf.obj_pin(array_map, tmp_path / "nope")
    assert info.value.cmd is bpf.Cmd.OBJ_PIN
    assert str(tmp_path / "nope") in str(info.value)


def test_obj_get_missing_path_is_enoent(pin_dir: Path) -> None:
    missing = pin_dir / "missing"
    with pytest.raises(bpf.BpfSyscallError) as info:
        bpf.obj_get(missing)
    assert info.value.errno == errno.ENOENT
    assert info.value.cmd is bpf.Cmd.OBJ_GET
    assert str(info.value) == f"bpf(BPF_OBJ_GET) failed for {missing}: No such file or directory"


def test_is_bpffs() -> None:
    assert bpf.is_bpffs("/sys/fs/bpf")
    assert not bpf.is_bpffs("/tmp")
    assert not bpf.is_bpffs("/nonexistent/bpfcov")


def test_ensure_bpffs_is_noop_when_mounted() -> None:
    bpf.ensure_bpffs()
    bpf.ensure_bpffs("/sys/fs/bpf")
    assert bpf.is_bpffs("/sys/fs/bpf")


def test_ensure_bpffs_mounts_bpffs(tmp_path: Path) -> None:
    target = tmp_path / "bpffs"
    assert not bpf.is_bpffs(tmp_path)
    bpf.ensure_bpffs(target)
    try:
        assert bpf.is_bpffs(target)
    finally:
        subprocess.run(["umount", str(target)], check=True)
    assert not bpf.is_bpffs(target)


def test_ensure_bpffs_explains_how_to_mount_when_it_cannot() -> None:
    with pytest.raises(BpfcovError, match=r"mount -t bpf bpf /proc/bpfcov-nope") as info:
        bpf.ensure_bpffs("/proc/bpfcov-nope")
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------------------
# Programs.
# --------------------------------------------------------------------------------------


@pytest.fixture
def xdp_prog() -> Iterator[int]:
    """Yield ``r0 = XDP_PASS; exit`` loaded as an XDP program."""
    with bpf.owned_fd(harness.prog_load(bpf.ProgType.XDP, RETURN_PASS, name="bpfcov_xdp")) as fd:
        yield fd


def test_xdp_prog_test_run(xdp_prog: int) -> None:
    packet = bytes(range(64))
    result = harness.prog_test_run(xdp_prog, packet, repeat=10)
    assert result.retval == XDP_PASS
    assert result.data_out == packet
    assert result.duration_ns >= 0


def test_prog_test_run_without_output_buffer(xdp_prog: int) -> None:
    result = harness.prog_test_run(xdp_prog, bytes(64), repeat=1, data_out_size=0)
    assert result.retval == XDP_PASS
    assert result.data_out == b""


def test_prog_info_of_xdp_prog(xdp_prog: int) -> None:
    info = bpf.prog_info(xdp_prog)
    assert info.name == "bpfcov_xdp"
    assert info.type == bpf.ProgType.XDP
    assert len(info.tag) == bpf.TAG_SIZE
    assert info.tag != bytes(bpf.TAG_SIZE)
    assert info.map_ids == ()
    assert info.gpl_compatible
    assert info.xlated_prog_len == len(RETURN_PASS)
    assert info.id in set(bpf.prog_ids())
    with bpf.owned_fd(bpf.prog_fd_by_id(info.id)) as fd:
        assert bpf.prog_info(fd).tag == info.tag


def test_prog_info_lists_referenced_map(array_map: int) -> None:
    insns = ld_map_fd(1, array_map) + RETURN_PASS
    with bpf.owned_fd(harness.prog_load(bpf.ProgType.XDP, insns, name="bpfcov_mapref")) as fd:
        info = bpf.prog_info(fd)
        assert info.map_ids == (bpf.map_info(array_map).id,)
        assert harness.prog_test_run(fd, bytes(64)).retval == XDP_PASS


def test_socket_filter_prog_runs() -> None:
    insns = insn(BPF_MOV64_K, 0, 0, 0, 7) + insn(BPF_EXIT)
    with bpf.owned_fd(harness.prog_load(bpf.ProgType.SOCKET_FILTER, insns, name="bpfcov_sf")) as fd:
        assert harness.prog_test_run(fd, bytes(64)).retval == 7


def test_invalid_prog_reports_verifier_log() -> None:
    with pytest.raises(bpf.BpfSyscallError) as info:
        harness.prog_load(bpf.ProgType.XDP, insn(BPF_EXIT), name="bpfcov_bad")  # r0 never set
    err = info.value
    assert err.errno == errno.EACCES
    assert err.cmd is bpf.Cmd.PROG_LOAD
    assert "R0 !read_ok" in err.verifier_log
    message = str(err)
    assert message.startswith("bpf(BPF_PROG_LOAD) failed for program 'bpfcov_bad': ")
    assert "R0 !read_ok" in message
    assert "\n" not in message


def test_prog_load_rejects_ragged_instructions() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        harness.prog_load(bpf.ProgType.XDP, b"\x95\0\0\0")
