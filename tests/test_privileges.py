"""Root where needed, nothing more: profiles written under sudo are the user's own.

``bpfcov run`` and ``bpfcov gen`` need root (tracing, reading the kernel's maps);
under sudo, what gen and out write belongs to the user who ran sudo
(``SUDO_UID``/``SUDO_GID``, here set as sudo sets them, for user nobody), so that
user reads the profiles with ``bpfcov out`` unprivileged. Everything lives in a
directory every user may enter, as a project directory would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import (
    EXAMPLES,
    PACKETS,
    XDP_SOURCE,
    assert_xdp_report,
    bpfcov,
    build,
    build_loader,
    script,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.kernel

NOBODY = 65534
SUDO = {"SUDO_UID": str(NOBODY), "SUDO_GID": str(NOBODY), "SUDO_USER": "nobody"}


@pytest.fixture
def shared() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bpfcov-shared-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_nobody(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            script("bpfcov"),
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_under_sudo_profiles_are_the_users_and_out_needs_no_root(
    major: int, pins: Path, shared: Path
) -> None:
    obj = build(XDP_SOURCE, shared / "xdp_parser.bpf.o", major)
    loader = build_loader(obj, EXAMPLES / "xdp" / "xdp_loader.c", "xdp_parser", shared)
    packets: list[Path] = []
    for i, (packet, times) in enumerate(PACKETS):
        (shared / f"{i}.bin").write_bytes(packet)
        packets += [shared / f"{i}.bin"] * times
    run = bpfcov("run", "--pin-dir", pins, "--", loader, *packets)
    assert run.returncode == 0, run.stderr

    sudo = {**os.environ, **SUDO}
    gen = bpfcov("gen", "-o", f"{shared / 'out' / 'deep'}/", pins, env=sudo)
    assert gen.returncode == 0, gen.stderr
    profile = shared / "out" / "deep" / "xdp_parser.bpf.profraw"
    for path in (shared / "out", shared / "out" / "deep", profile, Path(f"{profile}.json")):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY), path
    assert profile.stat().st_mode & 0o777 == 0o600  # the user's only, as root's were
    assert not list(shared.rglob(".*.tmp"))

    report = shared / "out" / "deep" / "cov.json"
    out = as_nobody("out", "-f", "json", "-o", report, profile)
    assert out.returncode == 0, out.stderr
    assert report.stat().st_uid == NOBODY
    assert_xdp_report(
        {f["name"]: f for f in json.loads(report.read_text())["data"][0]["functions"]}
    )

    html = bpfcov("out", "-f", "html", "-o", shared / "out" / "html", profile, env=sudo)
    assert html.returncode == 0, html.stderr
    assert {p.stat().st_uid for p in (shared / "out" / "html").rglob("*")} == {NOBODY}
    again = as_nobody("out", "-f", "html", "-o", shared / "out" / "html", profile)
    assert again.returncode == 0, again.stderr  # its own report, written before: replaced


def test_without_sudo_root_keeps_what_it_writes(xdp_obj: Path, tmp_path: Path) -> None:
    from support import gen_after_packets

    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    assert (tmp_path / "x.profraw").stat().st_uid == 0
    assert (tmp_path / "x.profraw").stat().st_mode & 0o777 == 0o600
