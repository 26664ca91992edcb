"""The note beside each profile: ``X.profraw.json`` names the object it belongs to.

``bpfcov gen`` writes it; ``bpfcov out`` reads it to find the mapping object
(``--object`` overrides it) and the LLVM major whose tools read the profile.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["path_of", "read", "write"]


def path_of(profraw: Path) -> Path:
    """Where the note of ``profraw`` is."""
    return profraw.with_name(profraw.name + ".json")


def write(profraw: Path, object_path: str, llvm_major: int) -> None:
    """Notes, atomically and readable by the owner only, what ``profraw`` belongs to."""
    note = path_of(profraw)
    tmp = note.with_name(f".{note.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(
            json.dumps({"object": object_path, "llvm_major": llvm_major}) + "\n", encoding="utf-8"
        )
        tmp.chmod(0o600)
        tmp.replace(note)
    finally:
        tmp.unlink(missing_ok=True)


def read(profraw: Path) -> dict[str, object]:
    """What :func:`write` noted about ``profraw``; empty when nothing (or nothing readable)."""
    with contextlib.suppress(OSError, ValueError):
        note = json.loads(path_of(profraw).read_text(encoding="utf-8"))
        if isinstance(note, dict):
            return note
    return {}
