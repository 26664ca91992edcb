"""``bpfcov out``: merge raw profiles and render them with llvm-cov.

Profiles and objects must all come from one LLVM major (each llvm-profdata reads
only its own raw version, each llvm-cov only as new a profile as its own). The
object of each profile is the one ``bpfcov gen`` noted beside it, unless given.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bpfcov_build import toolchain
from bpfcov_build.collect import read_sidecar
from bpfcov_build.errors import BpfcovError, FormatError, NotFoundError
from bpfcov_build.layout import mapping_object_info
from bpfcov_build.proc import Run
from bpfcov_build.profraw import LAYOUTS, decode

__all__ = ["FORMATS", "MCDC_LLVM", "Report", "render"]

#: The first LLVM whose llvm-cov shows MC/DC (clang's -fcoverage-mcdc).
MCDC_LLVM = 18

#: Output formats: what ``-o`` names, and the llvm-cov command behind it.
FORMATS = {
    "html": "a directory of annotated sources (llvm-cov show -format=html)",
    "json": "a file, llvm-cov export's JSON",
    "lcov": "a file, LCOV tracefile (llvm-cov export -format=lcov)",
    "text": "a summary table per file on stdout: covered/total and % for each metric",
}


@dataclass(frozen=True)
class Report:
    """What to render: profiles, objects (found when empty), format and output."""

    profiles: tuple[Path, ...]
    objects: tuple[Path, ...]
    fmt: str
    output: Path | None


def _raw_version(path: Path) -> int:
    """The raw version of ``path``, after checking the whole file is well formed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror}"
        raise NotFoundError(msg) from exc
    try:
        return decode(data).version
    except FormatError as exc:
        msg = f"{path}: {exc}"
        raise FormatError(msg) from exc


def _major_of(path: Path, object_majors: set[int]) -> int:
    """The LLVM major that must read ``path``.

    The one gen noted beside it, else the one that built the objects given, else the
    newest installed that writes its raw version.
    """
    version = _raw_version(path)
    layout = LAYOUTS.get(version)
    if layout is None:
        msg = f"{path}: raw profile version {version}, which no supported LLVM writes"
        raise FormatError(msg)
    noted = read_sidecar(path).get("llvm_major")
    if isinstance(noted, int):
        if noted not in layout.llvm_majors:
            msg = f"{path}: raw version {version} does not belong to LLVM {noted}"
            raise FormatError(msg)
        return noted
    candidates = [n for n in layout.llvm_majors if n in object_majors]
    if not candidates:
        candidates = [n for n in layout.llvm_majors if n in toolchain.installed_majors()]
    return candidates[-1] if candidates else layout.llvm_majors[-1]


def _objects(report: Report) -> list[Path]:
    if report.objects:
        objects = list(report.objects)
    else:
        found: dict[str, None] = {}
        for profile in report.profiles:
            obj = read_sidecar(profile).get("object")
            if not isinstance(obj, str) or not obj:
                msg = f"{profile}: which object it belongs to is not known; give --object X.bpf.obj"
                raise NotFoundError(msg)
            found[obj] = None
        objects = [Path(o) for o in found]
    return objects


def _check_objects(objects: list[Path], major: int) -> None:
    for obj in objects:
        built_by = mapping_object_info(obj).llvm_major
        if built_by != major:
            msg = (
                f"{obj} was built by LLVM {built_by} but the profiles are from LLVM {major}; "
                "give the matching --object, or rebuild"
            )
            raise BpfcovError(msg)


def render(report: Report) -> str:
    """Merges the profiles and renders them; returns what goes to stdout."""
    given = {obj: mapping_object_info(obj).llvm_major for obj in report.objects}
    majors = {p: _major_of(p, set(given.values())) for p in report.profiles}
    distinct = sorted(set(majors.values()))
    if len(distinct) > 1:
        msg = (
            f"profiles from LLVM {' and '.join(map(str, distinct))} cannot be merged; "
            "run bpfcov out once per LLVM"
        )
        raise BpfcovError(msg)
    chain = toolchain.Toolchain(distinct[0])
    # Missing tools are reported first: their fix is one apt line.
    profdata, _ = chain.llvm_profdata, chain.llvm_cov
    objects = _objects(report)
    _check_objects(objects, chain.major)
    with tempfile.TemporaryDirectory(prefix="bpfcov-out-") as work:
        merged = Path(work) / "merged.profdata"
        Run(what="merging the profiles").capture(
            [profdata, "merge", "-sparse", *report.profiles, "-o", merged]
        )
        object_args: list[str | Path] = [objects[0]]
        for extra in objects[1:]:
            object_args += ["-object", extra]
        common = [*object_args, f"-instr-profile={merged}"]
        return _render(chain, report, common, Path(work))


def _render(
    chain: toolchain.Toolchain, report: Report, common: list[str | Path], work: Path
) -> str:
    cov = chain.llvm_cov
    what = Run(what=f"writing the {report.fmt} report")
    if report.fmt == "text":
        out = summary_table(what.capture([cov, "export", "-summary-only", *common]))
        if report.output is not None:
            _replace(report.output, out.encode())
            return ""
        return out
    if report.output is None:
        msg = f"-f {report.fmt} needs -o: {FORMATS[report.fmt]}"
        raise BpfcovError(msg)
    if report.fmt == "html":
        staging = work / "html"
        what.capture(
            [
                cov,
                "show",
                "-format=html",
                "-show-branches=count",
                "-show-line-counts-or-regions",
                *(["-show-mcdc"] if chain.major >= MCDC_LLVM else []),
                f"-output-dir={staging}",
                *common,
            ]
        )
        _replace_dir(report.output, staging)
        return ""
    export_format = "lcov" if report.fmt == "lcov" else "text"
    out = what.capture([cov, "export", f"-format={export_format}", *common])
    _replace(report.output, out.encode())
    return ""


#: The metrics of the summary table, as llvm-cov export names them.
_METRICS = ("functions", "lines", "regions", "branches")


def _shown_path(filename: str) -> str:
    """A source path as short as it is unambiguous: relative to here when below it."""
    path = Path(filename)
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return filename


def summary_table(export_json: str) -> str:
    """llvm-cov export's JSON as a table: a row per file and a total row."""
    data = json.loads(export_json)["data"][0]
    rows = [(_shown_path(f["filename"]), f["summary"]) for f in data["files"]]
    rows.append(("TOTAL", data["totals"]))

    def cell(summary: dict[str, dict[str, float]], metric: str) -> str:
        m = summary[metric]
        if not m["count"]:
            return "-"
        return f"{m['covered']}/{m['count']} {m['percent']:6.2f}%"

    table = [["File", *(m.capitalize() for m in _METRICS)]]
    table += [[name, *(cell(summary, m) for m in _METRICS)] for name, summary in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines) + "\n"


def _replace(path: Path, data: bytes) -> None:
    """Writes ``path`` whole or not at all."""
    tmp = path.with_name(f".{path.name}.bpfcov.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _replace_dir(path: Path, staged: Path) -> None:
    """Moves the finished ``staged`` directory to ``path``, replacing an old report."""
    tmp = path.with_name(f".{path.name}.bpfcov.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(staged, tmp)
    if path.exists():
        old = path.with_name(f".{path.name}.bpfcov.old")
        path.replace(old)
        tmp.replace(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.replace(path)
