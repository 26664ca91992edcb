"""The packets ``xdp-demo`` runs when it is given no packet files.

Each is named for the verdict the parser gives it and why.
"""

from __future__ import annotations

import struct

_ETH_P_IP, _ETH_P_IPV6, _ETH_P_8021Q = 0x0800, 0x86DD, 0x8100
_IPPROTO_TCP, _IPPROTO_UDP = 6, 17
_MACS = bytes.fromhex("020000000002020000000001")  # destination, source


def _ethernet(ethertype: int, *vlan_ids: int) -> bytes:
    """An Ethernet header, with an 802.1Q tag per VLAN id, then ``ethertype``."""
    header = _MACS
    for vid in vlan_ids:
        header += struct.pack("!HH", _ETH_P_8021Q, vid)
    return header + struct.pack("!H", ethertype)


def _ipv4(protocol: int, ttl: int = 64) -> bytes:
    """A 20-byte IPv4 header from 192.0.2.1 to 192.0.2.2 (no checksum: unchecked)."""
    return struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 48, 0, 0, ttl, protocol, 0, b"\xc0\0\2\1", b"\xc0\0\2\2"
    )


def _udp(dest: int) -> bytes:
    return struct.pack("!HHHH", 40000, dest, 8, 0)


#: name → packet
BUILTIN: dict[str, bytes] = {
    "pass-udp-dns": _ethernet(_ETH_P_IP) + _ipv4(_IPPROTO_UDP) + _udp(53),
    "drop-udp-privileged": _ethernet(_ETH_P_IP) + _ipv4(_IPPROTO_UDP) + _udp(111),
    "pass-udp-high-port": _ethernet(_ETH_P_IP) + _ipv4(_IPPROTO_UDP) + _udp(5353),
    "pass-tcp": _ethernet(_ETH_P_IP) + _ipv4(_IPPROTO_TCP) + bytes(20),
    "drop-tcp-ttl-1": _ethernet(_ETH_P_IP) + _ipv4(_IPPROTO_TCP, ttl=1) + bytes(20),
    "pass-vlan-udp-dns": _ethernet(_ETH_P_IP, 100) + _ipv4(_IPPROTO_UDP) + _udp(53),
    "pass-ipv6": _ethernet(_ETH_P_IPV6) + bytes(40),
    "drop-truncated-ipv4": _ethernet(_ETH_P_IP) + bytes(8),
}
