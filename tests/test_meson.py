"""Meson: bpfcov's helper, the example project and a meson-python package, for real.

The example project (examples/meson-project) is copied out with the helper put in
as a user would (``bpfcov meson-dir``), built plain with clang and with
``-Dbpf_coverage=true`` by bpfcov-cc, for the newest and the oldest LLVM here;
``meson test`` runs its loader in the kernel under ``bpfcov run``, and the counts
in the report it leaves are compared with the model of test_examples_kernel. The
Python package (examples/python-package) is pip-installed with coverage into a
fresh virtualenv and its entry point run under ``bpfcov run``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from support import (
    BPFFS,
    EXAMPLES,
    ROOT,
    llvm_cov,
    llvm_majors,
    model_xdp,
    multiarch_include,
    script,
)

from bpfcov_build import toolchain
from bpfcov_build.layout import ObjectInfo, Section, parse_object_info
from bpfcov_build.meson import HELPER_NAME, OPTION, adoption, files_dir

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

MAJORS = llvm_majors()
BUILD_MAJORS = sorted({max(MAJORS), min(MAJORS)}, reverse=True) if MAJORS else []
REPEAT = 3  # -Dxdp_repeat: not the project's default, so the counts show it was used
BIN = Path(script("bpfcov")).parent  # bpfcov, bpfcov-cc, meson, ninja
MESON = script("meson")
NINJA = script("ninja")
PINS = BPFFS / "bpfcov"


def env(**extra: str) -> dict[str, str]:
    """This environment, with the package's scripts first on PATH."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def run(*cmd: object, **extra: str) -> str:
    """Runs ``cmd`` in env(**extra); fails the test with its output if it fails: stdout."""
    result = subprocess.run(
        [str(c) for c in cmd], env=env(**extra), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{cmd}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def sections(obj: Path) -> set[str]:
    with obj.open("rb") as f:
        return {s.name for s in ELFFile(f).iter_sections()}


def object_info_of(obj: Path) -> ObjectInfo:
    with obj.open("rb") as f:
        return parse_object_info(ELFFile(f).get_section_by_name(Section.COVMAP.value).data())


def producer(obj: Path) -> str:
    """The strings of ``obj``'s DWARF, among them the producer: "clang version N.x.y"."""
    with obj.open("rb") as f:
        return ELFFile(f).get_section_by_name(".debug_str").data().decode(errors="replace")


@functools.cache
def maps_branch_in_system_macro(major: int, expression: str) -> bool:
    """Whether clang-N maps a branch for the ``?:`` of libbpf's bpf_ntohs/bpf_htons
    (a macro of a system header) in ``expression`` of an unsigned short ``x``: seen in
    llvm-cov's export of a host object. clang 14 maps none; clang 21 also maps the
    folded one of a constant argument."""
    with tempfile.TemporaryDirectory(prefix="bpfcov-test-probe-") as tmp:
        source, obj = Path(tmp) / "probe.c", Path(tmp) / "probe.o"
        source.write_text(
            "#include <linux/types.h>\n#include <bpf/bpf_endian.h>\n"
            f"int f(unsigned short x) {{ return {expression}; }}\n"
        )
        subprocess.run(
            [
                toolchain.Toolchain(major).clang,
                "-fprofile-instr-generate",
                "-fcoverage-mapping",
                multiarch_include(),
                "-c",
                source,
                "-o",
                obj,
            ],
            check=True,
        )
        export = json.loads(llvm_cov(major, "export", obj, None, "-format=text"))
    return bool(export["data"][0]["functions"][0]["branches"])


def load_packets(xdp_dir: Path) -> dict[str, bytes]:
    """PACKETS of examples/xdp/packets.py, the packets the project's test runs."""
    spec = importlib.util.spec_from_file_location("xdp_packets", xdp_dir / "packets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    packets: dict[str, bytes] = module.PACKETS
    return packets


def expected_branches(packets: list[bytes], repeat: int, major: int) -> dict[str, object]:
    """Entry count and (true, false) of every branch, in source order, per function."""
    x: Counter[str] = Counter()
    p: Counter[str] = Counter()
    for packet in packets:
        for _ in range(repeat):
            model_xdp(packet, x, p)
    past_eth = x["entry"] - x["if_short_eth"]
    past_vlans = x["htons_ip_const"]
    is_ipv4 = past_vlans - x["if_not_ipv4"]
    whole_ip = is_ipv4 - x["if_short_ip"]
    udp_ihl5 = x["and_rhs_true"]
    # The ?: of __builtin_constant_p in libbpf's bpf_htons/bpf_ntohs: mapped or not,
    # as this clang does (a constant argument takes the true side every time).
    runtime_swap = maps_branch_in_system_macro(major, "bpf_ntohs(x) == 53")
    constant_swap = maps_branch_in_system_macro(major, "x != bpf_htons(0x8100)")
    branches = [
        (x["if_short_eth"], past_eth),  # if ((void *)(eth + 1) > data_end)
        (x["for_body"], past_eth - x["if_not_vlan"] - x["if_short_vlan"]),  # i < 2
        (x["if_not_vlan"], x["for_body"] - x["if_not_vlan"]),  # proto != 802.1Q
        *([(x["htons_vlan_const"], 0)] if constant_swap else []),  # bpf_htons's ?:
        (x["if_short_vlan"], x["for_body"] - x["if_not_vlan"] - x["if_short_vlan"]),
        (x["if_not_ipv4"], is_ipv4),  # proto != ETH_P_IP
        *([(x["htons_ip_const"], 0)] if constant_swap else []),  # bpf_htons's ?:
        (x["if_short_ip"], whole_ip),  # (void *)(ip + 1) > data_end
        (x["and_rhs"], whole_ip - x["and_rhs"]),  # ip->protocol == IPPROTO_UDP
        (udp_ihl5, x["and_rhs"] - udp_ihl5),  # && ip->ihl == 5
        (x["if_short_udp"], udp_ihl5 - x["if_short_udp"]),  # udp + 1 > data_end
        *([(x["ntohs_const"], udp_ihl5 - x["if_short_udp"])] if runtime_swap else []),
        (x["ttl_true"], whole_ip - udp_ihl5 - x["ttl_true"]),  # ip->ttl > 1 ?
    ]
    return {
        "xdp_parser": (x["entry"], branches),
        "xdp_parser.bpf.c:port_verdict": (
            p["entry"],
            [
                (p["if_dns"], p["entry"] - p["if_dns"]),
                (p["if_privileged"], p["entry"] - p["if_dns"] - p["if_privileged"]),
            ],
        ),
    }


def assert_report(report: Path, packets: list[bytes], repeat: int, major: int) -> None:
    """llvm-cov's JSON export holds exactly the counts the model gives."""
    functions = json.loads(report.read_text())["data"][0]["functions"]
    got = {
        f["name"]: (f["count"], [(b[4], b[5]) for b in sorted(f["branches"])]) for f in functions
    }
    assert got == expected_branches(packets, repeat, major)
    assert got["xdp_parser"][0] == len(packets) * repeat


@pytest.fixture(autouse=True)
def no_pins_left() -> object:
    """The pins of every run here (meson test's and the package's) are gone at the end."""
    before = set(PINS.glob("meson-test-*"))
    yield
    assert set(PINS.glob("meson-test-*")) <= before


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/xdp and the Meson project side by side, the helper copied in."""
    root = tmp_path_factory.mktemp("meson")
    shutil.copytree(EXAMPLES / "xdp", root / "xdp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        EXAMPLES / "meson-project",
        root / "meson-project",
        ignore=shutil.ignore_patterns(HELPER_NAME, "build*", "__pycache__"),
    )
    shutil.copytree(files_dir(), root / "meson-project" / HELPER_NAME)
    return root / "meson-project"


@pytest.fixture(params=BUILD_MAJORS, ids=[f"llvm{n}" for n in BUILD_MAJORS])
def major(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def test_helper_ships_with_the_package() -> None:
    """The installed helper is the source tree's, and its adoption text is right."""
    installed = files_dir() / "meson.build"
    assert installed.read_text() == (ROOT / "bpfcov_build/meson/bpfcov/meson.build").read_text()
    text = adoption()
    assert str(files_dir()) in text and OPTION in text and f"subdir('{HELPER_NAME}')" in text
    for example in ("meson-project", "python-package"):
        assert OPTION in (EXAMPLES / example / "meson.options").read_text()
        assert (EXAMPLES / example / HELPER_NAME).resolve() == (ROOT / "bpfcov_build/meson/bpfcov")


def test_plain_build_uses_clang(project: Path, major: int, tmp_path: Path) -> None:
    build = tmp_path / "build"
    native = tmp_path / "native.ini"
    native.write_text(f"[binaries]\nclang = '{toolchain.Toolchain(major).clang}'\n")
    run(MESON, "setup", build, project, f"--native-file={native}")
    run(NINJA, "-C", build)
    obj = build / "xdp_parser.bpf.o"
    assert Section.COUNTERS.value not in sections(obj)
    assert not (build / "xdp_parser.bpf.obj").exists()
    assert f"clang version {major}." in producer(obj)

    run(MESON, "install", "-C", build, "--destdir", tmp_path / "dest")
    installed = sorted(p.name for p in (tmp_path / "dest").rglob("xdp_parser.bpf.*"))
    assert installed == ["xdp_parser.bpf.o"]

    out = run(MESON, "test", "-C", build)  # the loader alone: verdicts checked
    assert "bpfcov run" not in out
    assert not (build / "coverage").exists()


def test_coverage_build_install_incremental_and_report(
    project: Path, major: int, tmp_path: Path
) -> None:
    build = tmp_path / "build"
    llvm = {"BPFCOV_LLVM": str(major)}
    run(MESON, "setup", build, project, "-Dbpf_coverage=true", f"-Dxdp_repeat={REPEAT}", **llvm)
    run(NINJA, "-C", build, **llvm)
    obj, mapping = build / "xdp_parser.bpf.o", build / "xdp_parser.bpf.obj"
    assert Section.COUNTERS.value in sections(obj)
    info = object_info_of(obj)
    assert info.llvm_major == major
    assert info.object_path == str(mapping)
    assert f"clang version {major}." in producer(obj)
    assert mapping.is_file()

    # meson install: the mapping object beside the object, in one directory.
    run(MESON, "install", "-C", build, "--destdir", tmp_path / "dest", **llvm)
    installed = sorted((tmp_path / "dest").rglob("xdp_parser.bpf.*"))
    assert [p.name for p in installed] == ["xdp_parser.bpf.o", "xdp_parser.bpf.obj"]
    assert installed[0].parent == installed[1].parent
    assert Section.COUNTERS.value in sections(installed[0])

    # Incremental: nothing to do; the headers are dependencies; the source rebuilds.
    assert "no work to do" in run(NINJA, "-C", build, **llvm)
    deps = run(NINJA, "-C", build, "-t", "deps", "xdp_parser.bpf.o")
    assert "bpf/bpf_helpers.h" in deps and "linux/bpf.h" in deps
    before = obj.stat().st_mtime_ns
    (project.parent / "xdp" / "xdp_parser.bpf.c").touch()
    rebuilt = run(NINJA, "-C", build, **llvm)
    assert "Generating xdp_parser.bpf with a custom command" in rebuilt
    assert obj.stat().st_mtime_ns > before and mapping.stat().st_mtime_ns > before
    assert "no work to do" in run(NINJA, "-C", build, **llvm)

    # meson test: the loader under bpfcov run, then the report in build/coverage.
    out = run(MESON, "test", "-C", build, **llvm)
    assert "bpfcov: pinning coverage maps under" in out
    assert "TOTAL" in out  # bpfcov out -f text, printed
    assert (build / "coverage" / "html" / "index.html").is_file()
    packets = load_packets(project.parent / "xdp")
    assert_report(build / "coverage" / "coverage.json", list(packets.values()), REPEAT, major)


def test_python_package_with_coverage(tmp_path: Path) -> None:
    """pip install -Dbpf_coverage=true, run the entry point under bpfcov run, report."""
    # A fresh virtualenv that sees this one's packages (meson-python, meson), so the
    # wheel builds without a network: --no-build-isolation.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    (site,) = venv.glob("lib/python3*/site-packages")
    (site / "bpfcov-test-parent.pth").write_text(
        "\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n"
    )
    source = tmp_path / "src"
    shutil.copytree(EXAMPLES / "xdp", source / "xdp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        EXAMPLES / "python-package",
        source / "python-package",
        ignore=shutil.ignore_patterns(HELPER_NAME, "build*", "__pycache__", ".mesonpy*"),
    )
    shutil.copytree(files_dir(), source / "python-package" / HELPER_NAME)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    pip += ["--no-build-isolation", "--no-deps", "--force-reinstall", source / "python-package"]
    demo = venv / "bin" / "xdp-demo"

    # Plain: the object alone, built by clang.
    run(*pip)
    assert Section.COUNTERS.value not in sections(Path(run(demo, "--object").strip()))
    assert subprocess.run([demo, "--mapping-object"], capture_output=True, check=False).returncode
    assert "packets, 1 run(s) each" in run(demo)  # the built-in packets, in the kernel

    # The long form: Debian 12's pip (23.0) has no -C.
    run(*pip, "--config-settings=setup-args=-Dbpf_coverage=true")
    obj = Path(run(demo, "--object").strip())
    mapping = Path(run(demo, "--mapping-object").strip())
    assert obj.parent == mapping.parent == site / "xdp_demo"
    assert Section.COUNTERS.value in sections(obj)

    packets = load_packets(source / "xdp")
    (tmp_path / "packets").mkdir()
    files = []
    for name, packet in packets.items():
        files.append(tmp_path / "packets" / f"{name}.bin")
        files[-1].write_bytes(packet)
    pins = PINS / f"meson-test-{os.getpid()}-{tmp_path.name}"
    try:
        out = run(script("bpfcov"), "run", "--pin-dir", pins, "--", demo, "-r", REPEAT, *files)
        assert f"{len(files)} packets, {REPEAT} run(s) each" in out
        for path in files:
            assert f"{path}: {path.name.split('-')[0]}" in out  # drop-..., pass-...
        run(script("bpfcov"), "gen", "--unpin", "-o", tmp_path / "xdp.profraw", pins)
    finally:
        shutil.rmtree(pins, ignore_errors=True)
    # The wheel was built in a temporary directory: the installed mapping object.
    report = tmp_path / "xdp.json"
    run(
        script("bpfcov"), "out", "-f", "json", "-o", report, "--object", mapping,
        tmp_path / "xdp.profraw",
    )  # fmt: skip
    assert_report(report, list(packets.values()), REPEAT, object_info_of(obj).llvm_major)
