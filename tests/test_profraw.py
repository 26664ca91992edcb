"""Tests of bpfcov_build.profraw against the real toolchain of every LLVM here.

The oracles are the installed tools: clang-N builds and runs an instrumented host
program whose raw profile (written by compiler-rt) we decode, re-encode in our own
layout and hand to llvm-profdata-N / llvm-cov-N; and clang-N compiles InstrProfData.inc
to tell us the C layout our tables must match.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
import struct
import subprocess
import threading
import zlib
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import llvm_include_dir, llvm_majors, mcdc_majors, raw_version, uleb128

from bpfcov_build.errors import FormatError
from bpfcov_build.fsutil import OutputError
from bpfcov_build.profraw import (
    LAYOUTS,
    RAW_MAGIC,
    SUPPORTED_VERSIONS,
    VARIANT_FLAGS,
    Field,
    FunctionRecord,
    RawProfile,
    decode,
    encode,
    write_profraw,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

MAJORS = llvm_majors()
MCDC_MAJORS = mcdc_majors()

# A static helper, an `if`, a `?:` and a loop; no libc inline functions (glibc's inline
# atoi would be instrumented too, and only by some clang versions).
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>

static int classify(long v) {
    if (v > 10)
        return 2;
    return v % 2 ? 1 : 0;
}

int main(int argc, char **argv) {
    int counts[3] = {0, 0, 0};
    for (int i = 1; i < argc; i++)
        counts[classify(strtol(argv[i], 0, 10))]++;
    printf("%d %d %d\n", counts[0], counts[1], counts[2]);
    return 0;
}
"""
ARGS = ("3", "12", "4", "15", "7", "20", "1")
# Implied by ARGS: main runs once, its loop body 7 times; classify runs 7 times, takes
# the `if` for 12, 15, 20 and the `?:` true arm for the odd 3, 7, 1.
EXPECTED_COUNTERS = {"main": (1, 7), "prog.c:classify": (7, 3, 3)}

# MC/DC (clang 18 and newer): one decision with two conditions.
MCDC_PROGRAM = r"""
#include <stdlib.h>
static int both(long a, long b) { return (a > 2 && b > 2) ? 1 : 0; }
int main(int argc, char **argv) {
    int s = 0;
    for (int i = 1; i + 1 < argc; i += 2)
        s += both(strtol(argv[i], 0, 10), strtol(argv[i + 1], 0, 10));
    return s == 99;
}
"""
MCDC_ARGS = ("3", "3", "1", "5", "5", "1")


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def run(*argv: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a tool that must succeed; return its stdout."""
    proc = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"{argv[0]} failed ({proc.returncode}): {proc.stderr}"
    return proc.stdout


def run_status(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a tool whose failure is the point; return the completed process."""
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)


def name_ref(name: str) -> int:
    """NameRef of a PGO name: the low 64 bits (little-endian) of its MD5."""
    return int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "little")


def read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def names_blob(names: Sequence[str]) -> bytes:
    """Uncompressed LLVM name data: ULEB size, ULEB 0, the names joined by 0x01."""
    joined = "\x01".join(names).encode()
    return uleb128(len(joined)) + uleb128(0) + joined


def parse_names(blob: bytes) -> set[str]:
    """All PGO names in an LLVM name-data blob (compressed or not)."""
    names: set[str] = set()
    pos = 0
    while pos < len(blob):
        size, pos = read_uleb(blob, pos)
        zsize, pos = read_uleb(blob, pos)
        if zsize:
            text = zlib.decompress(blob[pos : pos + zsize])
            pos += zsize
        else:
            text = blob[pos : pos + size]
            pos += size
        assert len(text) == size
        names.update(text.decode().split("\x01"))
        while pos < len(blob) and blob[pos] == 0:  # padding between name groups
            pos += 1
    return names


def offset_of(rows: tuple[Field, ...], ident: str) -> int:
    """Byte offset of a member inside a struct declared by layout rows."""
    pos = 0
    for row in rows:
        if row.ident == ident:
            return pos
        pos += row.size
    raise KeyError(ident)


def patch_u64(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<Q", value & (2**64 - 1)) + data[offset + 8 :]


@dataclasses.dataclass(frozen=True)
class HostRun:
    """A host program built and run under one LLVM major."""

    major: int
    workdir: Path
    binary: Path
    profraw: Path

    def tool(self, name: str) -> str:
        return f"{name}-{self.major}"


def build_and_run(
    workdir: Path,
    major: int,
    source: str,
    args: Sequence[str],
    extra: Sequence[str] = (),
) -> HostRun:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prog.c").write_text(source)
    binary = workdir / "prog"
    run(
        f"clang-{major}",
        "-O2",
        "-fprofile-instr-generate",
        "-fcoverage-mapping",
        *extra,
        "prog.c",
        "-o",
        binary,
        cwd=workdir,
    )
    profraw = workdir / "host.profraw"
    env = {**os.environ, "LLVM_PROFILE_FILE": str(profraw)}
    run(binary, *args, cwd=workdir, env=env)
    assert profraw.is_file()
    return HostRun(major, workdir, binary, profraw)


@pytest.fixture(scope="module")
def host(major: int, tmp_path_factory: pytest.TempPathFactory) -> HostRun:
    return build_and_run(tmp_path_factory.mktemp(f"host{major}"), major, PROGRAM, ARGS)


@pytest.fixture(scope="module", params=MCDC_MAJORS, ids=[f"llvm{m}" for m in MCDC_MAJORS])
def mcdc_host(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> HostRun:
    major: int = request.param
    return build_and_run(
        tmp_path_factory.mktemp(f"mcdc{major}"),
        major,
        MCDC_PROGRAM,
        MCDC_ARGS,
        ("-fcoverage-mcdc",),
    )


def show(major: int, path: Path) -> str:
    return run(f"llvm-profdata-{major}", "show", "--all-functions", "--counts", path)


def show_functions(text: str) -> dict[str, tuple[str, str, str]]:
    """Per function in `llvm-profdata show`: (hash, function count, block counts)."""
    out: dict[str, tuple[str, str, str]] = {}
    current = ""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("    ") and ":" in line:
            key, _, value = line.strip().partition(":")
            fields[key] = value.strip()
            out[current] = (
                fields.get("Hash", ""),
                fields.get("Function count", ""),
                fields.get("Block counts", ""),
            )
        elif line.startswith("  ") and line.rstrip().endswith(":"):
            current = line.strip()[:-1]
            fields = {}
    return out


# --------------------------------------------------------------------------------------
# The layout tables against the C layout of the installed InstrProfData.inc
# --------------------------------------------------------------------------------------

LAYOUT_PROBE = r"""
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
typedef uint64_t IntPtrT;
enum ValueKind {
#define VALUE_PROF_KIND(Enumerator, Value, Descr) Enumerator = Value,
#include "llvm/ProfileData/InstrProfData.inc"
};
struct Header {
#define INSTR_PROF_RAW_HEADER(Type, Name, Initializer) Type Name;
#include "llvm/ProfileData/InstrProfData.inc"
};
struct Data {
#define INSTR_PROF_DATA(Type, LLVMType, Name, Initializer) Type Name;
#include "llvm/ProfileData/InstrProfData.inc"
};
static const char *header_names[] = {
#define INSTR_PROF_RAW_HEADER(Type, Name, Initializer) #Name,
#include "llvm/ProfileData/InstrProfData.inc"
};
static const char *data_names[] = {
#define INSTR_PROF_DATA(Type, LLVMType, Name, Initializer) #Name,
#include "llvm/ProfileData/InstrProfData.inc"
};
#include "llvm/ProfileData/InstrProfData.inc"
#define MEMBER(S, M) printf("%s %s %zu %zu\n", #S, #M, offsetof(struct S, M), \
                            sizeof(((struct S *)0)->M));
int main(void) {
    printf("version %d\nipvk_last %d\nmask %llu\n", INSTR_PROF_RAW_VERSION,
           (int)IPVK_Last, (unsigned long long)VARIANT_MASKS_ALL);
    printf("sizes %zu %zu\n", sizeof(struct Header), sizeof(struct Data));
    for (size_t i = 0; i < sizeof header_names / sizeof *header_names; i++)
        printf("hname %s\n", header_names[i]);
    for (size_t i = 0; i < sizeof data_names / sizeof *data_names; i++)
        printf("dname %s\n", data_names[i]);
    MEMBERS
    return 0;
}
"""


def test_tables_match_installed_instrprofdata(major: int, tmp_path: Path) -> None:
    layout = LAYOUTS[raw_version(major)]
    members = [
        f"MEMBER({struct_name}, {row.name})"
        for struct_name, rows in (("Header", layout.header), ("Data", layout.record))
        for row in rows
        if not row.is_padding
    ]
    (tmp_path / "probe.c").write_text(LAYOUT_PROBE.replace("MEMBERS", " ".join(members)))
    run(
        f"clang-{major}",
        f"-I{llvm_include_dir(major)}",
        "probe.c",
        "-o",
        "probe",
        cwd=tmp_path,
    )
    lines = [line.split() for line in run(tmp_path / "probe").splitlines()]

    def values(tag: str) -> list[list[str]]:
        return [line[1:] for line in lines if line[0] == tag]

    assert values("version") == [[str(layout.version)]]
    assert values("ipvk_last") == [[str(layout.value_kind_last)]]
    assert int(values("mask")[0][0]) == layout.variant_mask
    assert values("sizes") == [[str(layout.header_size), str(layout.record_size)]]
    assert [v[0] for v in values("hname")] == [r.name for r in layout.header]
    assert [v[0].split("[")[0] for v in values("dname")] == [
        r.name for r in layout.record if not r.is_padding
    ]
    for struct_name, rows in (("Header", layout.header), ("Data", layout.record)):
        want = [
            [struct_name, row.name, str(offset_of(rows, row.ident)), str(row.size)]
            for row in rows
            if not row.is_padding
        ]
        assert [line for line in lines if line[0] == struct_name] == want


def test_layout_registry() -> None:
    # Header and record sizes as the C structs of InstrProfData.inc have them
    # (test_tables_match_installed_instrprofdata checks each against its LLVM).
    assert {v: (lay.header_size, lay.record_size) for v, lay in LAYOUTS.items()} == {
        8: (88, 48),
        9: (112, 64),
        10: (128, 64),
        11: (152, 72),
    }
    assert tuple(sorted(LAYOUTS)) == SUPPORTED_VERSIONS
    assert all(version == lay.version for version, lay in LAYOUTS.items())


# --------------------------------------------------------------------------------------
# The oracle: real compiler-rt profiles
# --------------------------------------------------------------------------------------


def test_decode_real_profile(host: HostRun) -> None:
    profile = decode(host.profraw.read_bytes())
    assert profile.version == raw_version(host.major)
    assert profile.variant_flags == 0  # front-end instrumentation sets no flags
    assert parse_names(profile.names) == set(EXPECTED_COUNTERS)
    by_ref = {rec.name_ref: rec for rec in profile.records}
    assert len(profile.records) == len(by_ref) == len(EXPECTED_COUNTERS)
    for name, counters in EXPECTED_COUNTERS.items():
        rec = by_ref[name_ref(name)]
        assert rec.counters == counters, name
        assert rec.num_value_sites == (0,) * (LAYOUTS[profile.version].value_kind_last + 1)
        assert rec.bitmap == b""


def test_reencoded_profile_matches_original(host: HostRun, tmp_path: Path) -> None:
    original = decode(host.profraw.read_bytes())
    ours = tmp_path / "ours.profraw"
    ours.write_bytes(encode(original))
    assert decode(ours.read_bytes()) == original

    profdata = tmp_path / "ours.profdata"
    run(host.tool("llvm-profdata"), "merge", "-sparse", ours, "-o", profdata)

    expected = show(host.major, host.profraw)
    assert show(host.major, ours) == expected
    functions = show_functions(expected)
    assert functions["main"][1:] == ("1", "[7]")
    assert functions["prog.c:classify"][1:] == ("7", "[3, 3]")
    assert {f: h for f, (h, _, _) in functions.items()} == {
        f: f"{rec.func_hash:#018x}"
        for f in EXPECTED_COUNTERS
        for rec in original.records
        if rec.name_ref == name_ref(f)
    }

    # And the line coverage llvm-cov derives from either file is the same.
    host_profdata = tmp_path / "host.profdata"
    run(
        host.tool("llvm-profdata"),
        "merge",
        "-sparse",
        host.profraw,
        "-o",
        host_profdata,
    )
    cov_host = run(host.tool("llvm-cov"), "show", host.binary, f"-instr-profile={host_profdata}")
    cov_ours = run(host.tool("llvm-cov"), "show", host.binary, f"-instr-profile={profdata}")
    assert cov_ours == cov_host
    assert re.search(r"^\s*\d+\|\s*7\|\s*counts\[classify", cov_ours, re.MULTILINE), cov_ours


def test_mcdc_bitmap_roundtrip(mcdc_host: HostRun, tmp_path: Path) -> None:
    original = decode(mcdc_host.profraw.read_bytes())
    both = next(r for r in original.records if r.name_ref == name_ref("prog.c:both"))
    assert both.counters[0] == 3
    # Inputs (3,3) (1,5) (5,1): test vectors F-, TF and TT are executed -> three bits.
    assert len(both.bitmap) == 1
    assert both.bitmap[0].bit_count() == 3

    ours = tmp_path / "ours.profraw"
    ours.write_bytes(encode(original))
    assert decode(ours.read_bytes()) == original
    assert show(mcdc_host.major, ours) == show(mcdc_host.major, mcdc_host.profraw)
    reports = []
    for raw in (mcdc_host.profraw, ours):
        profdata = tmp_path / f"{raw.stem}.profdata"
        run(mcdc_host.tool("llvm-profdata"), "merge", "-sparse", raw, "-o", profdata)
        reports.append(
            run(
                mcdc_host.tool("llvm-cov"),
                "show",
                mcdc_host.binary,
                f"-instr-profile={profdata}",
                "-show-mcdc",
            )
        )
    assert reports[0] == reports[1]
    assert "MC/DC Coverage for Decision: 100.00%" in reports[1]


def test_synthetic_profile_accepted_by_llvm_profdata(major: int, tmp_path: Path) -> None:
    """A profile built from scratch, as the BPF runtime will, reads in llvm-profdata."""
    version = raw_version(major)
    sites = (0,) * (LAYOUTS[version].value_kind_last + 1)
    funcs = {
        "xdp_prog": (0x67C7757E575229C3, (5, 20, 10, 5, 3)),
        "prog.bpf.c:classify": (0x0D216ED5378272D0, (5, 3, 3, 3, 0)),
    }
    records = tuple(
        FunctionRecord(name_ref(name), fhash, counters, sites)
        for name, (fhash, counters) in funcs.items()
    )
    path = tmp_path / "bpf.profraw"
    write_profraw(path, RawProfile(version, records, names_blob(list(funcs))))
    run(
        f"llvm-profdata-{major}",
        "merge",
        "-sparse",
        path,
        "-o",
        tmp_path / "bpf.profdata",
    )
    functions = show_functions(show(major, path))
    assert functions == {
        "xdp_prog": ("0x67c7757e575229c3", "5", "[20, 10, 5, 3]"),
        "prog.bpf.c:classify": ("0x0d216ed5378272d0", "5", "[3, 3, 3, 0]"),
    }


def _cross_version_pairs() -> list[tuple[int, int]]:
    """The oldest and the newest LLVM here, both ways, if their raw versions differ."""
    if not MAJORS or raw_version(MAJORS[0]) == raw_version(MAJORS[-1]):
        return []
    return [(MAJORS[0], MAJORS[-1]), (MAJORS[-1], MAJORS[0])]


@pytest.mark.llvm
@pytest.mark.skipif(
    not _cross_version_pairs(), reason="needs two LLVMs here with different raw versions"
)
@pytest.mark.parametrize(("writer", "reader"), _cross_version_pairs())
def test_cross_version_refused(writer: int, reader: int, tmp_path: Path) -> None:
    version = raw_version(writer)
    sites = (0,) * (LAYOUTS[version].value_kind_last + 1)
    profile = RawProfile(
        version, (FunctionRecord(name_ref("f"), 1, (1,), sites),), names_blob(["f"])
    )
    path = tmp_path / f"v{version}.profraw"
    path.write_bytes(encode(profile))
    run(
        f"llvm-profdata-{writer}",
        "merge",
        "-sparse",
        path,
        "-o",
        tmp_path / "ok.profdata",
    )
    proc = run_status(f"llvm-profdata-{reader}", "merge", "-sparse", path, "-o", tmp_path / "x")
    assert proc.returncode != 0
    assert "version" in proc.stderr


# --------------------------------------------------------------------------------------
# Round trips of generated profiles
# --------------------------------------------------------------------------------------

U64 = st.integers(0, 2**64 - 1)


@st.composite
def profiles(draw: st.DrawFn, version: int) -> RawProfile:
    layout = LAYOUTS[version]
    sites = (0,) * (layout.value_kind_last + 1)
    bitmap = st.binary(max_size=12) if layout.has_bitmaps else st.just(b"")
    records = draw(
        st.lists(
            st.builds(
                FunctionRecord,
                name_ref=U64,
                func_hash=U64,
                counters=st.lists(U64, min_size=1, max_size=12).map(tuple),
                num_value_sites=st.just(sites),
                bitmap=bitmap,
            ),
            max_size=8,
        )
    )
    flags = draw(st.sampled_from([0, VARIANT_FLAGS["IR_PROF"], VARIANT_FLAGS["INSTR_ENTRY"]]))
    return RawProfile(version, tuple(records), draw(st.binary(max_size=40)), flags)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_roundtrip(version: int, data: st.DataObject) -> None:
    profile = data.draw(profiles(version))
    encoded = encode(profile)
    layout = LAYOUTS[version]
    assert len(encoded) % 8 == 0
    assert len(encoded) >= layout.header_size + len(profile.records) * layout.record_size
    assert decode(encoded) == profile
    assert encode(decode(encoded)) == encoded


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_counters_masked_to_64_bits(version: int) -> None:
    sites = (0,) * (LAYOUTS[version].value_kind_last + 1)
    rec = FunctionRecord(1, 2, (2**64 + 5, -1), sites)
    decoded = decode(encode(RawProfile(version, (rec,), b"")))
    assert decoded.records[0].counters == (5, 2**64 - 1)


@pytest.mark.parametrize(
    ("version", "record", "message"),
    [
        (8, FunctionRecord(1, 2, (), (0, 0)), "counters"),
        (8, FunctionRecord(1, 2, (1,), (0, 0, 0)), "NumValueSites"),
        (10, FunctionRecord(1, 2, (1,), (0, 0)), "NumValueSites"),
        (8, FunctionRecord(1, 2, (1,), (1, 0)), "value sites"),
        (8, FunctionRecord(1, 2, (1,), (0, 0), b"\x01"), "bitmap"),
        (8, FunctionRecord(2**64, 2, (1,), (0, 0)), "64-bit"),
        (10, FunctionRecord(1, -2, (1,), (0, 0, 0)), "64-bit"),
    ],
)
def test_encode_refuses_what_llvm_would_reject(
    version: int, record: FunctionRecord, message: str
) -> None:
    with pytest.raises(FormatError, match=message):
        encode(RawProfile(version, (record,), b""))


def test_encode_refuses_bad_versions_and_flags() -> None:
    for version in (0, 7, max(SUPPORTED_VERSIONS) + 1):
        with pytest.raises(FormatError, match=f"version {version}"):
            encode(RawProfile(version, (), b""))
    with pytest.raises(FormatError, match="BYTE_COVERAGE"):
        encode(RawProfile(10, (), b"", VARIANT_FLAGS["BYTE_COVERAGE"]))
    with pytest.raises(FormatError, match="variant-flag"):
        encode(RawProfile(8, (), b"", 1 << 40))


# --------------------------------------------------------------------------------------
# Malformed input: FormatError and nothing else
# --------------------------------------------------------------------------------------


def test_truncated_real_profile(host: HostRun) -> None:
    data = host.profraw.read_bytes()
    decode(data)
    for size in range(0, len(data), 8):
        with pytest.raises(FormatError):
            decode(data[:size])
    for size in range(len(data)):  # and at every byte, for good measure
        with pytest.raises(FormatError):
            decode(data[:size])


def test_bad_magic(host: HostRun) -> None:
    data = host.profraw.read_bytes()
    with pytest.raises(FormatError, match="magic"):
        decode(b"\x00" + data[1:])
    with pytest.raises(FormatError, match="big-endian"):
        decode(struct.pack(">Q", RAW_MAGIC) + data[8:])
    with pytest.raises(FormatError, match="32-bit"):
        decode(struct.pack("<Q", 0xFF6C70726F665281) + data[8:])
    with pytest.raises(FormatError, match="magic"):
        decode(b"not a profile at all, just text")


def test_version_word(host: HostRun) -> None:
    data = host.profraw.read_bytes()
    version = raw_version(host.major)
    for bad in (0, 7, max(SUPPORTED_VERSIONS) + 1, 2**31 + version):
        with pytest.raises(FormatError, match="version"):
            decode(patch_u64(data, 8, bad))
    for other in SUPPORTED_VERSIONS:  # no other layout fits these bytes
        if other != version:
            with pytest.raises(FormatError):
                decode(patch_u64(data, 8, other))
    if LAYOUTS[version].variant_bits == 8:  # v8 keeps only the top 8 bits for flags; v9 on 32
        for bit in (32, 40, 55):
            with pytest.raises(FormatError, match="variant-flag"):
                decode(patch_u64(data, 8, version | 1 << bit))
    else:
        assert decode(patch_u64(data, 8, version | 1 << 32)).variant_flags == 1 << 32
    with pytest.raises(FormatError, match="BYTE_COVERAGE"):
        decode(patch_u64(data, 8, version | VARIANT_FLAGS["BYTE_COVERAGE"]))
    # Flags are kept out of the layout lookup and kept in the profile.
    flagged = decode(patch_u64(data, 8, version | VARIANT_FLAGS["IR_PROF"]))
    assert flagged.variant_flags == VARIANT_FLAGS["IR_PROF"]
    assert flagged.records == decode(data).records


def test_counter_pointer_out_of_range(host: HostRun, tmp_path: Path) -> None:
    data = host.profraw.read_bytes()
    layout = LAYOUTS[raw_version(host.major)]
    binary_ids = struct.unpack_from("<Q", data, offset_of(layout.header, "BinaryIdsSize"))[0]
    record0 = layout.header_size + binary_ids
    counter_ptr = record0 + offset_of(layout.record, "CounterPtr")
    (ptr,) = struct.unpack_from("<q", data, counter_ptr)
    for bad in (ptr + 1024, ptr - 8, ptr + 4, 2**63 - 1, -(2**63)):
        corrupt = patch_u64(data, counter_ptr, bad)
        with pytest.raises(FormatError, match="counter offset"):
            decode(corrupt)
    # llvm-profdata agrees that such a file is malformed.
    path = tmp_path / "corrupt.profraw"
    path.write_bytes(patch_u64(data, counter_ptr, ptr + 1024))
    proc = run_status(host.tool("llvm-profdata"), "merge", "-sparse", path, "-o", tmp_path / "x")
    assert proc.returncode != 0


def test_bitmap_pointer_out_of_range(mcdc_host: HostRun) -> None:
    data = mcdc_host.profraw.read_bytes()
    layout = LAYOUTS[raw_version(mcdc_host.major)]
    binary_ids = struct.unpack_from("<Q", data, offset_of(layout.header, "BinaryIdsSize"))[0]
    profile = decode(data)
    index = next(i for i, r in enumerate(profile.records) if r.bitmap)
    record = layout.header_size + binary_ids + index * layout.record_size
    field = record + offset_of(layout.record, "BitmapPtr")
    (ptr,) = struct.unpack_from("<q", data, field)
    for bad in (ptr + 8, ptr - 1, 2**63 - 1):
        with pytest.raises(FormatError, match="bitmap offset"):
            decode(patch_u64(data, field, bad))


@pytest.mark.parametrize(
    "field",
    [
        "BinaryIdsSize",
        "NumData",
        "PaddingBytesBeforeCounters",
        "NumCounters",
        "PaddingBytesAfterCounters",
        "NamesSize",
    ],
)
@pytest.mark.parametrize("value", [2**64 - 1, 2**63, 2**40, 4096])
def test_header_sizes_beyond_file(host: HostRun, field: str, value: int) -> None:
    data = host.profraw.read_bytes()
    layout = LAYOUTS[raw_version(host.major)]
    with pytest.raises(FormatError):
        decode(patch_u64(data, offset_of(layout.header, field), value))


def test_zero_counters_record(host: HostRun) -> None:
    data = host.profraw.read_bytes()
    layout = LAYOUTS[raw_version(host.major)]
    binary_ids = struct.unpack_from("<Q", data, offset_of(layout.header, "BinaryIdsSize"))[0]
    num_counters = layout.header_size + binary_ids + offset_of(layout.record, "NumCounters")
    corrupt = data[:num_counters] + b"\0\0\0\0" + data[num_counters + 4 :]
    with pytest.raises(FormatError, match="no counters"):
        decode(corrupt)


@settings(max_examples=300, deadline=None, database=None)
@given(
    version=st.sampled_from(SUPPORTED_VERSIONS),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1),
    cut=st.integers(0, 10_000),
)
def test_corruption_gives_format_error_or_profile(
    version: int, edits: list[tuple[int, int]], cut: int
) -> None:
    sites = (0,) * (LAYOUTS[version].value_kind_last + 1)
    bitmap = b"\x05\x80" if LAYOUTS[version].has_bitmaps else b""
    profile = RawProfile(
        version,
        (
            FunctionRecord(1, 2, (3, 4, 5), sites, bitmap),
            FunctionRecord(6, 7, (8,), sites),
        ),
        names_blob(["a", "b"]),
    )
    data = bytearray(encode(profile))
    for pos, byte in edits:
        data[pos % len(data)] = byte
    try:
        result = decode(bytes(data[: len(data) - cut % 32]))
    except FormatError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, RawProfile)


# --------------------------------------------------------------------------------------
# write_profraw
# --------------------------------------------------------------------------------------


def sample_profile(version: int, counters: int, seed: int) -> RawProfile:
    sites = (0,) * (LAYOUTS[version].value_kind_last + 1)
    recs = tuple(
        FunctionRecord(i, seed, tuple(range(seed, seed + counters)), sites) for i in range(4)
    )
    return RawProfile(version, recs, names_blob([f"f{seed}"]))


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_write_profraw_mode_and_no_leftovers(version: int, tmp_path: Path) -> None:
    path = tmp_path / "out.profraw"
    path.write_bytes(b"old")
    path.chmod(0o644)
    profile = sample_profile(version, 3, 1)
    write_profraw(path, profile)
    assert path.read_bytes() == encode(profile)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.profraw"]


def test_write_profraw_failure_leaves_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.profraw"
    good = sample_profile(8, 3, 1)
    write_profraw(path, good)
    bad = RawProfile(8, (FunctionRecord(1, 2, (), (0, 0)),), b"")
    with pytest.raises(FormatError):
        write_profraw(path, bad)
    assert path.read_bytes() == encode(good)
    assert [p.name for p in tmp_path.iterdir()] == ["out.profraw"]

    # The rename itself fails (the target is a non-empty directory): the temp file goes.
    target = tmp_path / "dir.profraw"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(OutputError, match="is a directory"):
        write_profraw(target, good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.profraw", "out.profraw"]
    assert [p.name for p in target.iterdir()] == ["keep"]

    # A missing parent directory is made, as for every output.
    write_profraw(tmp_path / "missing" / "out.profraw", good)
    assert (tmp_path / "missing" / "out.profraw").read_bytes() == encode(good)


def test_write_profraw_is_atomic_for_readers(tmp_path: Path) -> None:
    """A reader polling the final name sees no file or a complete file, never a part."""
    path = tmp_path / "live.profraw"
    versions = [sample_profile(10, 40_000, seed) for seed in (1, 2)]
    complete = {encode(p) for p in versions}
    done = threading.Event()
    seen: list[int] = []
    bad: list[int] = []

    def reader() -> None:
        while not done.is_set():
            try:
                content = path.read_bytes()
            except FileNotFoundError:
                continue
            (seen if content in complete else bad).append(len(content))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(20):
            write_profraw(path, versions[i % 2])
    finally:
        done.set()
        thread.join()
    assert not bad, f"partial files seen, sizes {bad[:5]}"
    assert seen
    assert [p.name for p in tmp_path.iterdir()] == ["live.profraw"]
