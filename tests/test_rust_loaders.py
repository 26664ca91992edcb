"""Rust loaders load instrumented objects unchanged: aya and libbpf-rs under bpfcov run.

tests/progs/rust/ holds two loaders of the XDP example, one on aya (0.13), one on
libbpf-rs (0.27). Cargo builds them offline from Debian's packaged crates
(/usr/share/cargo/registry), once per session; each loads the instrumented object as
it is, runs its program on the packets with BPF_PROG_TEST_RUN in this kernel, and
every counter of the profile bpfcov gen writes is compared with the model's count.
Where cargo or those crates are not installed (Debian 12 packages neither crate,
Debian 13 has libbpf-rs 0.25), the tests are skipped; scripts/setup.sh installs them
where the apt sources package these versions, as in the sid userland.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from support import (
    PACKETS,
    PORT_COUNTERS,
    ROOT,
    XDP_COUNTERS,
    bpfcov,
    expected_counts,
    model_xdp,
)

from bpfcov_build import layout
from bpfcov_build.profraw import decode

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

SOURCES = ROOT / "tests" / "progs" / "rust"
REGISTRY = Path("/usr/share/cargo/registry")
# Debian package → the crate directory it installs in REGISTRY.
CRATES = {
    "librust-aya-dev": "aya-0.13.",
    "librust-libbpf-rs-dev": "libbpf-rs-0.27.",
    "librust-libc-dev": "libc-0.2.",
}
LOADERS = ("aya-loader", "libbpf-rs-loader")
CARGO_CONFIG = f"""\
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "{REGISTRY}"

[net]
offline = true
"""


def missing_packages() -> list[str]:
    """The Debian packages the loaders need that are not installed here."""
    missing = [] if shutil.which("cargo") else ["cargo"]
    present = [p.name for p in REGISTRY.iterdir()] if REGISTRY.is_dir() else []
    for package, prefix in CRATES.items():
        if not any(name.startswith(prefix) for name in present):
            missing.append(package)
    return missing


@pytest.fixture(scope="module")
def rust_loaders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both loaders, built once for the module (they do not depend on the LLVM major).

    The workspace is copied out first, so that cargo never writes into the checkout
    (it updates Cargo.lock there when Debian's crates have moved on).
    """
    missing = missing_packages()
    if missing:
        pytest.skip(
            f"needs cargo and Debian's crates aya 0.13, libbpf-rs 0.27 and libc 0.2 in "
            f"{REGISTRY}: not installed here: {' '.join(missing)} (sid packages them, "
            "scripts/setup.sh installs them there: bash scripts/userland.sh sid -- ...)"
        )
    work = tmp_path_factory.mktemp("rust")
    shutil.copytree(SOURCES, work / "src", ignore=shutil.ignore_patterns("target"))
    (work / "cargo-home").mkdir()
    (work / "cargo-home" / "config.toml").write_text(CARGO_CONFIG)
    env = {
        **os.environ,
        "CARGO_HOME": str(work / "cargo-home"),
        "CARGO_TARGET_DIR": str(work / "target"),
    }
    started = time.monotonic()
    build = subprocess.run(
        ["cargo", "build", "--offline", "-j1", "--quiet"],
        cwd=work / "src",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    print(f"\ncargo build of {', '.join(LOADERS)}: {time.monotonic() - started:.0f} s")
    return {name: work / "target" / "debug" / name for name in LOADERS}


@pytest.fixture(scope="module")
def packet_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """PACKETS as files, each given to a loader as PATH:REPEAT."""
    out = tmp_path_factory.mktemp("packets")
    args = []
    for i, (packet, times) in enumerate(PACKETS):
        path = out / f"{i:02}.bin"
        path.write_bytes(packet)
        args.append(f"{path}:{times}")
    return args


def name_ref(name: str) -> int:
    """LLVM's NameRef of a function: the first 8 bytes of its name's MD5, little-endian."""
    return int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "little")


@pytest.mark.parametrize("loader", LOADERS)
def test_rust_loader_under_run_gives_exact_counts(
    loader: str,
    rust_loaders: dict[str, Path],
    xdp_obj: Path,
    packet_args: list[str],
    pins: Path,
    tmp_path: Path,
) -> None:
    run = bpfcov(
        "run", "--pin-dir", pins, "--", rust_loaders[loader], xdp_obj, "xdp_parser", *packet_args
    )
    assert run.returncode == 0, run.stderr
    # The loader printed each run's verdict: the program did run in the kernel.
    verdicts = [int(line.rsplit(": ", 1)[1]) for line in run.stdout.splitlines()]
    assert verdicts == [model_xdp(packet, Counter(), Counter()) for packet, _ in PACKETS]

    # Both create a map for every coverage section; libbpf gives them the object's
    # BTF id, aya 0.13 none (its group is btf0).
    (group,) = [p for p in pins.iterdir() if p.is_dir()]
    assert sorted(p.name for p in group.iterdir()) == sorted(
        layout.pin_name(s) for s in layout.Section if s is not layout.Section.BITMAPS
    )
    assert (group.name == "1-btf0") == (loader == "aya-loader")

    profile = tmp_path / "xdp.profraw"
    gen = bpfcov("gen", "--unpin", "-o", profile, pins)
    assert gen.returncode == 0, gen.stderr

    # Every counter, exact.
    xdp, port = expected_counts()
    counters = {rec.name_ref: rec.counters for rec in decode(profile.read_bytes()).records}
    assert counters == {
        name_ref("xdp_parser"): tuple(xdp[c] for c in XDP_COUNTERS),
        name_ref("xdp_parser.bpf.c:port_verdict"): tuple(port[c] for c in PORT_COUNTERS),
    }

    # And llvm-cov's reading of them: function counts and port_verdict's branches.
    out = bpfcov("out", "-f", "json", "-o", tmp_path / "cov.json", profile)
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "cov.json").read_text())["data"][0]
    functions = {f["name"]: f for f in data["functions"]}
    assert {name: f["count"] for name, f in functions.items()} == {
        "xdp_parser": xdp["entry"],
        "xdp_parser.bpf.c:port_verdict": port["entry"],
    }
    verdict = functions["xdp_parser.bpf.c:port_verdict"]
    branches = sorted(b[:2] + b[4:6] for b in verdict["branches"])  # by line, column
    assert [b[2:] for b in branches] == [
        [port["if_dns"], port["entry"] - port["if_dns"]],
        [port["if_privileged"], port["entry"] - port["if_dns"] - port["if_privileged"]],
    ]
