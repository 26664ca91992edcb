"""Building the plugin: a missing LLVM is one clear line naming the package to install."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from support import ROOT

if TYPE_CHECKING:
    from pathlib import Path


def configure(tmp_path: Path, majors: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cmake", "-S", ROOT, "-B", tmp_path / "build", f"-DBPFCOV_LLVM_MAJORS={majors}"],
        capture_output=True,
        text=True,
        check=False,
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
