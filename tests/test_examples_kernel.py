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
    TP_SOURCE,
    XDP_SOURCE,
    Loaded,
    build,
    build_plain,
    function_names,
    instrprof_define,
    loaded,
    raw_version,
)

from bpfcov_build import bpf, toolchain
from bpfcov_build.layout import Section, parse_object_info

if TYPE_CHECKING:
    from pathlib import Path

XDP_DROP, XDP_PASS = 1, 2
ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q = 0x0800, 0x86DD, 0x8100
IPPROTO_TCP, IPPROTO_UDP = 6, 17

# The counters clang gives each function, in its order: the function entry first,
# then, in source order, one per `if` (times its "then" ran), loop (times its body
# ran) and `?:` (times its true arm was chosen), and two per `&&` (times its right
# side was evaluated, times that was true). libbpf's bpf_htons/bpf_ntohs are macros
# around `__builtin_constant_p(x) ? <constant swap> : __builtin_bswap16(x)`, so each
# use is a `?:` of its own.
XDP_COUNTERS = (
    "entry",
    "if_short_eth",  # if ((void *)(eth + 1) > data_end)
    "for_body",  # for (i = 0; i < MAX_VLAN_DEPTH; i++)
    "if_not_vlan",  #   if (proto != bpf_htons(ETH_P_8021Q)) break
    "htons_vlan_const",  #                bpf_htons(constant)
    "if_short_vlan",  #   if ((void *)(vlan + 1) > data_end)
    "if_not_ipv4",  # if (proto != bpf_htons(ETH_P_IP))
    "htons_ip_const",  #             bpf_htons(constant)
    "if_short_ip",  # if ((void *)(ip + 1) > data_end)
    "if_udp_and_ihl5",  # if (ip->protocol == IPPROTO_UDP && ip->ihl == 5)
    "and_rhs",  #   ... && ip->ihl == 5 evaluated
    "and_rhs_true",  #   ... && ip->ihl == 5 true
    "if_short_udp",  #   if ((void *)(udp + 1) > data_end)
    "ntohs_const",  #   bpf_ntohs(udp->dest): not a constant, never taken
    "ttl_true",  # return ip->ttl > 1 ? XDP_PASS : XDP_DROP
)
PORT_COUNTERS = ("entry", "if_dns", "if_privileged")


def eth(proto: int) -> bytes:
    return bytes(6) + bytes(range(1, 7)) + struct.pack("!H", proto)


def vlan(proto: int) -> bytes:
    return struct.pack("!HH", 7, proto)


def ipv4(proto: int, ttl: int = 64, ihl: int = 5) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x40 | ihl,
        0,
        40,
        1,
        0,
        ttl,
        proto,
        0,
        bytes([10, 0, 0, 1]),
        bytes([10, 0, 0, 2]),
    )
    return header + bytes(4 * (ihl - 5))


def udp(dport: int) -> bytes:
    return struct.pack("!HHHH", 4000, dport, 8, 0)


# (packet, how many times it is run)
PACKETS: list[tuple[bytes, int]] = [
    (eth(ETH_P_IPV6) + bytes(40), 3),  # not IPv4: pass
    (eth(ETH_P_IP) + ipv4(IPPROTO_UDP) + udp(53), 5),  # DNS: pass
    (eth(ETH_P_IP) + ipv4(IPPROTO_UDP) + udp(22), 7),  # privileged: drop
    (eth(ETH_P_IP) + ipv4(IPPROTO_UDP) + udp(8080), 2),  # high port: pass
    (eth(ETH_P_IP) + ipv4(IPPROTO_TCP, ttl=64), 4),  # && short-circuits
    (eth(ETH_P_IP) + ipv4(IPPROTO_UDP, ttl=1, ihl=6) + udp(53), 6),  # && false: ttl
    (eth(ETH_P_8021Q) + vlan(ETH_P_IP) + ipv4(IPPROTO_UDP) + udp(53), 9),  # one tag
    (eth(ETH_P_8021Q) + vlan(ETH_P_8021Q) + vlan(ETH_P_IPV6) + bytes(40), 2),  # two tags
    (eth(ETH_P_8021Q) + bytes(2), 11),  # truncated tag: drop
    (eth(ETH_P_IP) + bytes(10), 13),  # truncated IPv4: drop
    (eth(ETH_P_IP) + ipv4(IPPROTO_UDP) + bytes(4), 8),  # truncated UDP: drop
]


def model_xdp(packet: bytes, xdp: Counter[str], port: Counter[str]) -> int:
    """What xdp_parser does with ``packet``: its verdict; counts what ran."""
    xdp["entry"] += 1
    if len(packet) < 14:
        xdp["if_short_eth"] += 1
        return XDP_DROP
    (proto,) = struct.unpack_from("!H", packet, 12)
    off = 14
    for _ in range(2):
        xdp["for_body"] += 1
        xdp["htons_vlan_const"] += 1
        if proto != ETH_P_8021Q:
            xdp["if_not_vlan"] += 1
            break
        if off + 4 > len(packet):
            xdp["if_short_vlan"] += 1
            return XDP_DROP
        (proto,) = struct.unpack_from("!H", packet, off + 2)
        off += 4
    xdp["htons_ip_const"] += 1
    if proto != ETH_P_IP:
        xdp["if_not_ipv4"] += 1
        return XDP_PASS
    if off + 20 > len(packet):
        xdp["if_short_ip"] += 1
        return XDP_DROP
    ihl, ttl, l4 = packet[off] & 0xF, packet[off + 8], packet[off + 9]
    is_udp = l4 == IPPROTO_UDP
    if is_udp:
        xdp["and_rhs"] += 1
    if is_udp and ihl == 5:
        xdp["and_rhs_true"] += 1
        xdp["if_udp_and_ihl5"] += 1
        if off + 28 > len(packet):
            xdp["if_short_udp"] += 1
            return XDP_DROP
        (dport,) = struct.unpack_from("!H", packet, off + 22)
        port["entry"] += 1
        if dport == 53:
            port["if_dns"] += 1
            return XDP_PASS
        if dport < 1024:
            port["if_privileged"] += 1
            return XDP_DROP
        return XDP_PASS
    if ttl > 1:
        xdp["ttl_true"] += 1
        return XDP_PASS
    return XDP_DROP


def expected_counts() -> tuple[Counter[str], Counter[str]]:
    """What every counter of xdp_parser and port_verdict holds after PACKETS."""
    xdp: Counter[str] = Counter()
    port: Counter[str] = Counter()
    for packet, times in PACKETS:
        for _ in range(times):
            model_xdp(packet, xdp, port)
    return xdp, port


def counters_by_function(obj: Loaded) -> dict[str, list[int]]:
    """.data.profc split per function, using the records in .rodata.profd."""
    from bpfcov_build.profraw import LAYOUTS

    info = parse_object_info(obj.map_value(Section.COVMAP.value))
    layout = LAYOUTS[info.raw_version]
    data = obj.map_value(Section.DATA.value)
    counters = obj.map_value(Section.COUNTERS.value)
    out: dict[int, list[int]] = {}
    for i in range(len(data) // layout.record_size):
        rec = layout.unpack_record(data, i * layout.record_size)
        off, n = rec["CounterPtr"][0], rec["NumCounters"][0]
        out[rec["NameRef"][0]] = list(struct.unpack_from(f"<{n}Q", counters, off))
    return {name_of(ref): values for ref, values in out.items()}


def name_of(name_ref: int) -> str:
    import hashlib

    for name in ("xdp_parser", "xdp_parser.bpf.c:port_verdict", "sys_enter"):
        if int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "little") == name_ref:
            return name
    return hex(name_ref)


def test_xdp_counts_are_exact(xdp_obj: Path) -> None:
    expected_xdp: Counter[str] = Counter()
    expected_port: Counter[str] = Counter()
    with loaded(xdp_obj) as obj:
        prog = obj.progs["xdp_parser"]
        for packet, times in PACKETS:
            verdict = model_xdp(packet, Counter(), Counter())
            result = bpf.prog_test_run(prog, packet, repeat=times)
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
            bpf.prog_test_run(prog, repeat=0, ctx_in=struct.pack("<QQ", 0, call), data_out_size=0)
        bpf.map_update(obj.maps[data_map], bytes(4), layout.pack(0, *watched, 0, 0, 0, 0))
        for call in calls[:3]:  # another pid: filtered out
            bpf.prog_test_run(prog, repeat=0, ctx_in=struct.pack("<QQ", 0, call), data_out_size=0)
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
            bpf.prog_test_run(loaded_obj.progs["xdp_parser"], packet, repeat=times)
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
