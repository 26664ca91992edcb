"""The note beside each profile: ``X.profraw.json`` names the object it belongs to.

``bpfcov gen`` writes it; ``bpfcov out`` reads it to find the mapping object
(``--object`` overrides it) and the LLVM major whose tools read the profile.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

from bpfcov_build import fsutil

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["objects", "path_of", "read", "write"]


def path_of(profraw: Path) -> Path:
    """Where the note of ``profraw`` is."""
    return profraw.with_name(profraw.name + ".json")


def write(profraw: Path, objects: Sequence[str], llvm_major: int) -> None:
    """Notes, atomically and readable by the owner only, what ``profraw`` belongs to.

    That is its mapping objects (several when objects were linked into one) and the
    LLVM major that wrote it.
    """
    fields = {"object": objects[0] if objects else "", "objects": list(objects)}
    text = json.dumps({**fields, "llvm_major": llvm_major}) + "\n"
    fsutil.replace_file(
        path_of(profraw), text.encode(), what="profile note", ours=_is_note, mode=0o600
    )


def _is_note(head: bytes) -> bool:
    return head.startswith(b'{"object":')


def read(profraw: Path) -> dict[str, object]:
    """What :func:`write` noted about ``profraw``; empty when nothing (or nothing readable)."""
    with contextlib.suppress(OSError, ValueError):
        note = json.loads(path_of(profraw).read_text(encoding="utf-8"))
        if isinstance(note, dict):
            return note
    return {}


def objects(profraw: Path) -> list[str]:
    """The mapping objects noted for ``profraw`` (also from notes naming just one)."""
    note = read(profraw)
    listed = note.get("objects")
    if isinstance(listed, list) and listed and all(isinstance(o, str) and o for o in listed):
        return list(listed)
    one = note.get("object")
    return [one] if isinstance(one, str) and one else []
