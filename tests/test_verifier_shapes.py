"""Code the verifier checks closely stays as it is when instrumented, and counts exactly.

Each program in tests/progs/verifier/ is a small form of a kernel BPF selftest
that the verifier refused once instrumented: naked functions, weak functions
defined in two linked objects, a global function's unused argument, a pointer
read again after its NULL check, two loads merged into one, early returns whose
counter increments the optimiser sinks into one exit block, a fully unrolled
loop with a `break`, an inlined function called several times in one block.
They are built with bpfcov-cc, loaded by bpftool (which fails if the verifier
refuses them), run with BPF_PROG_TEST_RUN, and every count follows from the
inputs sent.
"""

from __future__ import annotations

import json
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from support import ROOT, bpf_cflags, bpfcov, build, build_plain, llvm_cov, script

from bpfcov_build import bpf, toolchain
from bpfcov_build import jumps as _jumps
from bpfcov_build.bpf import harness

pytestmark = pytest.mark.kernel

PROGS = ROOT / "tests" / "progs" / "verifier"
ETH_IPV4 = bytes(12) + b"\x08\x00"

Functions = dict[tuple[str, str], tuple[int, list[tuple[int, int, int]]]]


def line_of(source: Path, text: str) -> int:
    """The number of the line of ``source`` that holds ``text``."""
    lines = source.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def report(run: Path, tmp_path: Path) -> Functions:
    """bpfcov gen + out of ``run``: (file, function) → count, (line, true, false) branches."""
    profile = tmp_path / "p.profraw"
    gen = bpfcov("gen", "-o", profile, run)
    assert gen.returncode == 0, gen.stderr
    out = bpfcov("out", "-f", "json", "-o", tmp_path / "p.json", profile)
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "p.json").read_text())["data"][0]["functions"]
    return {
        (f["filenames"][0].rsplit("/", 1)[-1], f["name"].split(":")[-1]): (
            f["count"],
            sorted((b[0], b[4], b[5]) for b in f["branches"]),
        )
        for f in data
    }


def load(obj: Path, pins: Path) -> Path:
    """Loads every program of ``obj`` under bpfcov run: pinned in pins/progs, maps in pins/maps."""
    progs = pins / "progs"
    run = bpfcov(
        "run", "--pin-dir", pins / "run", "--",
        "bpftool", "prog", "loadall", obj, progs, "pinmaps", pins / "maps",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return progs


@pytest.fixture(params=["atomic", "single"])
def update(request: pytest.FixtureRequest) -> str:
    """How a test's build increments counters: ``-fprofile-update=`` this."""
    return str(request.param)


def load_built(name: str, major: int, update: str, pins: Path, tmp_path: Path) -> Path:
    """tests/progs/verifier/``name`` built with ``-fprofile-update=update``, then loaded."""
    pins.mkdir()
    obj = tmp_path / name.replace(".bpf.c", ".bpf.o")
    return load(build(PROGS / name, obj, major, f"-fprofile-update={update}"), pins)


def run_prog(progs: Path, name: str, packets: dict[int, int], first: bytes = b"") -> list[int]:
    """Runs program ``name`` on ``times`` packets of each size; its return values."""
    retvals = []
    with bpf.owned_fd(bpf.obj_get(progs / name)) as fd:
        for size, times in packets.items():
            packet = (first + bytes(size))[:size]
            retvals.append(harness.prog_test_run(fd, packet, repeat=times).retval)
    return retvals


def function_bytes(obj: Path, name: str) -> bytes:
    """The code of function ``name`` in ``obj``."""
    with obj.open("rb") as f:
        elf = ELFFile(f)
        symbol = elf.get_section_by_name(".symtab").get_symbol_by_name(name)[0]
        section = elf.get_section(symbol["st_shndx"])
        start = symbol["st_value"]
        return bytes(section.data()[start : start + symbol["st_size"]])


def test_naked_functions_stay_as_written_and_uncounted(
    major: int, pins: Path, tmp_path: Path
) -> None:
    pins.mkdir()
    source = PROGS / "naked.bpf.c"
    obj = build(source, tmp_path / "naked.bpf.o", major)
    plain = build_plain(source, tmp_path / "plain.bpf.o", major)
    for name in ("naked_ether", "twice"):
        assert function_bytes(obj, name) == function_bytes(plain, name), name

    progs = load(obj, pins)
    assert run_prog(progs, "naked_ether", {64: 3, 14: 2}, ETH_IPV4) == [2, 2]  # XDP_PASS
    assert run_prog(progs, "naked_ether", {64: 4}) == [1]  # XDP_DROP: not 0x08 at byte 12
    sizes = {64: 2, 150: 3}  # twice(len) > 200 for the 150-byte packets
    assert run_prog(progs, "calls_naked", sizes) == [1, 2]

    found = report(pins / "run", tmp_path)
    big = sizes[150]
    assert found == {
        ("naked.bpf.c", "calls_naked"): (5, [(line_of(source, "twice(len) > 200"), big, 5 - big)])
    }

    # llvm-cov shows the naked functions as if they were not instrumented at all.
    (tmp_path / "u").mkdir()
    uncounted = build(source, tmp_path / "u" / "naked.bpf.o", major, "-DUNCOUNTED")
    exports = []
    for mapping in (obj.with_suffix(".obj"), uncounted.with_suffix(".obj")):
        data = json.loads(llvm_cov(major, "export", mapping, tmp_path / "p.profraw"))["data"][0]
        functions = [
            (f["name"], f["count"], f["regions"], f["branches"]) for f in data["functions"]
        ]
        exports.append((functions, [f["segments"] for f in data["files"]]))
    assert exports[0] == exports[1]


@pytest.mark.parametrize("order", [("weak1", "weak2"), ("weak2", "weak1")])
def test_weak_function_of_two_objects_counts_where_the_linker_kept_it(
    major: int, pins: Path, tmp_path: Path, order: tuple[str, str]
) -> None:
    pins.mkdir()
    objs = [build(PROGS / f"{n}.bpf.c", tmp_path / f"{n}.bpf.o", major) for n in order]
    linked = tmp_path / "both.bpf.o"
    subprocess.run(["bpftool", "gen", "object", linked, *objs], check=True)
    progs = load(linked, pins)
    sizes = {40: 2, 80: 3, 120: 4}
    for prog in ("first", "second"):
        run_prog(progs, prog, sizes)

    found = report(pins / "run", tmp_path)
    runs = sum(sizes.values())
    kept, dropped = (f"{n}.bpf.c" for n in order)
    threshold = {"weak1.bpf.c": 60, "weak2.bpf.c": 100}
    longer = sum(n for size, n in sizes.items() if size > threshold[kept])

    def pick_line(file: str) -> int:
        return line_of(PROGS / file, "if (len >")

    def caller(file: str, name: str) -> tuple[int, list[tuple[int, int, int]]]:
        return (runs, [(line_of(PROGS / file, "return pick("), longer, runs - longer)])

    assert found == {
        # The linker's pick runs for both programs; the other is never run.
        (kept, "pick"): (2 * runs, [(pick_line(kept), 2 * longer, 2 * (runs - longer))]),
        (dropped, "pick"): (0, [(pick_line(dropped), 0, 0)]),
        ("weak1.bpf.c", "first"): caller("weak1.bpf.c", "first"),
        ("weak2.bpf.c", "second"): caller("weak2.bpf.c", "second"),
    }


def sk_lookup_ctx() -> bytes:
    """A struct bpf_sk_lookup for BPF_PROG_TEST_RUN: an IPv4 TCP lookup, no socket yet."""
    af_inet, ipproto_tcp = 2, 6
    head = struct.pack("<QII", 0, af_inet, ipproto_tcp)  # sk, family, protocol
    return head + bytes(72 - len(head))


def test_verifier_sensitive_shapes_load_and_count(major: int, pins: Path, tmp_path: Path) -> None:
    pins.mkdir()
    source = PROGS / "shapes.bpf.c"
    progs = load(build(source, tmp_path / "shapes.bpf.o", major), pins)

    sizes = {64: 3, 150: 2}
    assert run_prog(progs, "unused_argument", sizes) == [0, 2]  # TC_ACT_OK, TC_ACT_SHOT

    with bpf.owned_fd(bpf.obj_get(progs / "checked_then_used")) as fd:
        result = harness.prog_test_run(fd, b"", repeat=4, ctx_in=sk_lookup_ctx(), data_out_size=0)
    assert result.retval == 1  # SK_PASS: no socket is selected yet

    assert run_prog(progs, "value_or_len", {60: 3}) == [60]
    with bpf.owned_fd(bpf.obj_get(pins / "maps" / "opts")) as opts:
        harness.map_update(opts, bytes(4), (7).to_bytes(4, "little"))
    assert run_prog(progs, "value_or_len", {60: 2}) == [7]

    found = report(pins / "run", tmp_path)
    runs = sum(sizes.values())
    big = sizes[150]
    assert found == {
        ("shapes.bpf.c", "ignores_ctx"): (runs, []),
        ("shapes.bpf.c", "unused_argument"): (
            runs,
            sorted(
                [
                    (line_of(source, "if (!ignores_ctx(skb))"), 0, runs),
                    (line_of(source, "skb->len > 100 ?"), big, runs - big),
                ]
            ),
        ),
        # ctx->sk is NULL: the && stops at it.
        ("shapes.bpf.c", "checked_then_used"): (
            4,
            [(line_of(source, "ctx->sk && ctx->sk->family"), n, m) for n, m in ((0, 0), (0, 4))],
        ),
        ("shapes.bpf.c", "value_or_len"): (
            5,
            [
                (line_of(source, "if (f && *f)"), 2, 3),
                (line_of(source, "if (f && *f)"), 5, 0),
            ],
        ),
    }


def numbers_packet(head: bytes, fields: list[str]) -> bytes:
    """A packet for returns.bpf.c: ``head``, then each field right-aligned in 7 characters."""
    return head + "".join(f"{field:>7}" for field in fields).encode()


def test_early_returns_count_once_each(major: int, update: str, pins: Path, tmp_path: Path) -> None:
    source = PROGS / "returns.bpf.c"
    progs = load_built("returns.bpf.c", major, update, pins, tmp_path)

    good = ["1", "22", "333", "4444"]
    runs = {  # packet → (times sent, what the program returns)
        bytes(20): (3, 0),  # shorter than a tag and its numbers
        numbers_packet(b"COUNTED", good): (2, 0),  # the tag's first byte differs
        numbers_packet(b"counted", good): (2, 1),
        numbers_packet(b"counted", ["5", "6", "x", "8"]): (1, 0),  # the third is no number
    }
    with bpf.owned_fd(bpf.obj_get(progs / "ascending")) as fd:
        for packet, (times, retval) in runs.items():
            assert harness.prog_test_run(fd, packet, repeat=times).retval == retval

    tag_length = len("counted") + 1  # the loop compares the NUL too
    short, wrong_tag, ascending, no_number = (times for times, _ in runs.values())
    tagged = ascending + no_number
    long = wrong_tag + tagged
    fields_parsed = 4 * ascending + 2 * no_number  # before the failing one
    found = report(pins / "run", tmp_path)
    assert found.pop(("returns.bpf.c", "nonzero_bytes"))[0] == 0  # not run here
    assert found == {
        ("returns.bpf.c", "starts_with_tag"): (
            long,
            sorted(
                [
                    (line_of(source, "if (bpf_skb_load_bytes(skb, 0"), 0, long),
                    (line_of(source, "i < sizeof(tag)"), wrong_tag + tag_length * tagged, tagged),
                    (line_of(source, "if (head[i] != tag[i])"), wrong_tag, tag_length * tagged),
                ]
            ),
        ),
        ("returns.bpf.c", "ascending"): (
            short + long,
            sorted(
                [
                    (line_of(source, "if (skb->len <"), short, long),
                    (line_of(source, "if (!starts_with_tag(skb))"), wrong_tag, tagged),
                    (line_of(source, "if (ret < 0)"), 0, tagged),
                    (line_of(source, "i < NUMBERS"), fields_parsed + no_number, ascending),
                    (line_of(source, "if (ret <= 0)"), no_number, fields_parsed),
                    (line_of(source, "return nums[0] < nums[1] &&"), ascending, 0),
                    (line_of(source, "return nums[0] < nums[1] &&"), ascending, 0),
                ]
            ),
        ),
    }


def test_a_count_in_a_loop_folded_into_its_branch_is_exact(
    major: int, update: str, pins: Path, tmp_path: Path
) -> None:
    source = PROGS / "returns.bpf.c"
    progs = load_built("returns.bpf.c", major, update, pins, tmp_path)

    packets = {bytes([1, 0, 2, 0, 3] + [0] * 15): 3, bytes([7] * 16 + [0] * 4): 2}
    with bpf.owned_fd(bpf.obj_get(progs / "nonzero_bytes")) as fd:
        for packet, times in packets.items():
            expected = sum(1 for b in packet[:16] if b)
            assert harness.prog_test_run(fd, packet, repeat=times).retval == expected

    runs = sum(packets.values())
    zeros = sum(times * packet[:16].count(0) for packet, times in packets.items())
    found = report(pins / "run", tmp_path)
    assert found[("returns.bpf.c", "nonzero_bytes")] == (
        runs,
        sorted(
            [
                (line_of(source, "if (bpf_skb_load_bytes(skb, 0, bytes"), 0, runs),
                (line_of(source, "i < sizeof(bytes)"), 16 * runs, runs),
                (line_of(source, "if (!bytes[i])"), zeros, 16 * runs - zeros),
            ]
        ),
    )


def byte_hash(data: bytes) -> int:
    """What unrolled.bpf.c's byte_hash returns for the bytes it hashes."""

    def rol(x: int, k: int) -> int:
        return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF

    value = 0
    for byte in data:
        value = rol(value, 5) ^ rol(byte, 3) ^ rol(value, 11)
    return value & 0xFFFF


def test_unrolled_copies_and_repeated_inline_calls_count_exactly(
    major: int, update: str, pins: Path, tmp_path: Path
) -> None:
    source = PROGS / "unrolled.bpf.c"
    progs = load_built("unrolled.bpf.c", major, update, pins, tmp_path)

    payload = bytes(range(17, 25))
    sent = {0: 2, 3: 3, 8: 1, 200: 2}  # the count byte → times sent
    with bpf.owned_fd(bpf.obj_get(progs / "byte_hash")) as fd:
        for n, times in sent.items():
            packet = bytes([n]) + payload + bytes(8)  # tc runs need 14 bytes or more
            result = harness.prog_test_run(fd, packet, repeat=times)
            assert result.retval == byte_hash(payload[:n])

    runs = sum(sent.values())
    hashed = sum(min(n, 8) * times for n, times in sent.items())
    breaks = sum(times for n, times in sent.items() if n < 8)
    found = report(pins / "run", tmp_path)
    assert found == {
        ("unrolled.bpf.c", "rol"): (3 * hashed, []),
        ("unrolled.bpf.c", "byte_hash"): (
            runs,
            sorted(
                [
                    (line_of(source, "if (bpf_skb_load_bytes"), 0, runs),
                    (line_of(source, "i < MAX_BYTES"), hashed + breaks, runs - breaks),
                    (line_of(source, "if (i >= n)"), breaks, hashed),
                ]
            ),
        ),
    }


def far_jump_source(path: Path) -> Path:
    """A function whose first jump crosses ~32,650 instructions plain, more once counted.

    The bulk is inline asm, so that the compile is quick; 40 branches after it get
    counters, which push the jump past what -mcpu=v3 encodes. (-mcpu=v4 would not
    help here: its branch relaxation counts an asm statement as one instruction.
    bench/selftests.py checks that it does help the kernel's pyperf programs.)
    """
    steps = "\n".join(f"\tif (len & {1 << (i % 31)}) acc += {i + 1};" for i in range(40))
    path.write_text(
        "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n"
        'SEC("xdp")\nint long_jump(struct xdp_md *ctx)\n{\n'
        "\tunsigned int len = ctx->data_end - ctx->data, acc = 0;\n"
        "\tif (len == 1234)\n\t\treturn XDP_ABORTED;\n"
        '\tasm volatile(".rept 32540\\n r0 = r0\\n .endr");\n'
        f"{steps}\n\treturn acc & 1 ? XDP_PASS : XDP_DROP;\n}}\n"
        'char _license[] SEC("license") = "GPL";\n'
    )
    return path


def test_a_jump_out_of_range_gets_one_line(major: int, tmp_path: Path) -> None:
    source = far_jump_source(tmp_path / "long.bpf.c")
    build_plain(source, tmp_path / "plain.bpf.o", major)  # fits without counters
    args = [f"--bpfcov-llvm={major}", *bpf_cflags(), "-c", source, "-o", tmp_path / "long.bpf.o"]
    reproducers = set(Path(tempfile.gettempdir()).glob("long.bpf-*"))  # clang's, of a crash
    cc = [script("bpfcov-cc"), *map(str, args)]
    done = subprocess.run([*cc, "-mcpu=v3"], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert "-mcpu=v4" in done.stderr
    # The distance named is that of this very build (atomic counters, the default).
    chain = toolchain.Toolchain(major)
    asm = tmp_path / "long.s"
    coverage = ["-fprofile-instr-generate", "-fcoverage-mapping", "-fprofile-update=atomic"]
    subprocess.run(
        [chain.clang, *bpf_cflags(), "-mcpu=v3", *coverage, f"-fpass-plugin={chain.plugin}",
         "-S", source, "-o", asm],
        check=True,
    )  # fmt: skip
    (far,) = _jumps.far_jumps(asm.read_text())
    assert f"long_jump() jumps {abs(far.distance)} instructions" in done.stderr
    assert set(Path(tempfile.gettempdir()).glob("long.bpf-*")) <= reproducers
    assert not (tmp_path / "long.bpf.o").exists()
    assert not (tmp_path / "long.bpf.obj").exists()


def test_far_jumps_are_measured_in_instruction_slots() -> None:
    body = "\n".join(["\tr0 = r0"] * (_jumps.MAX_FORWARD - 2))
    asm = (
        "\t.type\tnear,@function\nnear:\n\tif r1 == 0 goto LBB0_2\n\tr2 = 0 ll\n"
        f"{body}\nLBB0_2:\n\texit\n"
        "\t.type\tfar,@function\nfar:\nLBB1_1:\n\tr2 = 0 ll\n"
        f"{body}\n\t.rept 2\n\tr0 = r0\n\t.endr\n\tgoto LBB1_1\n\texit\n"
    )
    # near: 2 + 32765 slots to jump over, just in reach; far: 2 + 32765 + 2 + 1 back.
    assert _jumps.far_jumps(asm) == [_jumps.FarJump("far", -(_jumps.MAX_FORWARD + 3))]
