"""bpfcov out's formats, thresholds, merging and path remapping, read back exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest
from support import PACKETS, XDP_SOURCE, bpfcov, build, expected_counts, gen_after_packets

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.kernel


def line_of(source: Path, text: str) -> int:
    (number,) = [i for i, line in enumerate(source.read_text().splitlines(), 1) if text in line]
    return number


def test_several_formats_at_once_and_cobertura(xdp_obj: Path, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    out = tmp_path / "cov"
    result = bpfcov(
        "out",
        "-f",
        "html,json",
        "-f",
        "lcov",
        "-f",
        "cobertura,text",
        "-o",
        out,
        tmp_path / "x.profraw",
    )
    assert result.returncode == 0, result.stderr
    assert "TOTAL" in result.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["cobertura.xml", "coverage.json", "coverage.lcov", "html", "summary.txt"]
    assert (out / "summary.txt").read_text() == result.stdout

    xdp, port = expected_counts()
    root = ET.parse(out / "cobertura.xml").getroot()
    assert root.tag == "coverage"
    assert {"line-rate", "branch-rate", "lines-covered", "lines-valid", "timestamp"} <= set(
        root.attrib
    )
    (cls,) = [c for c in root.iter("class") if c.get("filename", "").endswith("xdp_parser.bpf.c")]
    hits = {int(line.get("number", 0)): int(line.get("hits", 0)) for line in cls.iter("line")}
    assert hits[line_of(XDP_SOURCE, "if (port < 1024)")] == port["entry"] - port["if_dns"]
    assert hits[line_of(XDP_SOURCE, "return ip->ttl > 1")] == (
        xdp["entry"]
        - xdp["if_short_eth"]
        - xdp["if_short_vlan"]
        - xdp["if_not_ipv4"]
        - xdp["if_short_ip"]
        - xdp["if_udp_and_ihl5"]
    )
    lines = [line for line in cls.iter("line") if line.get("branch") == "true"]
    assert lines, "branch lines carry condition-coverage"
    assert all("%" in line.get("condition-coverage", "") for line in lines)


def test_thresholds(xdp_obj: Path, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    summary = json.loads(
        bpfcov("out", "-f", "json", "-o", tmp_path / "c.json", tmp_path / "x.profraw").stdout
        or "{}"
    ) or json.loads((tmp_path / "c.json").read_text())
    lines = summary["data"][0]["totals"]["lines"]["percent"]
    ok = bpfcov(
        "out",
        "--fail-under-lines",
        f"{lines - 1:.2f}",
        "--fail-under-functions",
        "100",
        tmp_path / "x.profraw",
    )
    assert ok.returncode == 0, ok.stderr
    failed = bpfcov(
        "out",
        "-f",
        "json",
        "-o",
        tmp_path / "d.json",
        "--fail-under-lines",
        f"{lines + 1:.2f}",
        tmp_path / "x.profraw",
    )
    assert failed.returncode == 3
    assert failed.stderr == (
        f"bpfcov: lines coverage {lines:.2f}% is under "
        f"--fail-under-lines {float(f'{lines + 1:.2f}'):g}%\n"
    )
    assert (tmp_path / "d.json").exists()  # the report is written all the same


def test_two_runs_add_up(xdp_obj: Path, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "a.profraw")
    gen_after_packets(xdp_obj, tmp_path / "b.profraw")
    result = bpfcov(
        "out",
        "-f",
        "json",
        "-o",
        tmp_path / "c.json",
        tmp_path / "a.profraw",
        tmp_path / "b.profraw",
    )
    assert result.returncode == 0, result.stderr
    functions = json.loads((tmp_path / "c.json").read_text())["data"][0]["functions"]
    xdp, port = expected_counts()
    assert {f["name"]: f["count"] for f in functions} == {
        "xdp_parser": 2 * xdp["entry"],
        "xdp_parser.bpf.c:port_verdict": 2 * port["entry"],
    }


def test_show_functions(xdp_obj: Path, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    result = bpfcov("out", "--show-functions", tmp_path / "x.profraw")
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()
        if line.startswith(("xdp_parser", "xdp_parser.bpf.c:"))
    }
    xdp, port = expected_counts()
    assert rows["xdp_parser"][0] == str(xdp["entry"])
    assert rows["xdp_parser.bpf.c:port_verdict"][0] == str(port["entry"])


def test_path_equivalence(major: int, tmp_path: Path) -> None:
    built_in = tmp_path / "build-host" / "src"
    built_in.mkdir(parents=True)
    shutil.copy(XDP_SOURCE, built_in / "xdp_parser.bpf.c")
    obj = build(built_in / "xdp_parser.bpf.c", tmp_path / "xdp_parser.bpf.o", major)
    gen_after_packets(obj, tmp_path / "x.profraw")
    here = tmp_path / "checkout"
    shutil.move(built_in, here)
    html = tmp_path / "html"
    missing = bpfcov("out", "-f", "html", "-o", tmp_path / "html-missing", tmp_path / "x.profraw")
    remapped = bpfcov(
        "out",
        "-f",
        "html",
        "-o",
        html,
        "--path-equivalence",
        f"{built_in},{here}",
        tmp_path / "x.profraw",
    )
    assert remapped.returncode == 0, remapped.stderr
    # The source text itself (its macro DNS_PORT) shows only once the path maps.
    pages = "".join(p.read_text() for p in html.rglob("*.html"))
    assert "DNS_PORT" in pages
    assert missing.returncode != 0 or "DNS_PORT" not in missing.stdout + "".join(
        p.read_text() for p in (tmp_path / "html-missing").rglob("*.html")
    )


def test_unknown_format_is_one_line(tmp_path: Path) -> None:
    result = bpfcov("out", "-f", "pdf", "-o", tmp_path / "x", tmp_path / "none.profraw")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unknown format 'pdf'" in result.stderr


def test_packets_are_what_the_model_counts() -> None:
    assert sum(times for _, times in PACKETS) == expected_counts()[0]["entry"]


def test_genhtml_reads_the_lcov_report(xdp_obj: Path, tmp_path: Path) -> None:
    gen_after_packets(xdp_obj, tmp_path / "x.profraw")
    result = bpfcov("out", "-f", "lcov", "-o", tmp_path / "cov.info", tmp_path / "x.profraw")
    assert result.returncode == 0, result.stderr
    genhtml = subprocess.run(
        ["genhtml", "--branch-coverage", "-o", tmp_path / "genhtml", tmp_path / "cov.info"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert genhtml.returncode == 0, genhtml.stderr
    pages = "".join(p.read_text() for p in (tmp_path / "genhtml").rglob("*.html"))
    assert "xdp_parser.bpf.c" in pages
    # genhtml counts the tracefile's line records (DA:line,hits) and functions (FN).
    tracefile = (tmp_path / "cov.info").read_text().splitlines()
    hits = [int(r.split(",")[1]) for r in tracefile if r.startswith("DA:")]
    assert f"({sum(1 for h in hits if h)} of {len(hits)} lines)" in genhtml.stdout
    assert "(2 of 2 functions)" in genhtml.stdout
