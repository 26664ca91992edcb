"""The pass and the Python layout tables agree: field by field, section by section."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import pytest
from elftools.elf.elffile import ELFFile

from bpfcov_build.collect import MapGroup, read_group
from bpfcov_build.errors import FormatError
from bpfcov_build.layout import (
    COUNTERS_TRAILER,
    COUNTERS_TRAILER_MAGIC,
    COVMAP_VAR,
    NAMES_VAR,
    OBJECT_INFO,
    Section,
    mapping_object_info,
    parse_counters_parts,
    parse_object_info,
)
from bpfcov_build.profraw import LAYOUTS, SUPPORTED_VERSIONS

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.llvm


def symbols(obj: Path) -> dict[str, tuple[str, int, int]]:
    """name → (section, offset, size) of every symbol of ``obj``."""
    with obj.open("rb") as f:
        elf = ELFFile(f)
        out = {}
        for sym in elf.get_section_by_name(".symtab").iter_symbols():
            index = sym["st_shndx"]
            if isinstance(index, int):
                out[sym.name] = (elf.get_section(index).name, sym["st_value"], sym["st_size"])
        return out


def test_data_record_fields_sit_where_the_raw_layout_has_them(xdp_obj: Path) -> None:
    syms = symbols(xdp_obj)
    with xdp_obj.open("rb") as f:
        elf = ELFFile(f)
        info = parse_object_info(elf.get_section_by_name(Section.COVMAP.value).data())
        data_size = elf.get_section_by_name(Section.DATA.value).data_size
    layout = LAYOUTS[info.raw_version]
    offset = 0
    checked = 0
    for row in layout.record:
        if not row.is_padding:
            section, value, size = syms[f"__profd_xdp_parser_{row.name}"]
            assert (section, value, size) == (Section.DATA.value, offset, row.size), row.name
            checked += 1
        offset += row.size
    assert offset == layout.record_size
    assert checked == len([r for r in layout.record if not r.is_padding])
    # The second function's record follows the first, whole, and the section holds
    # the two records and nothing else, padding included (the runtime reads it as an
    # array of records).
    section, value, _ = syms["__profd_xdp_parser_bpf_c_port_verdict_NameRef"]
    assert (section, value) == (Section.DATA.value, layout.record_size)
    assert data_size == 2 * layout.record_size


def test_object_info_sits_where_the_table_says(xdp_obj: Path) -> None:
    syms = symbols(xdp_obj)
    offset = 0
    for name, row in OBJECT_INFO:
        assert syms[name] == (Section.COVMAP.value, offset, row.size), name
        offset += row.size
    assert syms[COVMAP_VAR][:2] == (Section.COVMAP.value, offset)
    assert syms[NAMES_VAR][:2] == (Section.NAMES.value, 0)
    assert syms["__profc_xdp_parser"][:2] == (Section.COUNTERS.value, 0)


def test_the_counters_end_with_the_objects_identity(xdp_obj: Path) -> None:
    """The trailer after the counters names the object, as its mapping object does."""
    syms = symbols(xdp_obj)
    with xdp_obj.open("rb") as f:
        elf = ELFFile(f)
        counters = elf.get_section_by_name(Section.COUNTERS.value).data()
        info = parse_object_info(elf.get_section_by_name(Section.COVMAP.value).data())
    section, offset, size = syms["__bpfcov_trailer"]
    assert section == Section.COUNTERS.value
    assert offset + size == len(counters)
    (part,) = parse_counters_parts(counters)
    assert part.start == 0
    assert part.counters_size == offset
    assert part.num_records == 2
    assert (part.raw_version, part.llvm_major) == (info.raw_version, info.llvm_major)
    assert part.object_path == info.object_path == str(xdp_obj.with_suffix(".obj"))
    mapping = mapping_object_info(xdp_obj.with_suffix(".obj"))
    assert part.object_id == info.object_id == mapping.object_id != 0


def trailer(raw_version: int, llvm_major: int, counters: int) -> bytes:
    """A counters map's trailer, packed from the table (no path)."""
    fields = (1234, raw_version, llvm_major, 1, 8 * counters, 0)
    head = b"".join(
        struct.pack(f"<{row.code}", value)
        for row, value in zip(COUNTERS_TRAILER, fields, strict=True)
    )
    path = bytes(8)
    size = len(head) + len(path) + 16
    return head + path + struct.pack("<QQ", size, COUNTERS_TRAILER_MAGIC)


def test_a_raw_version_bpfcov_does_not_know_is_one_line() -> None:
    """An LLVM that writes a raw version without a layout row is refused, named."""
    unknown = max(SUPPORTED_VERSIONS) + 1
    head = b"".join(
        struct.pack(f"<{row.code}", value)
        for (_, row), value in zip(OBJECT_INFO, (unknown, 40, 0, 1234), strict=True)
    )
    group = MapGroup(
        "1-btf7",
        {
            Section.COUNTERS: bytes(8) + trailer(unknown, 40, 1),
            Section.DATA: bytes(64),
            Section.NAMES: b"",
            Section.COVMAP: head + b"\0",
        },
    )
    with pytest.raises(FormatError) as err:
        read_group(group)
    known = ", ".join(map(str, SUPPORTED_VERSIONS))
    assert str(err.value) == (
        f"1-btf7: built by LLVM 40, which writes raw profile version {unknown}; "
        f"bpfcov knows versions {known} (see the README to add one)"
    )
    assert "\n" not in str(err.value)
