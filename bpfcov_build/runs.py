"""The runs pinned in bpffs: what ``bpfcov list`` shows and ``bpfcov clean`` removes."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfcov_build.errors import FormatError, NotFoundError
from bpfcov_build.sections import GROUP_INFIX, RUN_ROOT

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["RunSummary", "is_group_dir", "list_runs"]

#: The directory of one object in a run (bpfcov run and <bpfcov/save.h> name them so).
_GROUP = re.compile(rf"\d+{re.escape(GROUP_INFIX)}\d+")


def is_group_dir(name: str) -> bool:
    """Whether ``name`` is that of an object's directory of pins in a run."""
    return _GROUP.fullmatch(name) is not None


@dataclass(frozen=True)
class RunSummary:
    """One run directory: when it was made and what each object says of itself."""

    path: Path
    age_s: float
    objects: tuple[str, ...]
    functions: int


def list_runs(root: Path = RUN_ROOT) -> list[RunSummary]:
    """Every run under ``root``, oldest first."""
    from bpfcov_build.collect import pinned_groups, read_group

    if not root.is_dir():
        return []
    runs = []
    now = time.time()
    for run in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime):
        if not run.is_dir():
            continue
        objects: list[str] = []
        functions = 0
        try:
            for group in pinned_groups(run):
                cov = read_group(group)
                objects.extend(cov.objects or (group.label,))
                functions += len(cov.profile.records)
        except (NotFoundError, FormatError):
            pass  # an empty or foreign directory: listed with no objects
        runs.append(RunSummary(run, now - run.stat().st_mtime, tuple(objects), functions))
    return runs
