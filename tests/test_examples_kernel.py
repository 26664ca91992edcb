"""The examples, built by bpfcov-cc, loaded into this kernel and run: exact counters.

Each test computes the count every counter must hold from the inputs it chooses
(a model of the example's logic, written here), runs the instrumented program
with BPF_PROG_TEST_RUN, reads ``.data.profc`` back and compares, counter by counter.
"""

from __future__ import annotations

import os
import struct
import subprocess
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from elftools.elf.elffile import ELFFile
from support import (
    PACKETS,
    PORT_COUNTERS,
    TP_SOURCE,
    XDP_COUNTERS,
    XDP_SOURCE,
    build,
    build_plain,
    counters_by_function,
    expected_counts,
    function_names,
    instrprof_define,
    loaded,
    model_xdp,
    raw_version,
)

from bpfcov_build import toolchain
from bpfcov_build.bpf import harness
from bpfcov_build.layout import Section, parse_object_info

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.kernel


def test_xdp_counts_are_exact(xdp_obj: Path) -> None:
    expected_xdp: Counter[str] = Counter()
    expected_port: Counter[str] = Counter()
    with loaded(xdp_obj) as obj:
        prog = obj.progs["xdp_parser"]
        for packet, times in PACKETS:
            verdict = model_xdp(packet, Counter(), Counter())
            result = harness.prog_test_run(prog, packet, repeat=times)
            assert result.retval == verdict, f"verdict for {packet.hex()}"
            for _ in range(times):
                model_xdp(packet, expected_xdp, expected_port)
        counts = counters_by_function(obj)

    assert counts["xdp_parser"] == [expected_xdp[c] for c in XDP_COUNTERS]
    assert counts["xdp_parser.bpf.c:port_verdict"] == [expected_port[c] for c in PORT_COUNTERS]
    # The inputs reach every branch the kernel lets a test packet reach (an XDP test
    # packet is never shorter than an Ethernet header).
    assert expected_xdp["entry"] == sum(times for _, times in PACKETS)
    assert all(expected_xdp[c] for c in XDP_COUNTERS if c not in ("if_short_eth", "ntohs_const"))


def test_sys_enter_counts_are_exact(tp_obj: Path) -> None:
    watched = [39, 0, 1]  # ids written to the program; only equality matters here
    calls = [39] * 4 + [0] * 2 + [1] * 3 + [231] * 5  # what the test "makes"
    with loaded(tp_obj) as obj:
        # target_pid, watched[3], counts[4]: zero-initialised, so libbpf's .bss map
        data_map = next(name for name in obj.maps if name.endswith(".bss"))
        layout = struct.Struct("<I4x3q4Q")
        assert len(obj.map_value(data_map)) == layout.size
        obj.write_map(data_map, layout.pack(os.getpid(), *watched, 0, 0, 0, 0))
        prog = obj.progs["sys_enter"]
        for call in calls:
            harness.prog_test_run(
                prog, repeat=0, ctx_in=struct.pack("<QQ", 0, call), data_out_size=0
            )
        harness.map_update(obj.maps[data_map], bytes(4), layout.pack(0, *watched, 0, 0, 0, 0))
        for call in calls[:3]:  # another pid: filtered out
            harness.prog_test_run(
                prog, repeat=0, ctx_in=struct.pack("<QQ", 0, call), data_out_size=0
            )
        counts = counters_by_function(obj)["sys_enter"]

    hits = Counter(calls)
    # entry, if (pid != target_pid), for body, if (watched[i] == id)
    loop_bodies = sum(watched.index(c) + 1 if c in watched else len(watched) for c in calls)
    matched = sum(hits[w] for w in watched)
    assert counts == [len(calls) + 3, 3, loop_bodies, matched]


@pytest.mark.parametrize("source", [XDP_SOURCE, TP_SOURCE], ids=["xdp", "tracepoint"])
def test_plain_clang_control_loads(source: Path, major: int, tmp_path: Path) -> None:
    plain = build_plain(source, tmp_path / "plain.o", major)
    with loaded(plain) as obj:
        assert obj.progs


def test_loadable_object_has_no_llvm_sections(xdp_obj: Path) -> None:
    with xdp_obj.open("rb") as f:
        elf = ELFFile(f)
        names = [s.name for s in elf.iter_sections()]
        assert not [n for n in names if "__llvm" in n]
        for s in elf.iter_sections():
            if s.header.sh_type in ("SHT_REL", "SHT_RELA"):
                target = elf.get_section(s.header.sh_info).name
                assert "__llvm" not in target
                symtab = elf.get_section(s.header.sh_link)
                for rel in s.iter_relocations():
                    sym = symtab.get_symbol(rel["r_info_sym"])
                    assert not sym.name.startswith(("__llvm", "__covrec")), sym.name
        for section in Section:
            if section is not Section.BITMAPS:
                assert names.count(section.value) == 1, section
        assert elf.get_section_by_name(".BTF") is not None


def test_object_info_records_version_and_mapping_object(xdp_obj: Path, major: int) -> None:
    with xdp_obj.open("rb") as f:
        data = ELFFile(f).get_section_by_name(Section.COVMAP.value).data()
    info = parse_object_info(data)
    assert info.llvm_major == major
    # Both versions as that LLVM's own InstrProfData.inc defines them.
    assert info.raw_version == raw_version(major)
    assert info.covmap_version == instrprof_define(major, "INSTR_PROF_COVMAP_VERSION")
    assert info.object_path == str(xdp_obj.with_suffix(".obj"))


def test_llvm_cov_reads_the_mapping_object(xdp_obj: Path, major: int) -> None:
    assert set(function_names(major, xdp_obj.with_suffix(".obj"))) == {
        "xdp_parser",
        "xdp_parser.bpf.c:port_verdict",
    }


def test_atomic_counters_are_exact(major: int, tmp_path: Path) -> None:
    """bpfcov-cc's default: every increment a BPF atomic add the verifier accepts."""
    obj = build(XDP_SOURCE, tmp_path / "atomic.bpf.o", major)
    disasm = subprocess.run(
        [toolchain.Toolchain(major).tool("llvm-objdump"), "-d", obj],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "lock *(u64 *)" in disasm
    with loaded(obj) as loaded_obj:
        for packet, times in PACKETS:
            harness.prog_test_run(loaded_obj.progs["xdp_parser"], packet, repeat=times)
        xlated = subprocess.run(
            ["bpftool", "prog", "dump", "xlated", "pinned", loaded_obj.pin_dir / "xdp_parser"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        counts = counters_by_function(loaded_obj)
    assert "lock *(u64 *)" in xlated
    xdp, port = expected_counts()
    assert counts["xdp_parser"] == [xdp[c] for c in XDP_COUNTERS]
    assert counts["xdp_parser.bpf.c:port_verdict"] == [port[c] for c in PORT_COUNTERS]
