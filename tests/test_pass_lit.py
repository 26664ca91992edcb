"""The lit + FileCheck tests of the pass (tests/pass/), once per LLVM with a plugin."""

from __future__ import annotations

import subprocess

import pytest
from support import ROOT, llvm_majors, script

from bpfcov_build import toolchain

pytestmark = pytest.mark.llvm

MAJORS = llvm_majors()


@pytest.mark.parametrize("major", MAJORS, ids=[f"llvm{n}" for n in MAJORS])
def test_lit(major: int) -> None:
    plugin = toolchain.Toolchain(major).plugin
    result = subprocess.run(
        [
            script("lit"),
            "-v",
            ROOT / "tests" / "pass",
            "-D",
            f"llvm={major}",
            "-D",
            f"plugin={plugin}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert not [line for line in result.stdout.splitlines() if line.startswith(("FAIL:", "XPASS:"))]
    assert "PASS: " in result.stdout
