"""The MC/DC example (examples/mcdc/acl.bpf.c): its packets and test vectors."""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

from support.toolchains import llvm_cov

if TYPE_CHECKING:
    from pathlib import Path

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
