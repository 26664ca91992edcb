"""From coverage maps to raw profiles: ``bpfcov gen``'s core.

The maps of one instrumented object (one per :class:`~bpfcov_build.layout.Section`)
are found either pinned under a run directory (``bpfcov run`` pins each object's
maps in a subdirectory of its own) or live in the kernel, by scanning every map
and grouping the coverage maps by BTF id. Each group gives one
:class:`~bpfcov_build.profraw.RawProfile` in the raw version the object records.
"""

from __future__ import annotations

import errno
import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import bpf, fsutil, sidecar
from bpfcov_build.errors import BpfcovError, FormatError, NotFoundError
from bpfcov_build.layout import (
    NO_PROGRAM_LOADED,
    PART_ALIGN,
    BitmapsPart,
    CountersPart,
    Section,
    mapping_object_image,
    parse_bitmaps_parts,
    parse_counters_parts,
    parse_object_infos,
    pin_name,
    section_of_map,
)
from bpfcov_build.profraw import (
    LAYOUTS,
    RAW_MAGIC,
    SUPPORTED_VERSIONS,
    RawProfile,
    Span,
    encode,
    read_record,
)

if TYPE_CHECKING:
    from bpfcov_build.layout import ObjectInfo
    from bpfcov_build.profraw import FunctionRecord, RawLayout

__all__ = [
    "Coverage",
    "MapGroup",
    "live_groups",
    "pinned_groups",
    "read_group",
    "reconcile",
    "write_coverage",
]


@dataclass(frozen=True)
class MapGroup:
    """The coverage maps of one loaded object: a map value per section."""

    label: str
    values: dict[Section, bytes]
    map_ids: tuple[int, ...] = ()
    """The kernel's ids of the maps (known for loaded objects, read with --live)."""
    programs_loaded: bool | None = None
    """Whether any of the object's programs loaded; None when not known."""
    prog_ids: tuple[int, ...] = ()
    """The loaded programs that write the counters (read with --live)."""


@dataclass(frozen=True)
class Coverage:
    """One object's counts, as a raw profile, and what the object says of itself."""

    label: str
    infos: tuple[ObjectInfo, ...]
    """One per object linked into the loaded one: usually one."""
    profile: RawProfile

    @property
    def info(self) -> ObjectInfo:
        """The (first) object's info: the LLVM and raw version are the same in all."""
        return self.infos[0]

    @property
    def objects(self) -> tuple[str, ...]:
        """The mapping objects recorded (one per object linked in; none if unrecorded)."""
        return tuple(i.object_path for i in self.infos if i.object_path)

    @property
    def stem(self) -> str:
        """A file-name stem for this object: its mapping object's name, or the label."""
        name = Path(self.info.object_path).name
        return name.removesuffix(".obj") or Path(self.label).name


def _read_fd(fd: int) -> bytes:
    with bpf.owned_fd(fd):
        return bpf.read_map_value(fd)


def _needs_root(what: Path | str) -> BpfcovError:
    return BpfcovError(f"{what}: permission denied; reading coverage maps needs root: use sudo")


def pinned_groups(run_dir: Path) -> list[MapGroup]:
    """The objects pinned under ``run_dir``, one subdirectory each.

    A subdirectory without a counters map holds maps a loader made apart from
    theirs (one BTF object per map, as cilium/ebpf does): an MC/DC bitmaps map
    there joins the counters of the object its trailer names; the rest is passed
    over, since it can be read from the mapping object.
    """
    try:
        return _pinned_groups(run_dir)
    except PermissionError:
        raise _needs_root(run_dir) from None
    except bpf.BpfSyscallError as exc:
        if exc.errno in {errno.EPERM, errno.EACCES}:
            raise _needs_root(run_dir) from None
        raise


def _pinned_groups(run_dir: Path) -> list[MapGroup]:
    if not run_dir.is_dir():
        msg = f"{run_dir}: no such run directory (see bpfcov run's output, or bpfcov list)"
        raise NotFoundError(msg)
    groups = []
    orphans = []
    for sub in sorted((p for p in run_dir.iterdir() if p.is_dir()), key=_creation_order):
        values = {}
        for section in Section:
            pin = sub / pin_name(section)
            if pin.exists():
                values[section] = _read_fd(bpf.obj_get(pin, read_only=True))
        if Section.COUNTERS in values:
            loaded = False if (sub / NO_PROGRAM_LOADED).is_dir() else None
            groups.append(MapGroup(str(sub), values, programs_loaded=loaded))
        elif Section.BITMAPS in values:
            orphans.append(_Bitmaps(values[Section.BITMAPS]))
    groups = _with_their_bitmaps(groups, orphans)
    if not groups:
        msg = f"{run_dir}: holds no coverage maps; was the program built with bpfcov-cc?"
        raise NotFoundError(msg)
    return groups


def _creation_order(sub: Path) -> tuple[int, str]:
    """``<n>-btf<id>`` directories by n, the order ``bpfcov run`` saw them made."""
    head = sub.name.partition("-")[0]
    return (int(head), sub.name) if head.isdigit() else (-1, sub.name)


@dataclass(frozen=True)
class _Bitmaps:
    """A bitmaps map not grouped with counters (its loader gave it a BTF of its own)."""

    value: bytes
    map_id: int = 0
    prog_ids: frozenset[int] = frozenset()

    @functools.cached_property
    def object_ids(self) -> list[int]:
        """The objects its trailers name, in link order (none if it has no trailer)."""
        try:
            return [p.object_id for p in parse_bitmaps_parts(self.value)]
        except FormatError:
            return []  # read_group names the problem


def _with_their_bitmaps(groups: list[MapGroup], orphans: list[_Bitmaps]) -> list[MapGroup]:
    """The groups, each given the bitmaps map its counters need, if it had none.

    A bitmaps map matches when its trailer names the objects whose counters count
    bitmaps; of several, the one the same programs use (known live), else the first
    in creation order (a loader makes one object's maps together).
    """
    if not orphans:
        return groups
    out = []
    for group in groups:
        if Section.BITMAPS not in group.values:
            counters = group.values[Section.COUNTERS]
            wanted = [p.object_id for p in _counters_parts(counters) if p.bitmap_size]
            matching = [o for o in orphans if wanted and o.object_ids == wanted]
            shared = [o for o in matching if o.prog_ids & set(group.prog_ids)]
            if shared or matching:
                chosen = (shared or matching)[0]
                orphans.remove(chosen)
                values = {**group.values, Section.BITMAPS: chosen.value}
                map_ids = (*group.map_ids, chosen.map_id) if chosen.map_id else group.map_ids
                group = replace(group, values=values, map_ids=map_ids)  # noqa: PLW2901
        out.append(group)
    return out


def _counters_parts(value: bytes) -> tuple[CountersPart, ...]:
    try:
        return parse_counters_parts(value)
    except FormatError:
        return ()  # read_group names the problem


def _programs_by_map() -> dict[int, list[int]]:
    """The loaded programs that use each map: map id → program ids."""
    users: dict[int, list[int]] = {}
    for prog_id in bpf.prog_ids():
        try:
            fd = bpf.prog_fd_by_id(prog_id)
        except bpf.BpfSyscallError:
            continue  # unloaded meanwhile
        with bpf.owned_fd(fd):
            for map_id in bpf.prog_info(fd).map_ids:
                users.setdefault(map_id, []).append(prog_id)
    return users


def live_groups() -> list[MapGroup]:
    """Coverage maps of every instrumented object loaded now.

    One group per counters map, with the other coverage maps of its BTF id (if the
    loader gave it one).
    """
    try:
        return _live_groups()
    except bpf.BpfSyscallError as exc:
        if exc.errno in {errno.EPERM, errno.EACCES}:
            raise _needs_root("the kernel's maps") from None
        raise


def _live_groups() -> list[MapGroup]:
    counters: list[tuple[int, int, bytes]] = []
    by_btf: dict[int, dict[Section, bytes]] = {}
    ids: dict[int, dict[Section, int]] = {}
    bitmaps: list[tuple[int, int, bytes]] = []
    for map_id in bpf.map_ids():
        try:
            fd = bpf.map_fd_by_id(map_id, read_only=True)
        except bpf.BpfSyscallError:
            continue  # freed meanwhile
        with bpf.owned_fd(fd):
            info = bpf.map_info(fd)
            section = section_of_map(info.name)
            if section is None:
                continue
            value = bpf.read_map_value(fd)
            if section is Section.COUNTERS:
                counters.append((map_id, info.btf_id, value))
            elif section is Section.BITMAPS:
                bitmaps.append((map_id, info.btf_id, value))
            elif info.btf_id:
                by_btf.setdefault(info.btf_id, {})[section] = value
                ids.setdefault(info.btf_id, {})[section] = map_id
    users = _programs_by_map() if counters else {}
    counters_btf = {btf for _, btf, _ in counters if btf}
    orphans = []
    for map_id, btf, value in bitmaps:
        if btf in counters_btf:
            by_btf.setdefault(btf, {})[Section.BITMAPS] = value
            ids.setdefault(btf, {})[Section.BITMAPS] = map_id
        else:
            orphans.append(_Bitmaps(value, map_id, frozenset(users.get(map_id, ()))))
    groups = []
    for map_id, btf, value in counters:
        progs = tuple(users.get(map_id, ()))
        others = by_btf.get(btf, {}) if btf else {}
        groups.append(
            MapGroup(
                f"map{map_id}",
                {**others, Section.COUNTERS: value},
                map_ids=(map_id, *(ids[btf].values() if others else ())),
                programs_loaded=bool(progs),
                prog_ids=progs,
            )
        )
    if not groups:
        msg = "no instrumented BPF object is loaded (built with bpfcov-cc)"
        raise NotFoundError(msg)
    return _with_their_bitmaps(groups, orphans)


@dataclass(frozen=True)
class _Static:
    """The part of a profile that does not change as programs run."""

    infos: tuple[ObjectInfo, ...]
    records: list[list[dict[str, tuple[int, ...]]]]
    """Each part's data records (CounterPtr/BitmapPtr relative to the part)."""
    names: bytes


def read_group(group: MapGroup) -> Coverage:
    """The raw profile of one object's maps.

    Only the counters (and MC/DC bitmaps) must come from the kernel: their trailer
    names the object. The rest is read from the object's other coverage maps when
    the loader created them for this very object, or else from its mapping object.
    """
    label = group.label
    counters = group.values.get(Section.COUNTERS)
    if counters is None:
        msg = f"{label}: no {Section.COUNTERS} map among its coverage maps"
        raise FormatError(msg)
    try:
        parts = parse_counters_parts(counters)
    except FormatError as exc:
        msg = f"{label}: {exc}"
        raise FormatError(msg) from exc
    if not parts:
        msg = f"{label}: {Section.COUNTERS} is empty"
        raise FormatError(msg)
    first = parts[0]
    if any((p.raw_version, p.llvm_major) != (first.raw_version, first.llvm_major) for p in parts):
        msg = f"{label}: objects built by different LLVMs were linked into one"
        raise FormatError(msg)
    layout = LAYOUTS.get(first.raw_version)
    if layout is None:
        known = ", ".join(map(str, SUPPORTED_VERSIONS))
        msg = (
            f"{label}: built by LLVM {first.llvm_major}, which writes raw profile "
            f"version {first.raw_version}; bpfcov knows versions {known} "
            "(see the README to add one)"
        )
        raise FormatError(msg)
    static = _static_from_maps(group, parts, layout) or _static_from_objects(label, parts, layout)
    bitmaps = group.values.get(Section.BITMAPS, b"")
    bitmap_parts = _bitmaps_by_object(label, bitmaps)
    records: list[FunctionRecord] = []
    for part, part_records in zip(parts, static.records, strict=True):
        bm_part = None
        if part.bitmap_size:
            queue = bitmap_parts.get(part.object_id)
            if not queue:
                whose = part.object_path or "its object"
                msg = (
                    f"{label}: no {Section.BITMAPS} map holds the MC/DC bitmaps of {whose} "
                    "(did the loader create it?)"
                )
                raise NotFoundError(msg)
            bm_part = queue.pop(0)
            if bm_part.bitmap_size != part.bitmap_size:
                msg = f"{label}: {Section.BITMAPS} and {Section.COUNTERS} disagree on its size"
                raise FormatError(msg)
        # In the maps a record's pointers are offsets into its own object's part.
        span = Span(str(Section.COUNTERS), counters, part.start, part.counters_size)
        # An object without MC/DC has no part of its own: an empty span it cannot point into.
        bm_start, bm_size = (bm_part.start, bm_part.bitmap_size) if bm_part else (0, 0)
        bm_span = Span(str(Section.BITMAPS), bitmaps, bm_start, bm_size)
        for index, rec in enumerate(part_records):
            records.append(
                read_record(
                    rec,
                    f"{label}: record {index} of {part.object_path or 'an object'}",
                    span,
                    rec["CounterPtr"][0],
                    bm_span,
                    rec["BitmapPtr"][0] if "BitmapPtr" in rec else 0,
                )
            )
    profile = RawProfile(version=first.raw_version, records=tuple(records), names=static.names)
    return Coverage(label, static.infos, profile)


def _bitmaps_by_object(label: str, value: bytes) -> dict[int, list[BitmapsPart]]:
    """The parts of a ``.data.profbm`` value by object id, in link order."""
    if not value:
        return {}
    try:
        parts = parse_bitmaps_parts(value)
    except FormatError as exc:
        msg = f"{label}: {exc}"
        raise FormatError(msg) from exc
    by_id: dict[int, list[BitmapsPart]] = {}
    for part in parts:
        by_id.setdefault(part.object_id, []).append(part)
    return by_id


def _static_from_maps(
    group: MapGroup, parts: tuple[CountersPart, ...], layout: RawLayout
) -> _Static | None:
    """The static part from the kernel's maps, if the loader made them for this object."""
    if any(s not in group.values for s in (Section.DATA, Section.NAMES, Section.COVMAP)):
        return None
    try:
        infos = parse_object_infos(group.values[Section.COVMAP])
    except FormatError as exc:
        msg = f"{group.label}: {exc}"
        raise FormatError(msg) from exc
    if [i.object_id for i in infos] != [p.object_id for p in parts]:
        return None  # another object's, or another load's: read the object's own
    data = group.values[Section.DATA]
    if len(data) != layout.record_size * sum(p.num_records for p in parts):
        msg = f"{group.label}: {Section.DATA} does not hold the records its counters count"
        raise FormatError(msg)
    records = []
    offset = 0
    for part in parts:
        records.append(
            [
                layout.unpack_record(data, offset + i * layout.record_size)
                for i in range(part.num_records)
            ]
        )
        offset += part.num_records * layout.record_size
    return _Static(infos, records, group.values[Section.NAMES])


def _static_from_objects(label: str, parts: tuple[CountersPart, ...], layout: RawLayout) -> _Static:
    """The static part from each part's mapping object on disk."""
    infos = []
    records = []
    names = b""
    for part in parts:
        if not part.object_path:
            msg = (
                f"{label}: the loader created no {Section.DATA} map and the object records "
                "no mapping object (build it with bpfcov-cc)"
            )
            raise NotFoundError(msg)
        path = Path(part.object_path)
        obj = mapping_object_image(path)
        if obj.info.object_id != part.object_id:
            msg = (
                f"{label}: {path} is not the object the program was built from (rebuilt "
                "since?); keep the X.bpf.obj of the loaded X.bpf.o"
            )
            raise FormatError(msg)
        if len(obj.records) != layout.record_size * part.num_records:
            msg = f"{path}: holds other data records than the loaded object counts"
            raise FormatError(msg)
        part_records = []
        counter_at = bitmap_at = 0
        for i in range(part.num_records):
            rec = layout.unpack_record(obj.records, i * layout.record_size)
            rec["CounterPtr"] = (counter_at,)
            counter_at += 8 * rec["NumCounters"][0]
            if "BitmapPtr" in rec:
                rec["BitmapPtr"] = (bitmap_at,)
                bitmap_at += -(-rec["NumBitmapBytes"][0] // PART_ALIGN) * PART_ALIGN
            part_records.append(rec)
        records.append(part_records)
        names += obj.names
        infos.append(replace(obj.info, object_path=part.object_path))
    return _Static(tuple(infos), records, names)


@dataclass(frozen=True)
class Reconciled:
    """A coverage whose counters agree with its mapping, and what that took."""

    coverage: Coverage
    functions_raised: int
    """Functions whose counters had to be raised (0: they agreed as read)."""
    largest_raise: int
    unchecked: str | None = None
    """Why the counters could not be checked (no mapping object), if so."""


def reconcile(coverage: Coverage) -> Reconciled:
    """``coverage`` with counters that llvm-cov cannot turn into negative counts.

    Each function's counters are checked against the differences its coverage
    mapping derives counts from (:mod:`bpfcov_build.covmap`) and raised where one
    would be negative: counters read while programs run, or plain counters that
    lost increments to a race, can disagree.
    """
    from bpfcov_build import covmap

    paths = [Path(p) for p in coverage.objects]
    missing = [p for p in paths if not p.is_file()]
    if not paths or missing:
        why = f"{missing[0]}: no such mapping object" if missing else "no mapping object recorded"
        return Reconciled(coverage, 0, 0, why)
    mappings = covmap.read_mappings(paths)
    records = []
    raised = largest = 0
    for rec in coverage.profile.records:
        fn = mappings.get((rec.name_ref, rec.func_hash))
        counters = list(rec.counters)
        if fn is not None and not covmap.consistent(fn, counters) and covmap.repair(fn, counters):
            raised += 1
            largest = max(largest, *(b - a for a, b in zip(rec.counters, counters, strict=True)))
            rec = replace(rec, counters=tuple(counters))  # noqa: PLW2901 - the repaired record
        records.append(rec)
    if not raised:
        return Reconciled(coverage, 0, 0)
    profile = replace(coverage.profile, records=tuple(records))
    return Reconciled(replace(coverage, profile=profile), raised, largest)


def _is_raw_profile(head: bytes) -> bool:
    return head[:8] == RAW_MAGIC.to_bytes(8, "little")


def write_coverage(coverage: Coverage, path: Path) -> None:
    """Writes the profile atomically, with its sidecar note (object path, LLVM major).

    Mode 0600 (owned by the user who ran sudo, if so); an existing file at ``path``
    is replaced only if it is a raw profile.
    """
    data = encode(coverage.profile)
    fsutil.check_replaceable(path, "raw profile", _is_raw_profile)
    sidecar.write(path, coverage.objects, coverage.info.llvm_major)
    fsutil.replace_file(
        path, data, what="raw profile", ours=_is_raw_profile, mode=0o600, durable=True
    )
