"""``bpfcov out``: merge raw profiles and render them with llvm-cov.

Profiles and objects must all come from one LLVM major (each llvm-profdata reads
only its own raw version, each llvm-cov only as new a profile as its own). The
object of each profile is the one ``bpfcov gen`` noted beside it, unless given.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bpfcov_build import fsutil, sidecar, sources, toolchain
from bpfcov_build.errors import BpfcovError, FormatError, NotFoundError, UsageError
from bpfcov_build.layout import ObjectInfo, mapping_object_info
from bpfcov_build.proc import Run
from bpfcov_build.profraw import decode

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "FORMATS",
    "MCDC_LLVM",
    "METRICS",
    "Rendered",
    "Report",
    "markdown_table",
    "render",
    "summary_line",
    "summary_table",
]

log = logging.getLogger("bpfcov")

#: The first LLVM whose llvm-cov shows MC/DC (clang's -fcoverage-mcdc).
MCDC_LLVM = 18

#: From this many profiles on, merging takes a while: say so on stderr.
_PROGRESS_PROFILES = 20

#: The metrics of the summary table and of --fail-under-*, as llvm-cov export names them.
METRICS = ("functions", "lines", "regions", "branches")


@dataclass(frozen=True)
class Report:
    """What to render: profiles, objects (found when empty), formats and output."""

    profiles: tuple[Path, ...]
    objects: tuple[Path, ...]
    formats: tuple[str, ...]
    output: Path | None
    show_functions: bool = False
    path_equivalence: str | None = None
    """``FROM,TO``: sources built under FROM are read from TO."""
    ignore_mismatch: bool = False
    """Report profiles whose functions differ from the objects' (a warning only)."""
    sources: sources.SourceFilter = field(default_factory=sources.SourceFilter)
    """Which source files count (by default the user's, not system or libbpf headers)."""


@dataclass(frozen=True)
class Rendered:
    """What rendering leaves for the command: stdout text and the coverage totals."""

    stdout: str
    totals: dict[str, dict[str, float]]
    left_out: dict[str, str] = field(default_factory=dict)
    """The source files left out of the report, each with why."""


def _raw_version(path: Path) -> int:
    """The raw version of ``path``, after checking the whole file is well formed."""
    try:
        data = path.read_bytes()
    except PermissionError:
        msg = (
            f"{path}: cannot read: permission denied; a profile bpfcov gen wrote as root is "
            "root's: run gen with sudo (it then writes it as yours), or chown it"
        )
        raise BpfcovError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror}"
        raise NotFoundError(msg) from exc
    try:
        return decode(data).version
    except FormatError as exc:
        msg = f"{path}: {exc}"
        raise FormatError(msg) from exc


def _major_of(path: Path, objects: dict[Path, ObjectInfo]) -> int:
    """The LLVM major that must read ``path``.

    The one gen noted beside it, else the newest that built one of the objects given
    and writes the profile's raw version (each object records both).
    """
    version = _raw_version(path)
    noted = sidecar.read(path).get("llvm_major")
    if isinstance(noted, int):
        return noted
    candidates = sorted(i.llvm_major for i in objects.values() if i.raw_version == version)
    if candidates:
        return candidates[-1]
    if objects:
        built = ", ".join(
            f"{obj} by LLVM {i.llvm_major} (raw version {i.raw_version})"
            for obj, i in objects.items()
        )
        msg = f"{path}: raw profile version {version}, but the objects given were built: {built}"
        raise BpfcovError(msg)
    msg = f"{path}: which object it belongs to is not known; give --object X.bpf.obj"
    raise NotFoundError(msg)


def _objects(report: Report) -> list[Path]:
    if report.objects:
        objects = list(report.objects)
    else:
        found: dict[str, None] = {}
        for profile in report.profiles:
            noted = sidecar.objects(profile)
            if not noted:
                msg = f"{profile}: which object it belongs to is not known; give --object X.bpf.obj"
                raise NotFoundError(msg)
            found.update(dict.fromkeys(noted))
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


def _check_functions(report: Report, objects: list[Path]) -> None:
    """Refuses profiles whose functions the objects do not have, hash for hash.

    llvm-cov shows such functions as never run (a rebuilt source has new hashes),
    which reads as a true 0%; here it is one line naming the profile and object.
    """
    from bpfcov_build import covmap

    mappings = covmap.read_mappings(objects)
    names = {name_ref for name_ref, _ in mappings}
    where = str(objects[0]) + (f" (and {len(objects) - 1} more)" if len(objects) > 1 else "")
    for profile in report.profiles:
        records = decode(profile.read_bytes()).records
        # Functions of system headers have counters but no mapping: not a mismatch.
        changed = [
            r for r in records if r.name_ref in names and (r.name_ref, r.func_hash) not in mappings
        ]
        if changed:
            why, count = "their source changed after the run", len(changed)
        elif records and not any((r.name_ref, r.func_hash) in mappings for r in records):
            why, count = "the profile is of another object", len(records)
        else:
            continue
        msg = (
            f"{profile}: {count} of {len(records)} functions do not match {where} "
            f"({why}); report the object the run loaded (--object), rebuild and run "
            "again, or give --ignore-mismatch"
        )
        if not report.ignore_mismatch:
            raise FormatError(msg)
        log.warning("%s", msg.split("; ", 1)[0] + "; their counts are left out")


def render(report: Report) -> Rendered:
    """Merges the profiles and writes every format asked for."""
    targets = _targets(report)
    given = {obj: mapping_object_info(obj) for obj in report.objects}
    majors = {p: _major_of(p, given) for p in report.profiles}
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
    _check_functions(report, objects)
    with tempfile.TemporaryDirectory(prefix="bpfcov-out-") as tmp:
        work = Path(tmp)
        merged = work / "merged.profdata"
        if len(report.profiles) >= _PROGRESS_PROFILES:
            log.warning("merging %d profiles ...", len(report.profiles))
        Run(what="merging the profiles").capture(
            [profdata, "merge", "-sparse", *report.profiles, "-o", merged]
        )
        object_args: list[str | Path] = [objects[0]]
        for extra in objects[1:]:
            object_args += ["-object", extra]
        if report.path_equivalence:
            object_args.append(f"-path-equivalence={report.path_equivalence}")
        common = [*object_args, f"-instr-profile={merged}"]
        cov = chain.llvm_cov

        def summed_up() -> dict[str, Any]:
            mode = "-summary-only" if not report.show_functions else "-format=text"
            export: dict[str, Any] = json.loads(
                Run(what="summing up coverage").capture([cov, "export", mode, *common])
            )
            return export

        export = summed_up()
        left_out = _left_out(export, report.sources, chain)
        if left_out:
            common += [f"-ignore-filename-regex={sources.ignore_regex(f)}" for f in left_out]
            export = summed_up()
        if len(targets) > 1 and report.output is not None:
            fsutil.ensure_dir(report.output)
        context = _Context(report, chain, common, export, work, several=len(targets) > 1)
        stdout = "".join(FORMATS[fmt].write(context, target) for fmt, target in targets.items())
        return Rendered(stdout, export["data"][0]["totals"], left_out)


def _left_out(
    export: dict[str, Any], chosen: sources.SourceFilter, chain: toolchain.Toolchain
) -> dict[str, str]:
    """The files of ``export`` the report leaves out; one line if that is all of them."""
    files = [f["filename"] for f in export["data"][0]["files"]]
    try:
        clang: str | None = str(chain.clang)
    except NotFoundError:
        clang = None
    out = sources.left_out(files, chosen, sources.system_include_dirs(clang))
    if files and len(out) == len(files):
        reasons = ", ".join(sorted(set(out.values())))
        msg = (
            f"every source file was left out ({reasons}): check --include/--exclude, "
            "or count system and libbpf headers with --include-system"
        )
        raise BpfcovError(msg)
    return out


def _targets(report: Report) -> dict[str, Path | None]:
    """Where each format goes: -o itself for one format, files in -o for several."""
    unknown = [f for f in report.formats if f not in FORMATS]
    if unknown:
        msg = f"unknown format {unknown[0]!r}; formats: {', '.join(FORMATS)}"
        raise UsageError(msg)
    if len(report.formats) == 1:
        (fmt,) = report.formats
        if report.output is None and not FORMATS[fmt].to_stdout:
            msg = f"-f {fmt} needs -o: {FORMATS[fmt].help}"
            raise UsageError(msg)
        return {fmt: report.output}
    if report.output is None:
        msg = "several formats need -o DIR: each is written there under its own name"
        raise UsageError(msg)
    return {fmt: report.output / FORMATS[fmt].filename for fmt in dict.fromkeys(report.formats)}


def to_cobertura(lcov: str) -> str:
    """An LCOV tracefile as Cobertura XML (with lcov_cobertura)."""
    from lcov_cobertura import LcovCobertura

    return str(LcovCobertura(lcov, base_dir="/").convert())


def _shown_path(filename: str) -> str:
    """A source path as short as it is unambiguous: relative to here when below it."""
    path = Path(filename)
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return filename


def summary_table(export: dict[str, Any], *, show_functions: bool = False) -> str:
    """llvm-cov export's JSON as a table: a row per file and a total row.

    With ``show_functions``, then a row per function: its count, regions and branches.
    """
    data = export["data"][0]
    rows = [(_shown_path(f["filename"]), f["summary"]) for f in data["files"]]
    rows.append(("TOTAL", data["totals"]))
    table = [["File", *(m.capitalize() for m in METRICS)]]
    table += [[name, *(_cell(summary.get(m)) for m in METRICS)] for name, summary in rows]
    text = _aligned(table, total_row=True)
    if show_functions:
        functions = [["Function", "Count", "Regions", "Branches"]]
        for f in data["functions"]:
            regions = [r for r in f["regions"] if r[7] == 0]  # code regions
            outcomes = [n for b in f["branches"] for n in (b[4], b[5])]
            functions.append(
                [
                    f["name"],
                    str(f["count"]),
                    _cell(_metric(sum(1 for r in regions if r[4]), len(regions))),
                    _cell(_metric(sum(1 for n in outcomes if n), len(outcomes))),
                ]
            )
        text += "\n" + _aligned(functions, total_row=False)
    return text


def markdown_table(export: dict[str, Any]) -> str:
    """llvm-cov export's JSON as a Markdown table: a row per file, then the total."""
    data = export["data"][0]
    rows = [(f"`{_shown_path(f['filename'])}`", f["summary"]) for f in data["files"]]
    rows.append(("**Total**", data["totals"]))
    lines = [
        "| File | " + " | ".join(m.capitalize() for m in METRICS) + " |",
        "|:---|" + "---:|" * len(METRICS),
    ]
    for name, summary in rows:
        cells = [_md_cell(summary.get(m)) for m in METRICS]
        if name == "**Total**":
            cells = [f"**{c}**" if c != "-" else c for c in cells]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary_line(totals: dict[str, dict[str, float]]) -> str:
    """The totals in one line, for a CI log: each metric's percentage and counts."""
    parts = [
        f"{m} {totals[m]['percent']:.2f}% ({int(totals[m]['covered'])}/{int(totals[m]['count'])})"
        for m in METRICS
        if totals.get(m, {}).get("count")
    ]
    return "coverage: " + (", ".join(parts) if parts else "nothing to count")


def _metric(covered: int, count: int) -> dict[str, float]:
    return {
        "covered": covered,
        "count": count,
        "percent": 100.0 * covered / count if count else 0.0,
    }


def _md_cell(metric: dict[str, float] | None) -> str:
    if not metric or not metric["count"]:
        return "-"
    return f"{metric['percent']:.2f}% ({int(metric['covered'])}/{int(metric['count'])})"


def _cell(metric: dict[str, float] | None) -> str:
    if not metric or not metric["count"]:
        return "-"
    return f"{int(metric['covered'])}/{int(metric['count'])} {metric['percent']:6.2f}%"


def _aligned(table: list[list[str]], *, total_row: bool) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    if total_row:
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# The formats: each a file name, a line of help and a writer.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What a format's writer works from, once the profiles are merged."""

    report: Report
    chain: toolchain.Toolchain
    common: list[str | Path]
    """llvm-cov's arguments that name the objects and the merged profile."""
    export: dict[str, Any]
    """llvm-cov's summary export, for the tables."""
    work: Path
    several: bool
    """Whether several formats are written at once (tables then also go to stdout)."""


def _replace(path: Path, data: bytes, fmt: str) -> None:
    """Writes the ``fmt`` report at ``path`` whole; never over a file of the user's."""
    ours = FORMATS[fmt].ours or _never
    fsutil.replace_file(path, data, what=f"{fmt} report", ours=ours)


def _never(_head: bytes) -> bool:
    return False


def _table(fmt: str, make: Callable[[_Context], str]) -> Callable[[_Context, Path | None], str]:
    """A writer of a table: to the file if any, and to stdout unless only to a file."""

    def write(ctx: _Context, target: Path | None) -> str:
        table = make(ctx)
        if target is not None:
            _replace(target, table.encode(), fmt)
        return table if target is None or ctx.several else ""

    return write


def _export(
    fmt: str, export_format: str, convert: Callable[[str], str] = str
) -> Callable[[_Context, Path | None], str]:
    """A writer of one of llvm-cov export's formats (converted, for Cobertura)."""

    def write(ctx: _Context, target: Path | None) -> str:
        run = Run(what=f"writing the {fmt} report")
        out = run.capture([ctx.chain.llvm_cov, "export", f"-format={export_format}", *ctx.common])
        _replace(_needs(target), convert(out).encode(), fmt)
        return ""

    return write


def _html(ctx: _Context, target: Path | None) -> str:
    staging = ctx.work / "html"
    Run(what="writing the html report").capture(
        [
            ctx.chain.llvm_cov,
            "show",
            "-format=html",
            "-show-branches=count",
            "-show-line-counts-or-regions",
            *(["-show-mcdc"] if ctx.chain.major >= MCDC_LLVM else []),
            f"-output-dir={staging}",
            *ctx.common,
        ]
    )
    fsutil.replace_dir(_needs(target), staging, what="HTML report")
    return ""


def _needs(target: Path | None) -> Path:
    """The target of a format that is only ever a file (``_targets`` saw to it)."""
    if target is None:
        msg = "this format needs -o"
        raise UsageError(msg)
    return target


@dataclass(frozen=True)
class Format:
    """One output format of ``bpfcov out``."""

    filename: str
    """Its name in the -o directory when several formats are asked for at once."""
    help: str
    write: Callable[[_Context, Path | None], str]
    """Writes it at the target (None: stdout); returns what goes to stdout."""
    ours: Callable[[bytes], bool] | None = None
    """Whether an existing file's first bytes are a report of this format, which -o
    may then replace (a file of the user's is never overwritten)."""
    to_stdout: bool = False
    """Whether it goes to stdout when there is no -o."""


#: The output formats, in --help's order.
FORMATS: dict[str, Format] = {
    "html": Format(
        "html", "a directory of annotated sources, with branch counts (and MC/DC)", _html
    ),
    "json": Format(
        "coverage.json",
        "llvm-cov export's JSON",
        _export("json", "text"),
        ours=lambda head: head.startswith(b'{"data":'),
    ),
    "lcov": Format(
        "coverage.lcov",
        "an LCOV tracefile (genhtml, Codecov, Coveralls)",
        _export("lcov", "lcov"),
        ours=lambda head: head.startswith((b"SF:", b"TN:")),
    ),
    "cobertura": Format(
        "cobertura.xml",
        "Cobertura XML (GitLab, Jenkins)",
        _export("cobertura", "lcov", convert=to_cobertura),
        ours=lambda head: head.startswith(b"<?xml") and b"<coverage" in head,
    ),
    "text": Format(
        "summary.txt",
        "a summary table per file, on stdout unless -o",
        _table(
            "text", lambda ctx: summary_table(ctx.export, show_functions=ctx.report.show_functions)
        ),
        ours=lambda head: head.startswith(b"File ") and b"Functions" in head.split(b"\n")[0],
        to_stdout=True,
    ),
    "markdown": Format(
        "coverage.md",
        "the table in Markdown (pull requests, CI job summaries)",
        _table("markdown", lambda ctx: markdown_table(ctx.export)),
        ours=lambda head: head.startswith(b"| File |"),
        to_stdout=True,
    ),
}
