"""The HTML report as a browser shows it: headless Chromium renders the example's page.

With BPFCOV_UPDATE_DOCS=1 the screenshot replaces docs/report.png (the README's).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest
from support import ROOT, bpfcov, expected_counts, gen_after_packets

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def test_browser_shows_functions_and_branch_counts(xdp_obj: Path, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    html = tmp_path / "html"
    result = bpfcov("out", "-f", "html", "-o", html, tmp_path / "x.profraw")
    assert result.returncode == 0, result.stderr
    (page,) = [p for p in html.rglob("*.html") if p.name == "xdp_parser.bpf.c.html"]

    index = chromium(tmp_path / "profile", "--dump-dom", (html / "index.html").as_uri()).stdout
    assert "xdp_parser.bpf.c" in index
    dom = chromium(tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    text = re.sub(r"<[^>]+>", "", dom)  # what the page says, as read
    _, port = expected_counts()
    assert "port_verdict" in text
    assert f"True: {port['if_dns']}, False: {port['entry'] - port['if_dns']}" in text

    shot = tmp_path / "report.png"
    chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1000,2400",  # the whole file: the loop, the &&, the ?:
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("BPFCOV_UPDATE_DOCS"):
        shutil.copy(shot, ROOT / "docs" / "report.png")
