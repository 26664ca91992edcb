"""Building the plugin: a missing or unusable LLVM is one clear line naming the fix."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import ROOT, clang_accepts, clang_probe, llvm_majors, raw_version

from bpfcov_build import toolchain
from bpfcov_build.errors import NotFoundError

pytestmark = pytest.mark.llvm


def configure(
    tmp_path: Path, majors: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cmake", "-S", ROOT, "-B", tmp_path / "build", f"-DBPFCOV_LLVM_MAJORS={majors}"],
        capture_output=True,
        text=True,
        check=False,
        # only -D chooses here: test.sh sets BPFCOV_LLVM_MAJORS, which CMake also reads
        env={k: v for k, v in (env or os.environ).items() if k != "BPFCOV_LLVM_MAJORS"},
    )


def test_missing_llvm_dev_names_the_package(tmp_path: Path) -> None:
    result = configure(tmp_path, "37")
    assert result.returncode != 0
    assert (
        "bpfcov: LLVM 37 development files not found; install them with: "
        "apt-get install llvm-37-dev"
    ) in result.stderr


def test_too_old_llvm_is_refused(tmp_path: Path) -> None:
    result = configure(tmp_path, "13")
    assert result.returncode != 0
    assert "bpfcov: LLVM 13 is too old; LLVM 14 or newer is supported" in result.stderr


def test_installed_llvm_configures(tmp_path: Path) -> None:
    result = configure(tmp_path, "")
    assert result.returncode == 0, result.stderr
    assert "bpfcov: building the pass plugin for LLVM" in result.stdout


def test_every_llvm_with_development_files_has_a_plugin() -> None:
    """No LLVM is skipped silently: each whose headers are here got a plugin (each
    of those BPFCOV_LLVM_MAJORS asked for, when it did: test.sh asks a userland for
    the majors the host does not test)."""
    asked = os.environ.get("BPFCOV_LLVM_MAJORS", "").replace(";", " ").split()
    with_headers = [
        n
        for n in range(toolchain.MIN_LLVM, 41)
        if (Path(f"/usr/lib/llvm-{n}/include/llvm/Config/llvm-config.h")).is_file()
        and (not asked or str(n) in asked)
    ]
    assert with_headers, "no llvm-N-dev installed"
    assert set(with_headers) <= set(toolchain.plugin_majors())


def fake_llvm(tmp_path: Path, major: int) -> dict[str, str]:
    """An environment whose PATH has an llvm-config-N of an LLVM with development
    headers but no pass-plugin interface: unusable to build the plugin."""
    include = tmp_path / "include"
    (include / "llvm" / "Config").mkdir(parents=True)
    (include / "llvm" / "Config" / "llvm-config.h").write_text("")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    config = bindir / f"llvm-config-{major}"
    config.write_text(
        "#!/bin/sh\n"
        "for a; do case $a in\n"
        f"  --version) echo {major}.1.0;;\n"
        f"  --includedir) echo {include};;\n"
        "esac; done\n"
    )
    config.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


def test_unusable_development_files_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = fake_llvm(tmp_path, 37)
    headers = tmp_path / "include"
    cause = f"{headers} has neither llvm/Plugins/PassPlugin.h nor llvm/Passes/PassPlugin.h"

    asked = configure(tmp_path / "asked", "37", env)
    assert asked.returncode != 0
    assert f"bpfcov: LLVM 37 cannot build the pass plugin: {cause}" in asked.stderr

    # Among all the LLVMs found, it is skipped, saying why, and the reason is kept
    # for bpfcov to print when LLVM 37 is asked for.
    found = configure(tmp_path / "found", "", env)
    assert found.returncode == 0, found.stderr
    assert f"bpfcov: LLVM 37 skipped, its development files are unusable: {cause}" in found.stderr
    plugins = tmp_path / "found" / "build" / "plugins"
    assert (plugins / "llvm-37" / "unusable.txt").read_text() == f"{cause}\n"
    monkeypatch.setenv("BPFCOV_PLUGIN_DIR", str(plugins))
    with pytest.raises(NotFoundError) as err:
        _ = toolchain.Toolchain(37).plugin
    assert str(err.value).endswith(
        f"; its development files could not build one ({cause}); fix that, then reinstall bpfcov"
    )


def test_majors_come_from_the_environment_too(tmp_path: Path) -> None:
    # What `BPFCOV_LLVM_MAJORS="..." pip install .` relies on: no -D, only the environment.
    result = subprocess.run(
        ["cmake", "-S", ROOT, "-B", tmp_path / "build"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BPFCOV_LLVM_MAJORS": "37 38"},
    )
    assert result.returncode != 0
    assert "bpfcov: LLVM 37 development files not found" in result.stderr


def mcdc_bitmap_updates_are_atomic(major: int) -> bool:
    """Whether clang-N's MC/DC bitmap updates under -fprofile-update=atomic are
    atomic read-modify-writes (LLVM 18's are a load, an or and a store)."""
    flags = ("-O2", "-fcoverage-mcdc", "-fprofile-update=atomic", "-S", "-emit-llvm")
    ir = clang_probe(major, *flags, "-o", "-")
    assert ir.returncode == 0, ir.stderr
    return "atomicrmw or ptr" in ir.stdout


@pytest.mark.parametrize("major", llvm_majors(), ids=lambda n: f"llvm{n}")
def test_readme_row_of_this_llvm(major: int) -> None:
    """README's version table has a row for every LLVM the suite runs, true to
    what this LLVM's headers and clang say."""
    readme = (ROOT / "README.md").read_text().splitlines()
    rows = [line for line in readme if line.startswith(f"| {major} | version ")]
    assert len(rows) == 1, f"README: add a row for LLVM {major} to the version table"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == f"version {raw_version(major)}"
    assert cells[2:4] == ["yes", "yes"]
    if not clang_accepts(major, "-fcoverage-mcdc"):
        assert cells[4] == "no (clang has no `-fcoverage-mcdc`)"
    elif mcdc_bitmap_updates_are_atomic(major):
        assert cells[4] == "yes"
    else:
        assert cells[4] == "yes, bitmap updates not atomic"
    assert cells[5] == "yes"
