"""``xdp-demo``: runs packets through the shipped XDP parser in the kernel.

    xdp-demo [-r REPEAT] [PACKET.bin ...]   each packet REPEAT times; prints verdicts
    xdp-demo --object                       the path of the installed .bpf.o
    xdp-demo --mapping-object               the path of its .bpf.obj (coverage builds)

Without packet files it runs a built-in set. It loads ``xdp_parser.bpf.o`` with
libbpf, runs each packet with ``BPF_PROG_TEST_RUN`` and unloads it; nothing is
pinned. Under ``bpfcov run`` (a coverage build) the coverage maps libbpf creates
are pinned as they appear, so ``bpfcov gen`` reads the counts after it exits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from xdp_demo import bpf_object, mapping_object
from xdp_demo.libbpf import BpfObject, LibbpfError
from xdp_demo.packets import BUILTIN

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

PROG = "xdp-demo"
VERDICTS = ("aborted", "drop", "pass", "tx", "redirect")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("packets", nargs="*", type=Path, metavar="PACKET.bin")
    parser.add_argument("-r", "--repeat", type=int, default=1, help="runs of each packet")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--object", action="store_true", help="print the .bpf.o path, exit")
    where.add_argument(
        "--mapping-object",
        action="store_true",
        help="print the .bpf.obj path (for bpfcov out --object), exit",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``xdp-demo``."""
    args = _parser().parse_args(argv)
    if args.object:
        print(bpf_object())
        return 0
    if args.mapping_object:
        found = mapping_object()
        if found is None:
            print(f"{PROG}: no xdp_parser.bpf.obj: not a coverage build", file=sys.stderr)
            return 1
        print(found)
        return 0
    if args.repeat < 1:
        print(f"{PROG}: --repeat must be at least 1", file=sys.stderr)
        return 2

    try:
        packets = {str(p): p.read_bytes() for p in args.packets} or BUILTIN
    except OSError as exc:
        print(f"{PROG}: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        with BpfObject(bpf_object()) as obj:
            prog = obj.program_fd("xdp_parser")
            for name, packet in packets.items():
                verdict = obj.test_run(prog, packet, args.repeat)
                label = VERDICTS[verdict] if verdict < len(VERDICTS) else str(verdict)
                print(f"{name}: {label}")
    except LibbpfError as exc:
        print(f"{PROG}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{len(packets)} packets, {args.repeat} run(s) each")
    return 0
