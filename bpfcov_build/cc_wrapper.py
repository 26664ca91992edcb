"""``bpfcov-cc``: a drop-in for clang that instruments BPF objects for coverage.

A compile of C to an object for the BPF target (``-target bpf|bpfel|bpfeb`` or
``--target=...``, with ``-c``) becomes::

    clang <your flags> -fprofile-instr-generate -fcoverage-mapping -emit-llvm  (once)
      ├─ opt -passes=bpf-cov<loadable> ─ llc ─▶ X.o    the object to load
      └─ opt -passes=bpf-cov<mapping>  ─ llc ─▶ X.obj  the object llvm-cov reads

Every other invocation (host compiles, links, ``-E``, ``-M``, ``-S``, ``--version``)
runs the real clang with the arguments untouched. ``BPFCOV_DISABLE=1`` makes every
invocation a pass-through. The real clang and its LLVM are chosen as
:mod:`bpfcov_build.toolchain` says; ``--bpfcov-llvm=N`` (removed before clang
sees the arguments) picks the major for one invocation.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from bpfcov_build import toolchain
from bpfcov_build.errors import BpfcovError, ToolFailedError
from bpfcov_build.proc import Run

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Compile", "classify", "main", "mapping_object_path"]

PROG = "bpfcov-cc"
log = logging.getLogger("bpfcov")

#: The triple architectures of the BPF target.
_BPF_ARCHES = frozenset({"bpf", "bpfel", "bpfeb"})
#: Options that take their value as the next argument.
_SEPARATE = frozenset(
    """-o -I -D -U -include -imacros -isystem -idirafter -iquote -isysroot
    -iprefix -iwithprefix -iwithprefixbefore -isystem-after -ivfsoverlay
    -include-pch -MF -MT -MQ -MJ -x -target -arch -Xclang -Xlinker -Xassembler
    -Xpreprocessor -Xanalyzer -mllvm -L -T -u -z -F -B -A -serialize-diagnostics
    -working-directory -resource-dir -dependency-file -main-file-name --param
    -framework -gcc-toolchain --sysroot -cxx-isystem""".split()
)
#: Options after which clang does not write an object for us to instrument.
_NO_OBJECT = frozenset({"-E", "-S", "-M", "-MM", "-fsyntax-only", "-emit-llvm", "-###"})
#: Source languages the front end instruments.
_C_SUFFIXES = frozenset({".c", ".i"})
_C_LANGUAGES = frozenset({"c", "cpp-output"})
#: The front end's flags that turn coverage on.
_COVERAGE_FLAGS = ("-fprofile-instr-generate", "-fcoverage-mapping")
#: clang's -O<level> → llc's code-generation level.
_OPT_LEVELS = {
    "0": "0",
    "1": "1",
    "2": "2",
    "3": "3",
    "s": "2",
    "z": "2",
    "fast": "3",
    "": "1",
    "g": "1",
}


def mapping_object_path(obj: Path) -> Path:
    """Where the mapping object of ``obj`` goes: ``foo.bpf.o`` → ``foo.bpf.obj``."""
    name = obj.name
    return obj.with_name(name + "bj" if name.endswith(".o") else name + ".obj")


def expand_response_files(args: Sequence[str], depth: int = 0) -> list[str]:
    """``args`` with every ``@file`` replaced by the arguments it holds."""
    out: list[str] = []
    for arg in args:
        if arg.startswith("@") and len(arg) > 1 and Path(arg[1:]).is_file() and depth < 16:
            text = Path(arg[1:]).read_text(encoding="utf-8", errors="surrogateescape")
            out.extend(expand_response_files(shlex.split(text), depth + 1))
        else:
            out.append(arg)
    return out


@dataclass
class Compile:
    """A clang invocation that compiles C sources to BPF objects."""

    args: list[str]
    """The expanded arguments, without the program name, inputs or ``-o``."""
    sources: list[str]
    output: str | None
    opt_level: str = "0"
    cpu: str | None = None
    mllvm: list[str] = field(default_factory=list)
    llc_flags: list[str] = field(default_factory=list)

    def object_for(self, source: str) -> Path:
        """The object clang would write for ``source``."""
        if self.output is not None:
            return Path(self.output)
        return Path(Path(source).stem + ".o")


def classify(args: Sequence[str]) -> Compile | None:
    """The BPF compile ``args`` asks for, or None when clang should run untouched."""
    triple = ""
    compile_only = False
    language = ""
    rest: list[str] = []
    sources: list[str] = []
    output: str | None = None
    compile_ = Compile(args=rest, sources=sources, output=None)
    it = iter(args)
    for arg in it:
        if arg in _SEPARATE:
            value = next(it, None)
            if value is None:
                return None  # clang reports the missing value
            if arg == "-o":
                output = value
                continue
            if arg == "-target":
                triple = value
            elif arg == "-x":
                language = value
            elif arg == "-mllvm":
                compile_.mllvm.append(value)
            rest.extend((arg, value))
            continue
        if arg.startswith("--target="):
            triple = arg.split("=", 1)[1]
        elif arg.startswith("-o") and len(arg) > 2:
            output = arg[2:]
            continue
        elif arg.startswith("-x") and len(arg) > 2:
            language = arg[2:]
        elif arg == "-c":
            compile_only = True
        elif arg in _NO_OBJECT or arg.startswith(("-fprofile-generate", "-flto")):
            return None
        elif arg.startswith("-O"):
            compile_.opt_level = _OPT_LEVELS.get(arg[2:], "2")
        elif arg.startswith("-mcpu="):
            compile_.cpu = arg.split("=", 1)[1]
        elif arg in ("-ffunction-sections", "-fdata-sections"):
            compile_.llc_flags.append("--" + arg[3:])
        elif arg == "-" or not arg.startswith("-"):
            if language and language != "none":
                is_c = language in _C_LANGUAGES
            else:
                is_c = Path(arg).suffix in _C_SUFFIXES
            if not is_c:
                return None
            sources.append(arg)
            continue
        rest.append(arg)
    if triple.split("-", 1)[0] not in _BPF_ARCHES or not compile_only or not sources:
        return None
    if output is not None and len(sources) > 1:
        return None  # clang reports "cannot specify -o when generating multiple output files"
    compile_.output = output
    return compile_


def _dependency_flags(compile_: Compile, obj: Path) -> list[str]:
    """-MF/-MT naming the real object, since the front end writes a temporary file."""
    args = compile_.args
    if not any(a in ("-MD", "-MMD") for a in args):
        return []
    flags = []
    if not any(a.startswith("-MF") for a in args):
        flags += ["-MF", str(obj.with_suffix(".d"))]
    if not any(a.startswith(("-MT", "-MQ")) for a in args):
        flags += ["-MT", str(obj)]
    return flags


@dataclass
class _Pipeline:
    """The steps after the front end, for one source."""

    chain: toolchain.Toolchain
    compile_: Compile
    source: str
    obj: Path

    def llc_args(self) -> list[str]:
        args = [f"-O{self.compile_.opt_level}", "-filetype=obj", *self.compile_.llc_flags]
        if self.compile_.cpu:
            args.append(f"-mcpu={self.compile_.cpu}")
        return args + self.compile_.mllvm

    def passes(self, mode: str) -> str:
        if mode == "mapping":
            return "bpf-cov<mapping>"
        path = mapping_object_path(self.obj).absolute()
        return f"bpf-cov<loadable;object={bytes(path).hex()}>"

    def run(self, workdir: Path) -> None:
        front = workdir / "front.bc"
        extra = [*_COVERAGE_FLAGS, "-emit-llvm", *_dependency_flags(self.compile_, self.obj)]
        front_cmd: list[str | os.PathLike[str]] = [
            self.chain.clang,
            *self.compile_.args,
            *extra,
            self.source,
            "-o",
            front,
        ]
        log.info("+ %s", shlex.join(map(str, front_cmd)))
        status = _call(front_cmd)
        if status != 0:
            raise ToolFailedError("", status)  # clang's diagnostics are already shown

        # The mapping object first: once X.o is new, X.obj is already in place.
        targets = {"mapping": mapping_object_path(self.obj), "loadable": self.obj}
        running: list[tuple[Run, subprocess.Popen[str], Path, Path]] = []
        for mode, target in targets.items():
            what = f"building the {mode} object of {self.source}"
            step = Run(what=what)
            bitcode = workdir / f"{mode}.bc"
            opt = step.start(
                [
                    self.chain.opt,
                    f"-load-pass-plugin={self.chain.plugin}",
                    f"-passes={self.passes(mode)}",
                    front,
                    "-o",
                    bitcode,
                ]
            )
            running.append((step, opt, bitcode, target))
        staged: list[tuple[Path, Path]] = []
        compiling: list[tuple[Run, subprocess.Popen[str]]] = []
        for step, opt, bitcode, target in running:
            step.finish(opt)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            staged.append((tmp, target))
            llc = step.start([self.chain.llc, *self.llc_args(), bitcode, "-o", tmp])
            compiling.append((step, llc))
        try:
            for step, llc in compiling:
                step.finish(llc)
            for tmp, target in staged:
                tmp.replace(target)
        finally:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)


def _call(cmd: Sequence[str | os.PathLike[str]]) -> int:
    """Runs ``cmd`` with our stdout and stderr, so clang's diagnostics show as usual."""
    return subprocess.call([os.fspath(c) for c in cmd])  # noqa: S603


def _split_own_flags(argv: list[str]) -> tuple[list[str], int | None]:
    """Removes ``--bpfcov-llvm=N`` from argv; returns the rest and N."""
    major = None
    rest = []
    for arg in argv:
        if arg.startswith("--bpfcov-llvm="):
            value = arg.split("=", 1)[1]
            if not value.isdigit():
                msg = f"{arg}: expected an LLVM major such as --bpfcov-llvm=19"
                raise BpfcovError(msg)
            major = int(value)
        else:
            rest.append(arg)
    return rest, major


def _exec_clang(chain: toolchain.Toolchain, args: list[str]) -> NoReturn:
    clang = os.fspath(chain.clang)
    os.execv(clang, [clang, *args])  # noqa: S606 - the point of a pass-through


def _compile(chain: toolchain.Toolchain, compile_: Compile) -> None:
    for source in compile_.sources:
        obj = compile_.object_for(source)
        if not obj.parent.is_dir() and str(obj.parent):
            msg = f"cannot write {obj}: no such directory {obj.parent}"
            raise BpfcovError(msg)
        with tempfile.TemporaryDirectory(prefix="bpfcov-cc-") as workdir:
            _Pipeline(chain, compile_, source, obj).run(Path(workdir))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``bpfcov-cc``."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(format=f"{PROG}: %(message)s", level=logging.WARNING)
    if os.environ.get("BPFCOV_VERBOSE"):
        log.setLevel(logging.INFO)
    try:
        args, major = _split_own_flags(args)
        chain = toolchain.select(major)
        if os.environ.get("BPFCOV_DISABLE") == "1":
            _exec_clang(chain, args)
        compile_ = classify(expand_response_files(args))
        if compile_ is None:
            _exec_clang(chain, args)
        _compile(chain, compile_)
    except ToolFailedError as exc:
        if exc.stderr:
            sys.stderr.write(exc.stderr)
        if str(exc):
            print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.returncode or 1
    except BpfcovError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
