"""A run's pin directory: one directory per instrumented object, a pin per coverage map.

``bpfcov run`` pins each coverage map as it is created, under the pin directory, in
the directory of the object that made it: ``<n>-btf<btf_id>``, numbered in order of
first appearance (after any groups an earlier run left there). Maps of one object
share its BTF id; maps without BTF (id 0) fill one group until a section repeats,
which starts the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bpfcov_build import bpf, sections
from bpfcov_build.errors import BpfcovError

if TYPE_CHECKING:
    from pathlib import Path

    from bpfcov_build.sections import Section

__all__ = ["Group", "Groups", "check_pin_dir", "group_dir_name", "prepare_pin_dir"]

_GROUP_DIR = re.compile(rf"(\d+){re.escape(sections.GROUP_INFIX)}(\d+)")


def group_dir_name(number: int, btf_id: int) -> str:
    """The directory of one object's maps under the pin directory."""
    return f"{number}{sections.GROUP_INFIX}{btf_id}"


@dataclass
class Group:
    number: int
    btf_id: int
    sections: set[Section] = field(default_factory=set)
    map_ids: set[int] = field(default_factory=set)
    """The maps pinned in it."""
    loaded: bool = False
    """Whether a program that uses one of its maps loaded."""


class Groups:
    """Assigns each coverage map to the group of the object that created it.

    A map joins the latest group of its BTF id unless that group already has its
    section; then a new group starts. With a BTF id, that only happens if one object
    made the same map twice; with BTF id 0 it is what tells objects apart.
    """

    def __init__(self, first_number: int = 1) -> None:
        self._next = first_number
        self._latest: dict[int, Group] = {}
        self.all: list[Group] = []

    def place(self, btf_id: int, section: Section) -> Group:
        group = self._latest.get(btf_id)
        if group is None or section in group.sections:
            group = Group(self._next, btf_id)
            self._next += 1
            self._latest[btf_id] = group
            self.all.append(group)
        group.sections.add(section)
        return group


def check_pin_dir(pin_dir: Path) -> None:
    """Raises BpfcovError unless *pin_dir* is (or would be made) on bpffs."""
    existing = pin_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not bpf.is_bpffs(existing):
        msg = f"{pin_dir} is not on a bpf filesystem: pin under /sys/fs/bpf"
        raise BpfcovError(msg)


def prepare_pin_dir(pin_dir: Path) -> int:
    """Create *pin_dir* on bpffs; return the first free group number in it."""
    check_pin_dir(pin_dir)
    try:
        pin_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create pin directory {pin_dir}: {exc.strerror}"
        raise BpfcovError(msg) from None
    numbers = [
        int(m.group(1)) for entry in pin_dir.iterdir() if (m := _GROUP_DIR.fullmatch(entry.name))
    ]
    return max(numbers, default=0) + 1
