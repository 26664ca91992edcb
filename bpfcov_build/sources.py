"""Which source files a report is about: the user's, unless asked for more.

A BPF object's coverage mapping covers every file that contributed code: the
program's own sources, but also libbpf's headers (``bpf_helpers.h`` brings inline
functions such as ``bpf_tail_call_static`` and the macro behind ``bpf_printk``),
system headers and a generated ``vmlinux.h``. Left in, those make a fully run
program look partly covered. By default a report leaves out:

- files under the system include directories clang searches (``clang -v``),
  plus the usual ones when that clang is not installed;
- libbpf's headers wherever they are: a file named as one of them, in a
  directory named ``bpf`` (libbpf-bootstrap copies them to ``.output/bpf/``);
- ``vmlinux.h`` (and ``vmlinux_<suffix>.h``), as ``bpftool btf dump`` makes it.

``--include-system`` keeps them. ``--include``/``--exclude`` (globs) and
``--include-regex``/``--exclude-regex`` (Python regexes, searched in the absolute
path, as llvm-cov's ``-ignore-filename-regex`` and gcovr's ``--filter`` and
``--exclude`` are) choose among the files; a file an ``--include`` names is kept
even when it is a header of the kinds above. The choice is made here, file by
file, and given to llvm-cov as one anchored ``-ignore-filename-regex`` per file
left out, so totals, files, thresholds and every format agree.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bpfcov_build.errors import UsageError

__all__ = [
    "LIBBPF_HEADERS",
    "SYSTEM_DIRS",
    "SourceFilter",
    "ignore_regex",
    "left_out",
    "system_include_dirs",
    "why_left_out",
]

log = logging.getLogger("bpfcov")

#: The headers libbpf installs for BPF programs (its ``src/*.h`` meant for BPF C).
LIBBPF_HEADERS = frozenset(
    {
        "bpf_helpers.h",
        "bpf_helper_defs.h",
        "bpf_tracing.h",
        "bpf_core_read.h",
        "bpf_endian.h",
        "usdt.bpf.h",
    }
)

#: Where system headers live when clang cannot be asked.
SYSTEM_DIRS = ("/usr/include", "/usr/local/include", "/usr/lib/llvm-*/lib/clang")

_VMLINUX = re.compile(r"vmlinux(_[\w.-]+)?\.h")
_SEARCH_START = "#include <...> search starts here:"
_SEARCH_END = "End of search list."


@dataclass(frozen=True)
class SourceFilter:
    """What a report counts: the patterns given, and whether system files count."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_regex: tuple[str, ...] = ()
    exclude_regex: tuple[str, ...] = ()
    include_system: bool = False

    def __post_init__(self) -> None:
        for pattern in (*self.include_regex, *self.exclude_regex):
            try:
                re.compile(pattern)
            except re.error as exc:
                msg = f"bad regex {pattern!r}: {exc}"
                raise UsageError(msg) from None


@functools.cache
def system_include_dirs(clang: str | None) -> tuple[str, ...]:
    """The directories ``clang`` searches for ``<...>`` headers, BPF target and host."""
    found: dict[str, None] = {}
    for target in (["-target", "bpf"], []):
        if clang is None:
            break
        try:
            err = subprocess.run(  # noqa: S603 - a fixed argv
                [clang, *target, "-E", "-x", "c", "-v", "-", "-o", "/dev/null"],
                input="",
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            ).stderr
        except (OSError, subprocess.TimeoutExpired):
            break
        lines = err.splitlines()
        if _SEARCH_START in lines:
            start = lines.index(_SEARCH_START) + 1
            end = lines.index(_SEARCH_END) if _SEARCH_END in lines else len(lines)
            for line in lines[start:end]:
                found[str(Path(line.strip()).resolve())] = None
    return tuple(found) + SYSTEM_DIRS


def _under(path: str, dirs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, f"{d.rstrip('/')}/*") for d in dirs)


def why_left_out(path: str, system_dirs: tuple[str, ...]) -> str | None:
    """Why ``path`` is not the user's own code by default; None when it is."""
    pure = PurePosixPath(path)
    if pure.name in LIBBPF_HEADERS and pure.parent.name == "bpf":
        return "libbpf header"
    if _VMLINUX.fullmatch(pure.name):
        return "vmlinux.h"
    if _under(path, system_dirs) or _under(str(Path(path).resolve()), system_dirs):
        return "system header"
    return None


def _glob_matches(pattern: str, path: str) -> bool:
    if "/" not in pattern:
        return fnmatch.fnmatchcase(PurePosixPath(path).name, pattern)
    candidates = [path]
    if not pattern.startswith(("/", "*")):
        with contextlib.suppress(ValueError):
            candidates.append(str(Path(path).relative_to(Path.cwd())))
    return any(fnmatch.fnmatchcase(c, pattern) for c in candidates)


def left_out(
    files: list[str], chosen: SourceFilter, system_dirs: tuple[str, ...]
) -> dict[str, str]:
    """The files of ``files`` a report leaves out, each with why."""
    out: dict[str, str] = {}
    for path in files:
        included = any(_glob_matches(p, path) for p in chosen.include) or any(
            re.search(r, path) for r in chosen.include_regex
        )
        if (chosen.include or chosen.include_regex) and not included:
            out[path] = "not --include'd"
            continue
        if any(_glob_matches(p, path) for p in chosen.exclude) or any(
            re.search(r, path) for r in chosen.exclude_regex
        ):
            out[path] = "--exclude'd"
            continue
        if not chosen.include_system and not included:
            why = why_left_out(path, system_dirs)
            if why is not None:
                out[path] = why
    for path, why in out.items():
        log.info("left out of the report: %s (%s)", path, why)
    return out


#: What POSIX extended regexes (llvm-cov's) treat as special.
_ERE_SPECIAL = frozenset(".[]()*+?{}|^$\\")


def ignore_regex(path: str) -> str:
    """An llvm-cov ``-ignore-filename-regex`` that matches ``path`` and nothing else."""
    return "^" + "".join(f"\\{c}" if c in _ERE_SPECIAL else c for c in path) + "$"
