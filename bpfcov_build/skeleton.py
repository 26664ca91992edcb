"""libbpf skeletons of instrumented objects, and the C helper that saves coverage.

``bpftool gen skeleton`` already exposes the coverage globals of an object built by
bpfcov-cc: the pass gives them C names and BTF, so ``skel->data_profc`` is a struct
of one counter array per function. What a loader lacks is a way to keep them: the
header ``<bpfcov/save.h>`` (in :func:`include_dir`) pins an object's coverage maps
where ``bpfcov gen`` reads them, with one call and no ``bpfcov run``.

:func:`generate` runs bpftool and appends ``<name>__bpfcov_save(skel, dir)``, so a
loader saves through its own skeleton type. Plain and instrumented skeletons get it
alike (it does nothing for a plain object): one loader source builds against both.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bpfcov_build.errors import BpfcovError, FormatError, NotFoundError, UsageError
from bpfcov_build.proc import Run

__all__ = ["generate", "include_dir", "skeleton_name"]

_SAVE_FUNCTION = """
/* Added by bpfcov skel: pin this object's coverage maps under dir, where
 * `bpfcov gen dir` reads them (nothing for an object built without coverage). */
#include <bpfcov/save.h>

static inline int {name}__bpfcov_save(struct {name} *skel, const char *dir)
{{
	return bpfcov_save(skel->obj, dir);
}}
"""


def include_dir() -> Path:
    """The directory to add with ``-I`` for ``#include <bpfcov/save.h>``."""
    return Path(__file__).resolve().parent / "include"


def skeleton_name(obj: Path) -> str:
    """bpftool's default skeleton name: the file name up to its first dot, as C."""
    stem = obj.name.split(".", 1)[0]
    return re.sub(r"\W", "_", stem) or "obj"


def _check_bpf_elf(obj: Path) -> None:
    """One line for a file bpftool would refuse with many: not an ELF, or not BPF's."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with obj.open("rb") as f:
            machine = ELFFile(f)["e_machine"]
    except (OSError, ELFError) as exc:
        msg = f"{obj}: not an ELF object ({exc}); give the X.bpf.o bpfcov-cc built"
        raise FormatError(msg) from None
    if machine != "EM_BPF":
        msg = f"{obj}: an ELF object for {machine}, not BPF; give the X.bpf.o bpfcov-cc built"
        raise FormatError(msg)


def generate(obj: Path, name: str | None = None) -> str:
    """The skeleton header of ``obj``, with ``<name>__bpfcov_save`` appended."""
    name = name or skeleton_name(obj)
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        msg = f"--name {name}: a skeleton name must be a C identifier"
        raise UsageError(msg)
    if not obj.is_file():
        msg = f"{obj}: no such object"
        raise NotFoundError(msg)
    _check_bpf_elf(obj)
    bpftool = shutil.which("bpftool")
    if bpftool is None:
        msg = "bpftool not found; install it with: apt-get install bpftool"
        raise NotFoundError(msg)
    header = Run(what=f"generating the skeleton of {obj}").capture(
        [bpftool, "gen", "skeleton", obj, "name", name]
    )
    guard = re.search(r"#endif /\* (\w+) \*/\s*$", header)
    if guard is None:
        msg = f"bpftool's skeleton of {obj} does not end as expected"
        raise BpfcovError(msg)
    # Inside the include guard, after bpftool's own definitions.
    return header[: guard.start()] + _SAVE_FUNCTION.format(name=name) + header[guard.start() :]
