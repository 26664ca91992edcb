"""Finding the LLVM tools of one major version, and the plugin built for it.

clang, llvm-profdata and llvm-cov must all come from the same LLVM major
as the plugin: each LLVM reads only its own raw profiles, and a plugin can only be
loaded into the LLVM it was built against. A :class:`Toolchain` is one major; tools
are looked up when first asked for, and a missing one raises
:class:`~bpfcov_build.errors.NotFoundError` naming the Debian package to install.

Which major bpfcov uses, first match wins:

1. an explicit major (``bpfcov-cc --bpfcov-llvm=N``, ``bpfcov ... --llvm N``);
2. ``BPFCOV_CLANG``: a clang (name or path), whose own ``--version`` gives the major;
3. ``BPFCOV_LLVM``: a major;
4. the newest LLVM that has both clang and a bpfcov plugin installed.

Plugins are installed in the package (``bpfcov_build/plugins/llvm-N/``);
``BPFCOV_PLUGIN_DIR`` points at another tree of the same shape.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bpfcov_build import cc_options, contract
from bpfcov_build.errors import BpfcovError, NotFoundError

# bpfcov-cc imports this module on every compiler call, so it imports only what
# that needs; clang_major() imports the rest when asked.

__all__ = [
    "MIN_LLVM",
    "Toolchain",
    "clang_major",
    "installed_majors",
    "plugin_majors",
    "plugin_root",
    "select",
]

#: The oldest LLVM major bpfcov supports.
MIN_LLVM = contract.VALUES["MinLLVMMajor"]
_PROBE = range(MIN_LLVM, cc_options.VALUES["MaxProbedMajor"] + 1)

#: Debian package that ships each tool of LLVM N.
_PACKAGE = {
    "clang": "clang-{n}",
    "llvm-profdata": "llvm-{n}",
    "llvm-cov": "llvm-{n}",
    "llvm-readelf": "llvm-{n}",
    "FileCheck": "llvm-{n}-tools",
}

_PLUGIN_FILE = cc_options.STRINGS["PluginFile"]
#: Installed instead of the plugin for a major whose development files were found
#: but could not build it (CMakeLists.txt, BPFCOV_UNUSABLE_NOTE): the reason.
_UNUSABLE_NOTE = "unusable.txt"


def plugin_root() -> Path:
    """The directory that holds ``llvm-N/libBPFCov.so`` for each built major."""
    override = os.environ.get("BPFCOV_PLUGIN_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "plugins"


def plugin_majors() -> list[int]:
    """The LLVM majors a plugin was built for, ascending."""
    root = plugin_root()
    majors = []
    for n in _PROBE:
        if (root / f"llvm-{n}" / _PLUGIN_FILE).is_file():
            majors.append(n)
    return majors


def _bindir(major: int) -> Path:
    return Path(f"/usr/lib/llvm-{major}/bin")


def _which(tool: str, major: int) -> Path | None:
    """``tool`` of LLVM ``major``: Debian's /usr/lib/llvm-N/bin, else tool-N on PATH."""
    candidate = _bindir(major) / tool
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(f"{tool}-{major}")
    return Path(found) if found else None


def _packaged(package: str) -> bool | None:
    """Whether apt could install ``package`` here; None when apt cannot be asked."""
    import subprocess

    apt_cache = shutil.which("apt-cache")
    if apt_cache is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - a fixed argv
            [apt_cache, "policy", package], capture_output=True, text=True, check=False, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    candidate = re.search(r"Candidate:\s*(\S+)", out)
    return candidate is not None and candidate.group(1) != "(none)"


def installed_majors() -> list[int]:
    """The LLVM majors (>= 14) whose clang is installed, ascending."""
    return [n for n in _PROBE if _which("clang", n)]


_VERSION_RE = re.compile(r"clang version (\S+)")


def clang_major(clang: str | os.PathLike[str]) -> int:
    """The LLVM major of a clang, read from its own ``--version``."""
    import subprocess

    from packaging.version import InvalidVersion, Version

    path = shutil.which(os.fspath(clang))
    if path is None:
        msg = f"{os.fspath(clang)}: clang not found"
        raise NotFoundError(msg)
    out = subprocess.run(  # noqa: S603 - a fixed argv
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = _VERSION_RE.search(out)
    if match is None:
        msg = f"{path}: not a clang (its --version does not say 'clang version N')"
        raise BpfcovError(msg)
    try:
        return Version(match.group(1).split("-")[0]).major
    except InvalidVersion as exc:
        msg = f"{path}: cannot read the version in {match.group(0)!r}"
        raise BpfcovError(msg) from exc


@dataclass(frozen=True)
class Toolchain:
    """The tools of one LLVM major, and the plugin built for it."""

    major: int
    clang_override: Path | None = None
    """The clang to use when it is not the major's default one (``BPFCOV_CLANG``)."""

    def tool(self, name: str) -> Path:
        """The path of ``name`` (``clang``, ``opt``, ...) of this major."""
        if name == "clang" and self.clang_override is not None:
            return self.clang_override
        found = _which(name, self.major)
        if found is None:
            package = _PACKAGE.get(name, "llvm-{n}").format(n=self.major)
            if _packaged(package) is not False:
                msg = f"{name}-{self.major} not found; install it with: apt-get install {package}"
                raise NotFoundError(msg)
            clangs = installed_majors()
            here = [n for n in plugin_majors() if n in clangs] or clangs
            instead = (
                f"LLVM here: {', '.join(map(str, here))} (e.g. BPFCOV_LLVM={here[-1]})"
                if here
                else "no LLVM is installed here"
            )
            msg = (
                f"{name}-{self.major} not found, and this system's apt sources have no "
                f"{package} package; {instead}"
            )
            raise NotFoundError(msg)
        return found

    @property
    def clang(self) -> Path:
        """clang of this major."""
        return self.tool("clang")

    @property
    def llvm_profdata(self) -> Path:
        """llvm-profdata of this major."""
        return self.tool("llvm-profdata")

    @property
    def llvm_cov(self) -> Path:
        """llvm-cov of this major."""
        return self.tool("llvm-cov")

    @property
    def plugin(self) -> Path:
        """The bpf-cov pass plugin built for this major."""
        path = plugin_root() / f"llvm-{self.major}" / _PLUGIN_FILE
        if not path.is_file():
            built = ", ".join(map(str, plugin_majors())) or "none"
            try:
                reason = (path.parent / _UNUSABLE_NOTE).read_text().strip()
            except OSError:
                fix = f"install llvm-{self.major}-dev"
            else:
                fix = f"its development files could not build one ({reason}); fix that"
            msg = (
                f"no bpf-cov plugin for LLVM {self.major} (built for: {built}); "
                f"{fix}, then reinstall bpfcov"
            )
            raise NotFoundError(msg)
        return path


def select(major: int | None = None) -> Toolchain:
    """The toolchain to use, chosen as the module docstring says."""
    if major is not None:
        return _checked(major)
    clang = os.environ.get("BPFCOV_CLANG")
    if clang:
        resolved = shutil.which(clang)
        if resolved is None:
            msg = f"BPFCOV_CLANG={clang}: no such clang"
            raise NotFoundError(msg)
        return Toolchain(_checked(clang_major(resolved)).major, Path(resolved))
    env_major = os.environ.get("BPFCOV_LLVM")
    if env_major:
        if not env_major.isdigit():
            msg = f"BPFCOV_LLVM={env_major}: expected an LLVM major such as 19"
            raise BpfcovError(msg)
        return _checked(int(env_major))
    usable = [n for n in plugin_majors() if _which("clang", n)]
    if usable:
        return Toolchain(usable[-1])
    clangs = installed_majors()
    if not clangs:
        msg = (
            f"no clang (LLVM {MIN_LLVM} or newer) found; install one with: apt-get install clang-19"
        )
        raise NotFoundError(msg)
    # A clang without a plugin still serves pass-through; BPF compiles then
    # fail with the plugin's own message.
    return Toolchain(clangs[-1])


def _checked(major: int) -> Toolchain:
    if major < MIN_LLVM:
        msg = f"LLVM {major} is not supported; bpfcov supports LLVM {MIN_LLVM} and newer"
        raise BpfcovError(msg)
    return Toolchain(major)
