"""Shared helpers of the test suite: building with bpfcov-cc, loading with bpftool."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import bpf, toolchain
from bpfcov_build.bpf import harness

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BPFFS = Path("/sys/fs/bpf")
XDP_SOURCE = EXAMPLES / "xdp" / "xdp_parser.bpf.c"
TP_SOURCE = EXAMPLES / "tracepoint" / "sys_enter.bpf.c"
ACL_SOURCE = EXAMPLES / "mcdc" / "acl.bpf.c"


def multiarch_include() -> str:
    """-I for <asm/types.h>, which linux/bpf.h needs on Debian."""
    arch = subprocess.run(
        ["gcc", "-print-multiarch"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"-I/usr/include/{arch}"


def llvm_majors() -> list[int]:
    """Every LLVM major with both a clang and a bpfcov plugin here."""
    return [n for n in toolchain.plugin_majors() if n in toolchain.installed_majors()]


def llvm_include_dir(major: int) -> Path:
    """LLVM ``major``'s header directory, as its own ``llvm-config --includedir`` says."""
    config = toolchain.Toolchain(major).tool("llvm-config")
    return Path(
        subprocess.run(
            [config, "--includedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )


@functools.cache
def instrprof_define(major: int, name: str) -> int:
    """``#define name N`` of LLVM ``major``'s own InstrProfData.inc: the ground truth
    for its raw profile version (``INSTR_PROF_RAW_VERSION``), covmap version, ..."""
    inc = llvm_include_dir(major) / "llvm" / "ProfileData" / "InstrProfData.inc"
    found = re.search(rf"^#define {name} (\d+)$", inc.read_text(), re.MULTILINE)
    assert found, f"{inc} defines no {name}"
    return int(found.group(1))


def raw_version(major: int) -> int:
    """The raw profile version LLVM ``major`` writes and reads, from its headers."""
    return instrprof_define(major, "INSTR_PROF_RAW_VERSION")


def clang_probe(major: int, *args: str) -> subprocess.CompletedProcess[str]:
    """clang-N on a small instrumented BPF file with a decision, with ``args``."""
    with tempfile.TemporaryDirectory(prefix="bpfcov-test-probe-") as tmp:
        source = Path(tmp) / "probe.c"
        source.write_text("int f(int a, int b) { return a > 0 && b > 0; }\n")
        return subprocess.run(
            [
                toolchain.Toolchain(major).clang,
                "-target",
                "bpf",
                "-fprofile-instr-generate",
                "-fcoverage-mapping",
                *args,
                source,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp,
        )


@functools.cache
def clang_accepts(major: int, *flags: str) -> bool:
    """Whether clang-N compiles an instrumented BPF file with ``flags`` (a capability
    probe: e.g. -fcoverage-mcdc came with clang 18)."""
    return clang_probe(major, *flags, "-c", "-o", "probe.o").returncode == 0


def mcdc_majors() -> list[int]:
    """The LLVM majors here (with a plugin) whose clang has -fcoverage-mcdc."""
    return [n for n in llvm_majors() if clang_accepts(n, "-fcoverage-mcdc")]


def script(name: str) -> str:
    """A console script of the installed package (bpfcov-cc, bpfcov)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install the package first"
    return found


def bpf_cflags() -> list[str]:
    return ["-target", "bpf", "-O2", "-g", multiarch_include()]


def bpfcov(
    *args: object, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the installed ``bpfcov`` with ``args``; its output captured as text."""
    return subprocess.run(
        [script("bpfcov"), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def build(source: Path, out: Path, major: int, *extra: str) -> Path:
    """Compiles ``source`` with bpfcov-cc for LLVM ``major``; returns the .bpf.o."""
    subprocess.run(
        [
            script("bpfcov-cc"),
            f"--bpfcov-llvm={major}",
            *bpf_cflags(),
            *extra,
            "-c",
            str(source),
            "-o",
            str(out),
        ],
        check=True,
    )
    return out


def build_plain(source: Path, out: Path, major: int) -> Path:
    """The same source compiled by plain clang: the control."""
    clang = toolchain.Toolchain(major).clang
    subprocess.run([clang, *bpf_cflags(), "-c", str(source), "-o", str(out)], check=True)
    return out


@dataclass
class Loaded:
    """An object loaded with ``bpftool prog loadall``, pinned under ``pin_dir``."""

    pin_dir: Path
    progs: dict[str, int] = field(default_factory=dict)
    maps: dict[str, int] = field(default_factory=dict)

    def map_value(self, name: str) -> bytes:
        return bpf.read_map_value(self.maps[name])

    def write_map(self, name: str, value: bytes) -> None:
        harness.map_update(self.maps[name], (0).to_bytes(4, "little"), value)


@contextlib.contextmanager
def loaded(obj: Path) -> Iterator[Loaded]:
    """Loads every program of ``obj`` into the kernel; unloads on exit."""
    bpf.ensure_bpffs(BPFFS)
    pin_dir = BPFFS / f"bpfcov-test-{uuid.uuid4().hex[:12]}"
    pin_dir.mkdir()
    result = Loaded(pin_dir)
    try:
        proc = subprocess.run(
            ["bpftool", "prog", "loadall", obj, pin_dir, "pinmaps", pin_dir / "maps"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, f"bpftool could not load {obj}:\n{proc.stderr}"
        for entry in pin_dir.iterdir():
            if entry.is_file():
                result.progs[entry.name] = bpf.obj_get(entry)
        maps_dir = pin_dir / "maps"
        for entry in maps_dir.iterdir() if maps_dir.exists() else ():
            fd = bpf.obj_get(entry)
            result.maps[bpf.map_info(fd).name] = fd
        yield result
    finally:
        for fd in [*result.progs.values(), *result.maps.values()]:
            os.close(fd)
        shutil.rmtree(pin_dir, ignore_errors=True)


def build_loader(obj: Path, source: Path, skeleton: str, out_dir: Path) -> Path:
    """A libbpf skeleton loader: ``bpftool gen skeleton obj`` then gcc, in ``out_dir``."""
    header = out_dir / f"{skeleton}.skel.h"
    header.write_bytes(
        subprocess.run(
            ["bpftool", "gen", "skeleton", obj, "name", skeleton], capture_output=True, check=True
        ).stdout
    )
    binary = out_dir / source.stem
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Werror", f"-I{out_dir}", "-o", binary, source, "-lbpf"],
        check=True,
    )
    return binary


def run_dirs() -> set[Path]:
    """The run directories under bpfcov run's default root now."""
    root = BPFFS / "bpfcov"
    return set(root.iterdir()) if root.exists() else set()


def llvm_cov(major: int, command: str, obj: Path, profile: Path | None, *extra: str) -> str:
    """``llvm-cov-N COMMAND`` of a mapping object, with ``profile`` merged first (an
    empty profile when None); returns its stdout."""
    chain = toolchain.Toolchain(major)
    work = Path(tempfile.mkdtemp(prefix="bpfcov-test-cov-"))
    try:
        if profile is None:
            profile = work / "empty.proftext"
            profile.write_text("")
        profdata = work / "p.profdata"
        subprocess.run(
            [chain.llvm_profdata, "merge", "-sparse", profile, "-o", profdata], check=True
        )
        return subprocess.run(
            [chain.llvm_cov, command, *extra, obj, f"-instr-profile={profdata}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)


def function_names(major: int, obj: Path) -> list[str]:
    """The functions llvm-cov finds in a mapping object (with an empty profile)."""
    export = json.loads(llvm_cov(major, "export", obj, None, "-format=text"))
    return [f["name"] for f in export["data"][0]["functions"]]


def uleb128(value: int) -> bytes:
    """``value`` as an unsigned LEB128 (LLVM's name and mapping blobs use it)."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


# --- the XDP example's inputs and what they must count (the tests' oracle) ---

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


def export(profile: Path, tmp_path: Path, *objects: Path) -> dict[str, dict[str, object]]:
    """The functions of ``bpfcov out -f json`` of ``profile``, by name."""
    out = tmp_path / f"{profile.stem}.json"
    obj_args = [a for o in objects for a in ("--object", o)]
    result = bpfcov("out", "-f", "json", "-o", out, *obj_args, profile)
    assert result.returncode == 0, result.stderr
    return {f["name"]: f for f in json.loads(out.read_text())["data"][0]["functions"]}


def assert_xdp_report(functions: dict[str, dict[str, object]]) -> None:
    """The counts llvm-cov shows are what PACKETS make the XDP parser run."""
    xdp, port = expected_counts()
    assert functions["xdp_parser"]["count"] == xdp["entry"]
    verdict = functions["xdp_parser.bpf.c:port_verdict"]
    assert verdict["count"] == port["entry"]
    branches = sorted((b[0], b[4], b[5]) for b in verdict["branches"])  # type: ignore[attr-defined]
    assert [(t, f) for _, t, f in branches] == [
        (port["if_dns"], port["entry"] - port["if_dns"]),
        (port["if_privileged"], port["entry"] - port["if_dns"] - port["if_privileged"]),
    ]


# -- the MC/DC example (examples/mcdc/acl.bpf.c) ------------------------------------

TCP, UDP = 6, 17
#: (proto, port, allow_remote_login) → the conditions llvm-cov shows for
#: `ip->protocol == TCP && (port == 22 || port == 23) && !allow_remote_login`:
#: T/F where evaluated, "-" where short-circuited; then the decision.
ACL_VECTORS = {
    (TCP, 22, 0): ("T", "T", "-", "T", "T"),
    (UDP, 22, 0): ("F", "-", "-", "-", "F"),
    (TCP, 80, 0): ("T", "F", "F", "-", "F"),
    (TCP, 23, 0): ("T", "F", "T", "T", "T"),
    (TCP, 22, 1): ("T", "T", "-", "F", "F"),
}


def acl_packet(proto: int, dport: int) -> bytes:
    """An Ethernet + IPv4 + TCP-sized packet to ``dport`` of protocol ``proto``."""
    eth_head = bytes(12) + struct.pack("!H", 0x0800)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, proto, 0, bytes(4), bytes(4))
    l4 = struct.pack("!HHIIBBHHH", 4000, dport, 0, 0, 0x50, 0, 0, 0, 0)
    return eth_head + ip + l4


def show_mcdc(major: int, obj: Path, profile: Path) -> str:
    """``llvm-cov show -show-mcdc`` of an object (built with bpfcov-cc) and a profile."""
    return llvm_cov(major, "show", obj.with_suffix(".obj"), profile, "-show-mcdc")


def decision(show: str, conditions: int) -> str:
    """The MC/DC block of the decision with that many conditions."""
    blocks = [
        b for b in show.split("MC/DC Decision Region") if f"Number of Conditions: {conditions}" in b
    ]
    assert len(blocks) == 1, show
    return blocks[0]


def executed_vectors(show: str) -> set[tuple[str, ...]]:
    """The test vectors an MC/DC block shows executed: conditions, then the decision."""
    rows = re.findall(r"\{\s*([TF-](?:,\s*[TF-])*)\s*=\s*([TF])\s*\}", show)
    return {(*(c.strip() for c in conds.split(",")), result) for conds, result in rows}


# -- flows many tests share ------------------------------------------------------


def gen_after_packets(xdp_obj: Path, profile: Path) -> None:
    """Loads xdp_obj, runs PACKETS through it, and writes its profile with bpfcov gen."""
    with loaded(xdp_obj) as obj:
        for packet, times in PACKETS:
            harness.prog_test_run(obj.progs["xdp_parser"], packet, repeat=times)
        gen = bpfcov("gen", "-o", profile, obj.pin_dir)
        assert gen.returncode == 0, gen.stderr


def counters_by_function(obj: Loaded) -> dict[str, list[int]]:
    """.data.profc split per function, using the records in .rodata.profd."""
    from bpfcov_build.layout import Section, parse_object_info
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
    """The examples' function whose name hashes to ``name_ref`` (else its hex)."""
    import hashlib

    for name in ("xdp_parser", "xdp_parser.bpf.c:port_verdict", "sys_enter"):
        if int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "little") == name_ref:
            return name
    return hex(name_ref)
