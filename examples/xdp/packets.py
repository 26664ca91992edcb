"""Writes a few test packets for the XDP example, one file each: NAME.bin.

    python3 examples/xdp/packets.py DIR

Each file name says what the parser does with it; the quick start runs each
through the program with bpftool's test run.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q = 0x0800, 0x86DD, 0x8100
IPPROTO_TCP, IPPROTO_UDP = 6, 17


def eth(proto: int) -> bytes:
    return bytes(6) + bytes(range(1, 7)) + struct.pack("!H", proto)


def ipv4(proto: int, ttl: int = 64) -> bytes:
    return struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
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


def udp(dport: int) -> bytes:
    return struct.pack("!HHHH", 4000, dport, 8, 0)


PACKETS = {
    "pass-ipv6": eth(ETH_P_IPV6) + bytes(40),
    "pass-dns": eth(ETH_P_IP) + ipv4(IPPROTO_UDP) + udp(53),
    "drop-ssh-udp": eth(ETH_P_IP) + ipv4(IPPROTO_UDP) + udp(22),
    "pass-tcp": eth(ETH_P_IP) + ipv4(IPPROTO_TCP),
    "pass-vlan-dns": eth(ETH_P_8021Q)
    + struct.pack("!HH", 7, ETH_P_IP)
    + ipv4(IPPROTO_UDP)
    + udp(53),
    "drop-truncated": eth(ETH_P_IP) + bytes(10),
}


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, packet in PACKETS.items():
        (out / f"{name}.bin").write_bytes(packet)


if __name__ == "__main__":
    main()
