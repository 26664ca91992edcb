"""``bpfcov-cc-py``: a drop-in for clang that instruments BPF objects for coverage.

This is the reference ``bpfcov-cc``. The installed ``bpfcov-cc`` is a native launcher
(``launcher/bpfcov_cc.c``) that does the everyday calls the same way, by the same
table of clang's options (``include/bpfcov/driver.def``), and hands every other
call to this module unchanged.

A compile of C to an object for the BPF target (``-target bpf|bpfel|bpfeb`` or
``--target=...``, with ``-c``) becomes one clang process::

    BPFCOV_MAPPING_OBJECT=X.obj clang <your flags> -fprofile-instr-generate \
        -fcoverage-mapping -fpass-plugin=libBPFCov.so -fprofile-update=atomic \
        -c X.c -o X.o

Counters are atomic unless the flags choose (``-fprofile-update=single`` for plain
increments, which lose counts when a program runs on several CPUs at once).

The plugin runs last in clang's optimisation pipeline: it writes ``X.obj`` (the
object llvm-cov reads), then rewrites the module so that clang's own code
generation writes ``X.o`` (the object to load). Every flag keeps clang's meaning,
and ``-MD`` names the real object. With several sources, each gets a clang of
its own, since one process can name only one mapping object. A compile that fails
leaves no ``X.obj`` of its own, as clang leaves no ``X.o``.

Every other invocation (host compiles, links, ``-E``, ``-M``, ``-S``, ``--version``)
runs the real clang with the arguments untouched. ``BPFCOV_DISABLE=1`` makes every
invocation a pass-through. The real clang and its LLVM are chosen as
:mod:`bpfcov_build.toolchain` says; ``--bpfcov-llvm=N`` (removed before clang
sees the arguments) picks the major for one invocation.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from bpfcov_build import cc_options, contract, toolchain
from bpfcov_build import jumps as _jumps
from bpfcov_build.errors import BpfcovError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeAlias

    #: Asks clang which inputs a command line compiles to BPF objects (``clang -###``):
    #: the C sources, or None when clang rejects the command line.
    Driver: TypeAlias = Callable[[Sequence[str]], list[str] | None]

# Every compiler call of a build starts this module: what only some calls need
# (shlex, subprocess) is imported where it is used.

__all__ = ["Compile", "classify", "main", "mapping_object_path"]

PROG = cc_options.STRINGS["Prog"]
#: Where the plugin, run by clang -fpass-plugin, writes the mapping object.
MAPPING_OBJECT_ENV = contract.STRINGS["MappingObjectEnv"]
_OWN_LLVM_FLAG = cc_options.STRINGS["OwnLLVMFlag"]
#: What clang's options mean, from driver.def (the native launcher reads the same).
_SEPARATE = cc_options.SEPARATE
_ALIASES = cc_options.ALIASES
_NO_OBJECT = cc_options.NO_OBJECT
_NO_OBJECT_PREFIXES = cc_options.NO_OBJECT_PREFIXES
_COVERAGE_FLAGS = cc_options.COVERAGE_FLAGS
_C_LANGUAGES = frozenset(k for k, kind in cc_options.INPUT_LANGUAGES.items() if kind == "C")
#: How counters are incremented unless the compile says otherwise: atomic adds,
#: because a BPF program runs on every CPU at once and llvm-cov derives region
#: counts as differences of counters, which lost increments turn negative.
DEFAULT_PROFILE_UPDATE = cc_options.STRINGS["DefaultProfileUpdate"]


def mapping_object_path(obj: Path) -> Path:
    """Where the mapping object of ``obj`` goes: ``foo.bpf.o`` → ``foo.bpf.obj``."""
    if obj.suffix == ".o":
        return obj.with_suffix(".obj")
    return obj.with_name(obj.name + ".obj")


def expand_response_files(args: Sequence[str], depth: int = 0) -> list[str]:
    """``args`` with every ``@file`` replaced by the arguments it holds."""
    out: list[str] = []
    for arg in args:
        if arg.startswith("@") and len(arg) > 1 and Path(arg[1:]).is_file() and depth < 16:
            import shlex

            text = Path(arg[1:]).read_text(encoding="utf-8", errors="surrogateescape")
            out.extend(expand_response_files(shlex.split(text), depth + 1))
        else:
            out.append(arg)
    return out


class Compile(NamedTuple):
    """A clang invocation that compiles C sources to BPF objects."""

    args: list[str]
    """The expanded arguments, without the inputs or ``-o``."""
    sources: list[str]
    output: str | None

    def object_for(self, source: str) -> Path:
        """The object clang would write for ``source``."""
        if self.output is not None:
            return Path(self.output)
        return Path(Path(source).stem + ".o")


def classify(args: Sequence[str], driver: Driver | None = None) -> Compile | None:
    """The BPF compile ``args`` asks for, or None when clang should run untouched.

    Options are read as clang reads them (:data:`_SEPARATE` take the next argument).
    A BPF compile that cannot be instrumented (LLVM IR, assembly beside C) raises
    :class:`BpfcovError`; an argument this table cannot place (an option it does
    not know that takes a separate value) is left to ``driver``, clang itself.
    """
    triple = ""
    compile_only = False
    language = ""
    rest: list[str] = []
    sources: list[str] = []
    other: list[tuple[str, str]] = []  # (input, kind) of inputs that are not C
    unplaced: list[str] = []
    output: str | None = None
    options_end = False
    it = iter(args)
    for arg in it:
        if options_end or arg == "-" or not arg.startswith("-"):
            kind = _input_kind(arg, language)
            if kind == "C":
                sources.append(arg)
                continue
            if kind == "unknown":
                unplaced.append(arg)
            else:
                other.append((arg, kind))
            rest.append(arg)
            continue
        if arg == "--":
            options_end = True
            rest.append(arg)
            continue
        if arg in _SEPARATE:
            value = next(it, None)
            if value is None:
                return None  # clang reports the missing value
            name = _ALIASES.get(arg, arg)
            if name == "-o":
                output = value
                continue
            if name == "-target":
                triple = value
            elif name == "-x":
                language = value
            rest.extend((arg, value))
            continue
        if arg.startswith("--target="):
            triple = arg.split("=", 1)[1]
        elif arg.startswith(("--output=", "--language=")):
            key, value = arg.split("=", 1)
            if key == "--output":
                output = value
                continue
            language = value
        elif arg.startswith("-o") and len(arg) > 2:
            output = arg[2:]
            continue
        elif arg.startswith("-x") and len(arg) > 2:
            language = arg[2:]
        elif arg == "-c":
            compile_only = True
        elif arg in _NO_OBJECT or arg.startswith(_NO_OBJECT_PREFIXES):
            return None
        rest.append(arg)
    if triple.split("-", 1)[0] not in cc_options.BPF_ARCHES or not compile_only:
        return None
    if output is not None and not _is_object_path(Path(output)):
        return None  # -o /dev/null or -o -: a probe, no object to keep a mapping beside
    if unplaced:
        if driver is None:
            msg = f"cannot tell whether {unplaced[0]!r} is an input or an option's value"
            raise BpfcovError(msg)
        return _ask_clang(args, driver, output)
    for name, kind in other:
        if kind == "IR":
            msg = (
                f"{name}: LLVM IR cannot be instrumented (coverage needs clang's front "
                "end); compile its C source with bpfcov-cc, or set BPFCOV_DISABLE=1"
            )
            raise BpfcovError(msg)
        if kind == "Asm" and sources:
            msg = f"{name}: compile assembly apart from the C sources (it has no coverage)"
            raise BpfcovError(msg)
    if not sources:
        return None  # assembly alone, or no input: clang's to do or to report
    if output is not None and len(sources) > 1:
        return None  # clang reports "cannot specify -o when generating multiple output files"
    return Compile(args=rest, sources=sources, output=output)


def _input_kind(arg: str, language: str) -> str:
    """``C``, ``Asm``, ``IR``, ``Linker`` or ``unknown``: what clang makes of ``arg``."""
    if language and language != "none":
        return cc_options.INPUT_LANGUAGES.get(language, "unknown")
    return cc_options.INPUT_SUFFIXES.get(Path(arg).suffix, "unknown")


def _ask_clang(args: Sequence[str], driver: Driver, output: str | None) -> Compile | None:
    """The compile of ``args`` with its C sources as clang itself finds them."""
    sources = driver(args)
    if not sources:
        return None  # clang rejects the line, or compiles no C: let it say so
    rest = list(args)
    for source in sources:  # the last occurrence of each is the input clang saw
        del rest[len(rest) - 1 - rest[::-1].index(source)]
    for i, arg in enumerate(rest):
        if _ALIASES.get(arg, arg) == "-o" and i + 1 < len(rest):
            del rest[i : i + 2]
            break
        if arg.startswith(("--output=", "-o")) and arg not in _SEPARATE and len(arg) > 2:
            del rest[i]
            break
    if output is not None and len(sources) > 1:
        return None
    return Compile(args=rest, sources=sources, output=output)


def clang_driver(clang: str) -> Driver:
    """A :data:`Driver` that runs ``clang -###`` and reads its front-end jobs."""

    def ask(args: Sequence[str]) -> list[str] | None:
        import shlex
        import subprocess

        done = subprocess.run(  # noqa: S603 - the user's clang, on the user's arguments
            [clang, "-###", *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            return None
        sources = []
        for line in done.stderr.splitlines():
            job = shlex.split(line) if line.startswith(" ") else []
            if "-cc1" not in job or "-emit-obj" not in job or "-x" not in job:
                continue
            x = len(job) - 1 - job[::-1].index("-x")
            if x + 2 < len(job) and job[x + 1] in _C_LANGUAGES:
                sources.append(job[x + 2])
        return sources

    return ask


def _is_object_path(path: Path) -> bool:
    """Whether clang writes a file at ``path`` (not stdout, a device or a pipe)."""
    return str(path) != "-" and (path.is_file() or not path.exists())


def _coverage_flags(chain: toolchain.Toolchain, args: Sequence[str]) -> list[str]:
    """What a compile of ``args`` gets to be instrumented: coverage, the plugin, the update."""
    flags = [*_COVERAGE_FLAGS, f"-fpass-plugin={chain.plugin}"]
    if not any(a.startswith("-fprofile-update=") for a in args):
        flags.append(DEFAULT_PROFILE_UPDATE)
    if "-flegacy-pass-manager" in args:  # clang 14: plugins run under the new one only
        flags.append("-fno-legacy-pass-manager")
    return flags


def _instrumented(
    chain: toolchain.Toolchain, args: Sequence[str], obj: Path
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a clang that compiles ``args`` with coverage.

    It writes ``obj`` and, through the plugin, the mapping object beside it.
    """
    if str(obj.parent) and not obj.parent.is_dir():
        msg = f"cannot write {obj}: no such directory {obj.parent}"
        raise BpfcovError(msg)
    cmd = [os.fspath(chain.clang), *args, *_coverage_flags(chain, args)]
    mapping = os.fspath(mapping_object_path(obj).absolute())
    if os.environ.get("BPFCOV_VERBOSE"):
        import shlex

        print(
            f"{PROG}: + {MAPPING_OBJECT_ENV}={shlex.quote(mapping)} {shlex.join(cmd)}",
            file=sys.stderr,
        )
    return cmd, {**os.environ, MAPPING_OBJECT_ENV: mapping}


def _split_own_flags(argv: list[str]) -> tuple[list[str], int | None]:
    """Removes ``--bpfcov-llvm=N`` from argv; returns the rest and N."""
    major = None
    rest = []
    for arg in argv:
        if arg.startswith(_OWN_LLVM_FLAG):
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
    if os.environ.get("BPFCOV_VERBOSE"):
        import shlex

        print(f"{PROG}: + {shlex.join([clang, *args])}", file=sys.stderr, flush=True)
    os.execv(clang, [clang, *args])  # noqa: S606 - the point of a pass-through


def _compile(chain: toolchain.Toolchain, args: list[str], compile_: Compile) -> int:
    """Compiles every source of ``compile_``, each through ``_run_clang``."""
    if len(compile_.sources) == 1:
        cmd, env = _instrumented(chain, args, compile_.object_for(compile_.sources[0]))
        return _run_clang(chain, cmd, env, compile_, compile_.sources[0])
    status = 0
    for source in compile_.sources:
        obj = compile_.object_for(source)
        cmd, env = _instrumented(chain, [*compile_.args, source, "-o", os.fspath(obj)], obj)
        status = status or _run_clang(chain, cmd, env, compile_, source)
    return status


def _run_clang(
    chain: toolchain.Toolchain, cmd: list[str], env: dict[str, str], compile_: Compile, source: str
) -> int:
    """Runs the instrumented clang; a jump out of range gets one line instead of a crash report.

    clang's messages are passed on as clang wrote them (with colours when our
    stderr is a terminal), once clang is done. A compile that fails leaves no
    mapping object of its own, as clang leaves no object: the plugin writes it
    before the back end runs.
    """
    import signal
    import subprocess

    mapping = Path(env[MAPPING_OBJECT_ENV])
    before = _identity(mapping)
    if sys.stderr.isatty() and not any(
        a.startswith(("-fcolor-diagnostics", "-fno-color-diagnostics", "-fdiagnostics-color"))
        for a in cmd
    ):
        cmd = [*cmd, "-fcolor-diagnostics"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)  # noqa: S603

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    # ^C reaches clang from the terminal itself; signals sent to us alone are passed on.
    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _, err = proc.communicate()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if proc.returncode != 0:
        _drop_if_written(mapping, before)
    if proc.returncode < 0:  # clang died of a signal: so do we
        sys.stderr.buffer.write(err)
        sys.stderr.flush()
        signal.signal(-proc.returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -proc.returncode)
    if proc.returncode != 0 and _jumps.BACKEND_MESSAGE.encode() in err:
        _remove_crash_reproducers(err)
        raise BpfcovError(
            _far_jump_message(chain, source, _far_jumps(chain, compile_, source, env))
        )
    sys.stderr.buffer.write(err)
    sys.stderr.flush()
    obj = compile_.object_for(source)
    if (
        proc.returncode == 0
        and chain.major < _jumps.FIRST_REFUSING_MAJOR
        and _jumps.longest_function(obj) > _jumps.MAX_FORWARD
    ):
        found = _far_jumps(chain, compile_, source, env)
        if found:
            obj.unlink()  # what this compile wrote, with jumps that land elsewhere
            _drop_if_written(mapping, before)
            raise BpfcovError(_far_jump_message(chain, source, found))
    return proc.returncode


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a file apart from the one a compile may put in its place."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def _drop_if_written(mapping: Path, before: tuple[int, int, int] | None) -> None:
    """Removes ``mapping`` if the failed compile wrote it; one it did not touch stays."""
    now = _identity(mapping)
    if now is not None and now != before:
        mapping.unlink(missing_ok=True)


def _far_jumps(
    chain: toolchain.Toolchain, compile_: Compile, source: str, env: dict[str, str]
) -> list[_jumps.FarJump]:
    """The functions of ``source`` whose jumps do not fit in 16 bits once instrumented.

    The same compile, to assembly this time (where nothing needs to fit), tells.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bpfcov-cc-") as tmp:
        asm = Path(tmp) / "out.s"
        args = _without_outputs(compile_.args)
        cmd = [
            os.fspath(chain.clang), *args, "-S", source, "-o", os.fspath(asm),
            *_coverage_flags(chain, args), "-fno-crash-diagnostics",
        ]  # fmt: skip
        env = {k: v for k, v in env.items() if k != MAPPING_OBJECT_ENV}
        done = subprocess.run(cmd, env=env, capture_output=True, check=False)  # noqa: S603
        return _jumps.far_jumps(asm.read_text(errors="replace")) if done.returncode == 0 else []


def _far_jump_message(chain: toolchain.Toolchain, source: str, found: list[_jumps.FarJump]) -> str:
    """What to say of a jump out of range: which function, what to do."""
    where = (
        ", ".join(f"{j.function}() jumps {abs(j.distance)} instructions" for j in found)
        or "a jump is farther than that"
    )
    fix = (
        "build with -mcpu=v4 (Linux 6.6 or newer), whose jumps reach anywhere"
        if chain.major >= 17
        else f"LLVM {chain.major} has no -mcpu=v4: build with LLVM 17 or newer and -mcpu=v4 "
        "(Linux 6.6 or newer), whose jumps reach anywhere"
    )
    return (
        f"{source}: once instrumented, {where}; -mcpu=v3 and older reach "
        f"{_jumps.MAX_FORWARD} instructions; {fix}"
    )


def _remove_crash_reproducers(err: bytes) -> None:
    """Removes the preprocessed source and script clang wrote for a bug report we replace."""
    import re
    import tempfile

    tmp = Path(tempfile.gettempdir()).resolve()
    for match in re.finditer(rb"diagnostic msg: (\S+\.(?:c|i|sh))$", err, re.M):
        path = Path(os.fsdecode(match.group(1)))
        if path.parent.resolve() == tmp:
            path.unlink(missing_ok=True)


def _without_outputs(args: Sequence[str]) -> list[str]:
    """``args`` without ``-c`` and the dependency-file options (for a second compile)."""
    out: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in {"-MF", "-MT", "-MQ", "-MJ"}:
            next(it, None)
        elif arg in {"-c", "-M", "-MM", "-MD", "-MMD", "-MP", "-MG"} or arg.startswith(
            ("-MF", "-MT", "-MQ", "-MJ")
        ):
            continue
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``bpfcov-cc``."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args, major = _split_own_flags(args)
        chain = toolchain.select(major)
        if os.environ.get("BPFCOV_DISABLE") == "1":
            _exec_clang(chain, args)
        compile_ = classify(expand_response_files(args), clang_driver(os.fspath(chain.clang)))
        if compile_ is None:
            _exec_clang(chain, args)
        return _compile(chain, args, compile_)
    except BpfcovError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
