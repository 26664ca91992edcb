"""The XDP example's inputs and what they must count: the tests' oracle."""

from __future__ import annotations

import json
import struct
from collections import Counter
from typing import TYPE_CHECKING

from support.toolchains import bpfcov

if TYPE_CHECKING:
    from pathlib import Path

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
