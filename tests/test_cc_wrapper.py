"""bpfcov-cc as a drop-in for clang: what it passes through, what it instruments."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from support import EXAMPLES, bpf_cflags, bpfcov, clang_accepts, llvm_majors, script

from bpfcov_build import toolchain
from bpfcov_build.cc_wrapper import classify, mapping_object_path
from bpfcov_build.errors import BpfcovError
from bpfcov_build.layout import Section, parse_object_info

pytestmark = pytest.mark.llvm

XDP = EXAMPLES / "xdp" / "xdp_parser.bpf.c"
MAJOR = max(llvm_majors())
HOST_C = "int main(void) { return 3; }\n"


def cc(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [script("bpfcov-cc"), f"--bpfcov-llvm={MAJOR}", *map(str, args)],
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


def clang(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [toolchain.Toolchain(MAJOR).clang, *map(str, args)],
        capture_output=True,
        cwd=cwd,
        check=False,
    )


def sections(path: Path) -> list[str]:
    with path.open("rb") as f:
        return [s.name for s in ELFFile(f).iter_sections()]


def test_host_compile_is_clangs(tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text(HOST_C)
    ours = cc("-O2", "m.c", "-o", "ours", cwd=tmp_path)
    theirs = clang("-O2", "m.c", "-o", "theirs", cwd=tmp_path)
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, b"", b"")
    assert theirs.returncode == 0
    assert subprocess.run([tmp_path / "ours"], check=False).returncode == 3
    assert "__llvm_prf_cnts" not in sections(tmp_path / "ours")


def test_preprocess_only_is_clangs(tmp_path: Path) -> None:
    args = ["-E", *bpf_cflags(), str(XDP)]
    assert cc(*args).stdout == clang(*args).stdout


@pytest.mark.parametrize("args", [["--version"], ["-xc", "-", "-fsyntax-only", "-Wall"]])
def test_other_invocations_are_clangs(args: list[str], tmp_path: Path) -> None:
    ours = subprocess.run(
        [script("bpfcov-cc"), f"--bpfcov-llvm={MAJOR}", *args],
        input=b"int f(void) { int x; return x; }\n",
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    theirs = subprocess.run(
        [toolchain.Toolchain(MAJOR).clang, *args],
        input=b"int f(void) { int x; return x; }\n",
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


def test_clang_errors_are_shown_as_clang_shows_them(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpf.c"
    bad.write_text("int f(void) { return nope; }\n")
    ours = cc(*bpf_cflags(), "-c", bad, "-o", tmp_path / "bad.bpf.o")
    theirs = clang(*bpf_cflags(), "-c", bad, "-o", tmp_path / "bad.bpf.o")
    assert ours.returncode == theirs.returncode != 0
    assert b"use of undeclared identifier 'nope'" in ours.stderr
    assert b"Traceback" not in ours.stderr
    assert not (tmp_path / "bad.bpf.o").exists()


def test_bpf_compile_writes_both_objects(tmp_path: Path) -> None:
    out = tmp_path / "xdp.bpf.o"
    result = cc(*bpf_cflags(), "-mcpu=v3", "-c", XDP, "-o", out)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == result.stderr == b""
    assert ".data.profc" in sections(out)
    assert "__llvm_covfun" in sections(tmp_path / "xdp.bpf.obj")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def recorded_object_path(obj: Path) -> str:
    """The mapping object path the loadable object ``obj`` records."""
    with obj.open("rb") as f:
        section = ELFFile(f).get_section_by_name(Section.COVMAP.value)
        assert section is not None, f"{obj} has no {Section.COVMAP.value}"
        return parse_object_info(section.data()).object_path


def test_relative_output_records_the_absolute_mapping_object(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    result = cc(*bpf_cflags(), "-c", XDP, "-o", "build/../build/x.bpf.o", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert recorded_object_path(tmp_path / "build" / "x.bpf.o") == str(
        tmp_path / "build" / "x.bpf.obj"
    )


def test_several_sources_each_get_their_own_mapping_object(tmp_path: Path) -> None:
    one = tmp_path / "one.bpf.c"
    two = tmp_path / "two.bpf.c"
    one.write_text("int one(int x) { return x > 1 ? x : 1; }\n")
    two.write_text("int two(int x) { return x < 2 ? x : 2; }\n")
    result = cc(*bpf_cflags(), "-c", one, two, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    for name in ("one", "two"):
        obj = tmp_path / f"{name}.bpf.o"
        assert recorded_object_path(obj) == str(tmp_path / f"{name}.bpf.obj")
        assert "__llvm_covfun" in sections(tmp_path / f"{name}.bpf.obj")
    # One source failing fails the command, with clang's own diagnostic.
    two.write_text("int two(int x) { return y; }\n")
    result = cc(*bpf_cflags(), "-c", one, two, cwd=tmp_path)
    assert result.returncode != 0
    assert b"use of undeclared identifier 'y'" in result.stderr


def test_default_output_name_and_response_file(tmp_path: Path) -> None:
    rsp = tmp_path / "flags.rsp"
    rsp.write_text(" ".join([*bpf_cflags(), "-c", f'"{XDP}"']))
    result = cc(f"@{rsp}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert ".data.profc" in sections(tmp_path / "xdp_parser.bpf.o")
    assert (tmp_path / "xdp_parser.bpf.obj").exists()


def test_dependency_file_names_the_real_object_and_inputs(tmp_path: Path) -> None:
    out = tmp_path / "xdp.bpf.o"
    result = cc(*bpf_cflags(), "-MD", "-c", XDP, "-o", out)
    assert result.returncode == 0, result.stderr.decode()
    deps = (tmp_path / "xdp.bpf.d").read_text()
    assert deps.startswith(f"{out}:")
    assert str(XDP) in deps
    assert "bpf_helpers.h" in deps


#: The majors here whose clang still has the legacy pass manager (clang 14 did).
LEGACY_PM = [n for n in llvm_majors() if clang_accepts(n, "-flegacy-pass-manager")]


@pytest.mark.skipif(not LEGACY_PM, reason="no clang here has -flegacy-pass-manager")
@pytest.mark.parametrize("major", LEGACY_PM, ids=[f"llvm{n}" for n in LEGACY_PM])
def test_legacy_pass_manager_flag_still_instruments(major: int, tmp_path: Path) -> None:
    out = tmp_path / "legacy.bpf.o"
    flags = [*bpf_cflags(), "-flegacy-pass-manager", "-c", str(XDP), "-o", str(out)]
    result = subprocess.run(
        [script("bpfcov-cc"), f"--bpfcov-llvm={major}", *flags], capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert ".data.profc" in sections(out)
    assert "__llvm_covfun" in sections(mapping_object_path(out))


def test_compiles_to_dev_null_are_clangs(tmp_path: Path) -> None:
    """Build systems probe the compiler with -o /dev/null: no X.obj beside a device."""
    result = cc(*bpf_cflags(), "-c", XDP, "-o", "/dev/null")
    assert result.returncode == 0, result.stderr.decode()
    assert not Path("/dev/null.obj").exists()
    assert not list(Path("/dev").glob("null.*tmp"))


def test_disable_passes_bpf_compiles_through(tmp_path: Path) -> None:
    out = tmp_path / "plain.bpf.o"
    result = cc(*bpf_cflags(), "-c", XDP, "-o", out, env={"BPFCOV_DISABLE": "1"})
    assert result.returncode == 0, result.stderr.decode()
    assert ".data.profc" not in sections(out)
    assert not mapping_object_path(out).exists()


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    result = cc(*bpf_cflags(), "-c", XDP, "-o", tmp_path / "missing" / "x.bpf.o")
    assert result.returncode != 0
    lines = result.stderr.decode().strip().splitlines()
    assert lines == [
        f"bpfcov-cc: error: cannot write {tmp_path}/missing/x.bpf.o: "
        f"no such directory {tmp_path}/missing"
    ]


def test_unknown_llvm_is_one_line() -> None:
    result = subprocess.run(
        [script("bpfcov-cc"), "--bpfcov-llvm=9", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "bpfcov-cc: error: LLVM 9 is not supported; bpfcov supports LLVM 14 and newer\n"
    )


@pytest.mark.parametrize(
    ("args", "instrumented"),
    [
        (["-target", "bpf", "-c", "a.c"], True),
        (["--target=bpfel", "-O2", "-c", "a.c", "-o", "a.o"], True),
        (["-target", "bpfeb", "-c", "-x", "c", "a.src"], True),
        (["-target", "bpf", "-S", "a.c"], False),
        (["-target", "bpf", "-c", "-emit-llvm", "a.c"], False),
        (["-target", "bpf", "-c", "a.S"], False),
        (["-target", "x86_64-linux-gnu", "-c", "a.c"], False),
        (["-target", "bpf", "a.c"], False),
        (["-target", "bpf", "-c", "a.c", "-include", "b.c"], True),
        (["-target", "bpfel", "-c", "a.c", "-fdebug-compilation-dir", ".", "-g"], True),
        (["-target", "bpf", "-c", "-mllvm", "-bpf-stack-size=1024", "a.c"], True),
        (["-target", "bpf", "-c", "-Xclang", "-target-feature", "a.c"], True),
        (["-target", "bpf", "-c", "--output", "a.o", "a.c"], True),
        (
            ["-target", "bpf", "-c", "-fdebug-prefix-map=/x=.", "-ffile-prefix-map=/y=.", "a.c"],
            True,
        ),
        (["-target", "bpf", "-c", "-MD", "-MP", "-MF", "d.d", "-MT", "a.o", "a.c"], True),
        (["-target", "bpf", "-c", "--", "a.c"], True),
    ],
)
def test_classify(args: list[str], instrumented: bool) -> None:
    compile_ = classify(args)
    assert (compile_ is not None) == instrumented
    if compile_ is not None:
        assert compile_.sources == [a for a in args if a.startswith("a.") and a != "a.o"]


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["-target", "bpf", "-c", "a.ll"], "LLVM IR cannot be instrumented"),
        (["-target", "bpf", "-c", "-x", "ir", "a.src"], "LLVM IR cannot be instrumented"),
        (["-target", "bpf", "-c", "a.c", "b.S"], "compile assembly apart"),
        (["-target", "bpf", "-c", "-fnew-option", "value", "a.c"], "'value'"),
    ],
)
def test_bpf_compiles_that_cannot_be_instrumented_say_why(args: list[str], why: str) -> None:
    with pytest.raises(BpfcovError) as err:
        classify(args)
    assert why in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_option_is_placed_by_clang_itself() -> None:
    """An option the table lacks that takes a separate value: clang -### decides."""
    args = ["-target", "bpf", "-c", "-fnew-option", "value", "a.c", "-o", "a.o"]
    seen: list[list[str]] = []

    def driver(line: object) -> list[str]:
        seen.append(list(line))  # type: ignore[call-overload]
        return ["a.c"]

    compile_ = classify(args, driver)
    assert seen == [args]
    assert compile_ is not None
    assert (compile_.sources, compile_.output) == (["a.c"], "a.o")
    assert compile_.args == ["-target", "bpf", "-c", "-fnew-option", "value"]


def _multiarch() -> str:
    return next(a for a in bpf_cflags() if a.startswith("-I/usr/include/"))


#: Real BPF compile lines of build systems and tools, as they call clang (with the
#: example source and this machine's include paths filled in).
REAL_LINES = {
    "bpf2go-bpfel": "-O2 -mcpu=v1 -I{inc} -D__TARGET_ARCH_x86 -Wunused-command-line-argument "
    "-target bpfel -c {src} -o {out} -fno-ident -fdebug-prefix-map={dir}=. "
    '-fdebug-compilation-dir . -g -D__BPF_TARGET_MISSING="GCC error" -MD -MP -MF {out}.d',
    "bpf2go-bpfeb": "-O2 -mcpu=v1 -I{inc} -D__TARGET_ARCH_x86 -Wunused-command-line-argument "
    "-target bpfeb -c {src} -o {out} -fno-ident -fdebug-prefix-map={dir}=. "
    "-fdebug-compilation-dir . -g",
    "libbpf-bootstrap": "-g -O2 -target bpf -D__TARGET_ARCH_x86 -I{dir} -idirafter "
    "/usr/local/include -idirafter {inc} -idirafter /usr/include -c {src} -o {out}",
    "libbpf-tools": "-g -O2 -Wall -target bpf -D__TARGET_ARCH_x86 -Ix86/ -I{dir} -I{inc} "
    "-c {src} -o {out}",
    "kernel-selftests": "-g -Wall -Werror -D__TARGET_ARCH_x86 -mlittle-endian -I{dir} "
    "-std=gnu11 -fno-strict-aliasing -Wno-compare-distinct-pointer-types -idirafter {inc} "
    "-idirafter /usr/include -O2 --target=bpfel -c {src} -mcpu=v3 -o {out}",
    "meson": "-target bpf -O2 -g -I{inc} -MD -MQ {out} -MF {out}.d -o {out} -c {src}",
    "mllvm-xclang": "-target bpf -O2 -g -I{inc} -mllvm -bpf-stack-size=512 -Xclang "
    "-fno-ident -c {src} -o {out}",
}


@pytest.mark.parametrize("tool", REAL_LINES)
def test_real_command_lines_are_instrumented(tool: str, tmp_path: Path) -> None:
    import shlex

    out = tmp_path / "x.bpf.o"
    line = REAL_LINES[tool].format(inc=_multiarch()[2:], src=XDP, out=out, dir=XDP.parent)
    result = cc(*shlex.split(line), cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert "__llvm_covfun" in sections(out.with_suffix(".obj")), tool
    assert Section.COUNTERS.value in sections(out), tool


def test_mapping_object_path() -> None:
    assert mapping_object_path(Path("d/x.bpf.o")) == Path("d/x.bpf.obj")
    assert mapping_object_path(Path("x.o")) == Path("x.obj")
    assert mapping_object_path(Path("x.elf")) == Path("x.elf.obj")


def recorded_major(obj: Path) -> int:
    with obj.open("rb") as f:
        data = ELFFile(f).get_section_by_name(Section.COVMAP.value).data()
    return parse_object_info(data).llvm_major


@pytest.mark.parametrize("how", ["BPFCOV_CLANG", "BPFCOV_LLVM", "flag"])
def test_llvm_is_chosen_as_documented(how: str, tmp_path: Path) -> None:
    oldest = min(llvm_majors())
    out = tmp_path / "x.bpf.o"
    args = [*bpf_cflags(), "-c", str(XDP), "-o", str(out)]
    env = {**os.environ}
    if how == "BPFCOV_CLANG":
        env["BPFCOV_CLANG"] = f"clang-{oldest}"
    elif how == "BPFCOV_LLVM":
        env["BPFCOV_LLVM"] = str(oldest)
    else:
        args.insert(0, f"--bpfcov-llvm={oldest}")
    subprocess.run([script("bpfcov-cc"), *args], env=env, check=True)
    assert recorded_major(out) == oldest


def test_newest_llvm_with_a_plugin_is_the_default(tmp_path: Path) -> None:
    out = tmp_path / "x.bpf.o"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPFCOV_")}
    subprocess.run(
        [script("bpfcov-cc"), *bpf_cflags(), "-c", str(XDP), "-o", str(out)], env=env, check=True
    )
    assert recorded_major(out) == max(llvm_majors())


@pytest.mark.parametrize(
    "command", ["run", "gen", "out", "skel", "list", "clean", "version", "meson-dir"]
)
def test_every_subcommand_help_has_an_example(command: str) -> None:
    result = bpfcov(command, "--help")
    assert result.returncode == 0
    assert re.search(r"^examples?:\n  \S", result.stdout, re.M), result.stdout


def test_top_level_help_documents_exit_status() -> None:
    result = bpfcov("--help")
    assert "Exit status: 0 done, 1 an error" in result.stdout
    for command in ("run", "gen", "out", "skel", "list", "clean", "version", "meson-dir"):
        assert f"    {command}" in result.stdout
