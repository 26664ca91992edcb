"""The package stays mypy --strict and ruff clean."""

from __future__ import annotations

import subprocess

from support import ROOT, script


def test_mypy_strict() -> None:
    result = subprocess.run(
        [script("mypy"), "--no-incremental"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_ruff() -> None:
    result = subprocess.run(
        [script("ruff"), "check", "--no-cache", "bpfcov_build", "tests", "examples", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
