"""Loading objects into this kernel with bpftool, and holding them open."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bpfcov_build import bpf
from bpfcov_build.bpf import harness
from support.toolchains import BPFFS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


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
