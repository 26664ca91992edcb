"""Flows many tests share: run the example, generate, read counters back."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from bpfcov_build.bpf import harness
from support.kernel import Loaded, loaded
from support.toolchains import bpfcov
from support.xdp_model import PACKETS

if TYPE_CHECKING:
    from pathlib import Path

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
