"""Fixtures shared by the kernel tests: one instrumented build of each example per LLVM."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import pytest
from support import BPFFS, EXAMPLES, TP_SOURCE, XDP_SOURCE, build, build_loader, llvm_majors

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MAJORS = llvm_majors()
#: Fixtures that stand for an LLVM major (the toolchain builds with it).
LLVM_FIXTURES = {"major", "xdp_obj", "tp_obj", "xdp_loader", "acl_obj", "host", "mcdc_host"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks what each test needs, so that a machine can run what it can by name.

    ``kernel`` tests (marked by their module) need root and a kernel that runs BPF,
    and build with the LLVMs too; a test that takes an LLVM major needs ``llvm``.
    Without root, the kernel tests skip, saying so.
    """
    del config
    not_root = pytest.mark.skip(
        reason="needs root and a kernel that runs BPF: run as root, or deselect: -m 'not kernel'"
    )
    for item in items:
        kernel = item.get_closest_marker("kernel") is not None
        if kernel or LLVM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.llvm)
        if kernel and os.geteuid() != 0:
            item.add_marker(not_root)


@pytest.fixture(scope="module", params=MAJORS, ids=[f"llvm{n}" for n in MAJORS])
def major(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture(scope="module")
def xdp_obj(major: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(XDP_SOURCE, tmp_path_factory.mktemp("xdp") / "xdp_parser.bpf.o", major)


@pytest.fixture(scope="module")
def tp_obj(major: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(TP_SOURCE, tmp_path_factory.mktemp("tp") / "sys_enter.bpf.o", major)


@pytest.fixture(scope="module")
def xdp_loader(xdp_obj: Path) -> Path:
    return build_loader(xdp_obj, EXAMPLES / "xdp" / "xdp_loader.c", "xdp_parser", xdp_obj.parent)


@pytest.fixture
def pins(tmp_path: Path) -> Iterator[Path]:
    """A path on bpffs of this test's own (not created); removed afterwards."""
    path = BPFFS / f"bpfcov-test-{os.getpid()}-{tmp_path.name}"
    yield path
    shutil.rmtree(path, ignore_errors=True)
