"""Go loaders (cilium/ebpf) load instrumented objects unchanged: exact counts.

The Go module tests/progs/go is built offline from Debian's packages (golang-go,
golang-github-cilium-ebpf-dev: the sources under /usr/share/gocode/src), with every
module found there as a ``replace`` of a copy's go.mod, ``GOPROXY=off`` and
``GOTOOLCHAIN=local``. Two loaders run the XDP example on PACKETS with
BPF_PROG_TEST_RUN under ``bpfcov run``:

- ``cmd/loadspec``: ``ebpf.LoadCollectionSpec`` + ``ebpf.NewCollection`` of the
  ``X.bpf.o`` bpfcov-cc wrote;
  the MC/DC example runs the same way;
- ``cmd/bpf2go``: the ``LoadXdpObjects`` that ``go generate`` (bpf2go, ``-cc
  bpfcov-cc``) generated, with the object embedded in the Go binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import (
    ACL_SOURCE,
    ACL_VECTORS,
    PACKETS,
    ROOT,
    acl_packet,
    assert_xdp_report,
    bpfcov,
    build,
    decision,
    executed_vectors,
    function_names,
    mcdc_majors,
    multiarch_include,
    script,
    show_mcdc,
)

from bpfcov_build import toolchain

GO_MODULE = ROOT / "tests" / "progs" / "go"
GOCODE = Path("/usr/share/gocode/src")
CILIUM_PACKAGE = "golang-github-cilium-ebpf-dev"
#: The cilium/ebpf these tests were measured with (Debian sid's); older ones skip.
CILIUM_MIN = "0.22"


def _missing() -> str | None:
    """Why the Go loaders cannot be built here, or None."""
    where = (
        "scripts/setup.sh installs it where Debian packages cilium/ebpf 0.22 or newer (sid); "
        "bash scripts/userland.sh sid runs these tests"
    )
    if shutil.which("go") is None:
        return f"Go is not installed (Debian's golang-go); {where}"
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", CILIUM_PACKAGE],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if not version or not (GOCODE / "github.com" / "cilium" / "ebpf" / "go.mod").exists():
        return f"cilium/ebpf is not installed (Debian's {CILIUM_PACKAGE}); {where}"
    older = subprocess.run(["dpkg", "--compare-versions", version, "lt", CILIUM_MIN], check=False)
    if older.returncode == 0:
        return f"{CILIUM_PACKAGE} {version} is older than {CILIUM_MIN}; {where}"
    return None


_MISSING = _missing()
pytestmark = [
    pytest.mark.kernel,
    pytest.mark.slow,
    pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING)),
]


def debian_modules() -> dict[str, Path]:
    """Every Go module Debian's packages put under /usr/share/gocode/src, by module path."""
    found: dict[str, Path] = {}
    for gomod in sorted(GOCODE.glob("**/go.mod")):
        relative = gomod.relative_to(GOCODE).parts
        if "testdata" in relative or any(p.startswith("_") for p in relative):
            continue
        name = re.search(r"^module\s+(\S+)", gomod.read_text(), re.MULTILINE)
        if name:
            found.setdefault(name.group(1).strip('"`'), gomod.parent)
    return found


def go_env(work: Path, **extra: str) -> dict[str, str]:
    """Go offline: no proxy, no toolchain download, GOPATH and GOCACHE under ``work``."""
    return {
        **os.environ,
        "GOPATH": str(work / "gopath"),
        "GOCACHE": str(work / "gocache"),
        "GOPROXY": "off",
        "GOSUMDB": "off",
        "GOTOOLCHAIN": "local",
        "GOFLAGS": "-mod=mod",
        "GOWORK": "off",
        "CGO_ENABLED": "0",
        "PATH": f"{script('bpfcov-cc').rsplit('/', 1)[0]}:{os.environ.get('PATH', '')}",
        **extra,
    }


def go(env: dict[str, str], cwd: Path, *args: str) -> None:
    result = subprocess.run(
        ["go", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"go {' '.join(args)}:\n{result.stdout}{result.stderr}"


def module_copy(dest: Path) -> Path:
    """tests/progs/go copied to ``dest``, its go.mod replacing each module by Debian's."""
    shutil.copytree(GO_MODULE, dest, symlinks=False)
    edits = [f"-replace={name}={path}" for name, path in debian_modules().items()]
    subprocess.run(["go", "mod", "edit", *edits], cwd=dest, check=True)
    return dest


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GOPATH and GOCACHE of this module's builds."""
    return tmp_path_factory.mktemp("go")


@pytest.fixture(scope="module")
def loadspec(work: Path) -> Path:
    module = module_copy(work / "loadspec-module")
    go(go_env(work), module, "build", "-o", str(work / "loadspec"), "./cmd/loadspec")
    return work / "loadspec"


@pytest.fixture(scope="module")
def packet_args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """PACKETS as files, each named as many times as it is to run."""
    out = tmp_path_factory.mktemp("packets")
    args: list[str] = []
    for i, (packet, times) in enumerate(PACKETS):
        path = out / f"{i:02}.bin"
        path.write_bytes(packet)
        args += [str(path)] * times
    return args


def run_and_report(
    loader: list[str], maps: list[str], pins: Path, out: Path
) -> dict[str, dict[str, object]]:
    """``bpfcov run`` of ``loader``, which creates the coverage maps pinned as ``maps``,
    then ``gen`` and ``out -f json``: functions by name."""
    run = bpfcov("run", "--require-coverage", "--pin-dir", pins, "--", *loader)
    assert run.returncode == 0, run.stderr
    assert "warning" not in run.stderr, run.stderr
    # cilium/ebpf gives every map a BTF object of its own: a group each
    assert sorted([m.name for m in g.iterdir()] for g in pins.iterdir()) == [[m] for m in maps]
    verdicts = run.stdout.splitlines()
    assert len(verdicts) == sum(times for _, times in PACKETS), run.stdout
    gen = bpfcov("gen", "-o", out / "go.profraw", pins)
    assert gen.returncode == 0, gen.stderr
    assert "warning" not in gen.stderr, gen.stderr
    report = bpfcov("out", "-f", "json", "-o", out / "go.json", out / "go.profraw")
    assert report.returncode == 0, report.stderr
    data = json.loads((out / "go.json").read_text())["data"][0]["functions"]
    return {f["name"]: f for f in data}


def assert_exact(functions: dict[str, dict[str, object]]) -> None:
    """The counts llvm-cov shows are what PACKETS make the XDP parser run."""
    assert_xdp_report(functions)
    assert functions["xdp_parser"]["count"] == 70


def test_load_collection_spec_under_run(
    major: int, loadspec: Path, packet_args: list[str], pins: Path, tmp_path: Path
) -> None:
    obj = build(ROOT / "examples" / "xdp" / "xdp_parser.bpf.c", tmp_path / "xdp.bpf.o", major)
    # NewCollection creates every map of the object
    every = ["_data_profc", "_rodata_covmap", "_rodata_profd", "_rodata_profn"]
    assert_exact(run_and_report([str(loadspec), str(obj), *packet_args], every, pins, tmp_path))


def test_mcdc_bitmaps_of_load_collection_spec(
    major: int, loadspec: Path, pins: Path, tmp_path: Path
) -> None:
    """The bitmaps map gets a BTF object of its own too: its trailer names its object.

    The MC/DC vectors are those the access list's packets take (the loader leaves
    allow_remote_login 0, so its condition is never false).
    """
    if major not in mcdc_majors():
        pytest.skip(f"clang-{major} has no -fcoverage-mcdc")
    obj = build(ACL_SOURCE, tmp_path / "acl.bpf.o", major, "-fcoverage-mcdc")
    inputs = [v for v in ACL_VECTORS if not v[2]]
    packets = []
    for i, (proto, port, _) in enumerate(inputs):
        packets.append(tmp_path / f"acl{i}.bin")
        packets[-1].write_bytes(acl_packet(proto, port))
    run = bpfcov("run", "--require-coverage", "--pin-dir", pins, "--", loadspec, obj, *packets)
    assert run.returncode == 0, run.stderr
    assert "warning" not in run.stderr, run.stderr
    groups = sorted([m.name for m in g.iterdir()] for g in pins.iterdir())
    assert ["_data_profbm"] in groups
    assert ["_data_profc"] in groups
    gen = bpfcov("gen", "-o", tmp_path / "acl.profraw", pins)
    assert gen.returncode == 0, gen.stderr
    show = decision(show_mcdc(major, obj, tmp_path / "acl.profraw"), 4)
    assert executed_vectors(show) == {ACL_VECTORS[v] for v in inputs}, show
    assert "MC/DC Coverage for Decision: 75.00%" in show


def test_bpf2go_package_under_run(
    major: int, work: Path, packet_args: list[str], pins: Path, tmp_path: Path
) -> None:
    module = module_copy(tmp_path / "module")
    env = go_env(
        work,
        BPFCOV_LLVM=str(major),
        BPF2GO_STRIP=str(toolchain.Toolchain(major).tool("llvm-strip")),
        BPF2GO_CFLAGS=multiarch_include(),
    )
    go(env, module, "generate", "./xdp")
    for target in ("bpfel", "bpfeb"):
        mapping = module / "xdp" / f"xdp_{target}.obj"
        assert (module / "xdp" / f"xdp_{target}.o").is_file()
        assert sorted(function_names(major, mapping)) == [
            "xdp_parser",
            "xdp_parser.bpf.c:port_verdict",
        ]
    go(env, module, "build", "-o", str(tmp_path / "bpf2go"), "./cmd/bpf2go")
    # LoadXdpObjects (LoadAndAssign) creates only the maps the programs use; gen reads
    # the names and the mapping from xdp_bpfel.obj
    used = ["_data_profc", "_rodata_profd"]
    assert_exact(run_and_report([str(tmp_path / "bpf2go"), *packet_args], used, pins, tmp_path))


def test_a_program_the_verifier_refuses_is_named_with_the_loaders_error(
    major: int, loadspec: Path, pins: Path, tmp_path: Path
) -> None:
    """cilium/ebpf gives each map a group of its own: the counters' group is the one
    named (once), after the loader's own error."""
    obj = build(ROOT / "tests" / "progs" / "refused.bpf.c", tmp_path / "refused.bpf.o", major)
    run = bpfcov("run", "--pin-dir", pins, "--", loadspec, obj)
    assert run.returncode == 1, run.stderr  # the loader's status
    assert "loadspec: NewCollection: " in run.stderr
    counters = [g for g in pins.iterdir() if (g / "_data_profc").exists()]
    assert len(counters) == 1
    warnings = [line for line in run.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"bpfcov: warning: {counters[0]} ({obj.with_suffix('.obj')}): its maps were created "
        "but none of its programs loaded (see the program's errors above)"
    ]
