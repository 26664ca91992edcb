"""The kernel's BPF selftests through this kernel's verifier, plain and instrumented.

    sudo .venv/bin/python -P bench/selftests.py [--llvm 19] [--label NAME] [--jobs 2]
        [--work /var/tmp/bpfcov-selftests] [--bpfcov-cc PATH] [--cov-flag=-fprofile-update=single]
        [--only REGEX] [--fresh]

Downloads Debian trixie's ``linux-source-6.12`` (``apt-get download`` with an apt
configuration of its own under --work: the host's sources and lock stay untouched),
builds that tree's libbpf and veristat, dumps ``vmlinux.h`` from the running
kernel, and compiles every ``tools/testing/selftests/bpf/progs/*.c`` with the
selftests Makefile's BPF flags at ``-mcpu=v3``: once with plain clang, once with
``bpfcov-cc``. The objects the Makefile links (``LINKED_SKELS``) are linked with
that libbpf's linker. veristat then verifies every program of both builds, and the
script prints verify rates (C and naked-asm programs apart), why programs that
verify plain fail instrumented, and instructions processed, instrumented / plain.

Only 6.12's selftests: newer trees' verifier tests have crashed 6.18 kernels.
Everything lands under --work; a re-run reuses the download, the tools and the plain
objects, and resumes the instrumented build of --label (--fresh rebuilds it). The
first run takes a long time (two builds of ~800 files): run it under nohup.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build import toolchain

if TYPE_CHECKING:
    from collections.abc import Sequence

PACKAGE = "linux-source-6.12"
SUITE = "trixie"
MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
SELFTESTS = Path("tools/testing/selftests/bpf")
#: libbpf's Makefile generates bpf_helper_defs.h with it.
BPF_DOC = Path("scripts/bpf_doc.py")
#: uname -m → the kernel's SRCARCH, for -D__TARGET_ARCH_*.
SRCARCH = {"x86_64": "x86", "aarch64": "arm64", "s390x": "s390", "ppc64le": "powerpc"}
#: What a program that verifies plain but not instrumented failed of, first match wins.
CAUSES: list[tuple[str, str]] = [
    ("jump out of range at -mcpu=v3", r"Branch target out of insn range|-mcpu=v4"),
    ("does not compile", r"^compile:"),
    ("does not link", r"^link:"),
    ("global function argument is not ctx", r"expects pointer to ctx"),
    ("value reloaded after its NULL check", r"invalid mem access '\w+_or_null'"),
    ("one insn, different pointers", r"same insn cannot be used with different pointers"),
    ("complexity limit", r"BPF program is too large|too many states|is too complex"),
    ("bpf_spin_lock in a counter map", r"has no valid bpf_spin_lock"),
    ("scalar where a pointer was", r"invalid mem access 'scalar'"),
]
#: A tiny front end to libbpf's static linker: what ``bpftool gen object`` does.
LINKER_C = r"""
#include <bpf/libbpf.h>
int main(int argc, char **argv)
{
	struct bpf_linker *linker = bpf_linker__new(argv[1], NULL);
	if (!linker)
		return 1;
	for (int i = 2; i < argc; i++)
		if (bpf_linker__add_file(linker, argv[i], NULL))
			return 1;
	if (bpf_linker__finalize(linker))
		return 1;
	bpf_linker__free(linker);
	return 0;
}
"""


def log(msg: str) -> None:
    print(f"selftests: {msg}", file=sys.stderr, flush=True)


def run(cmd: Sequence[str | Path], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [str(c) for c in cmd], text=True, errors="replace", check=False, **kw
    )


def must(cmd: Sequence[str | Path], **kw: object) -> str:
    done = run(cmd, capture_output=True, **kw)
    if done.returncode != 0:
        sys.exit(f"selftests: {' '.join(map(str, cmd))} failed:\n{done.stderr[-3000:]}")
    return done.stdout


# -- the source tree -------------------------------------------------------------------


def fetch_tree(work: Path) -> Path:
    """The extracted kernel tree (only tools/), downloaded first if need be."""
    tree = work / PACKAGE
    if (tree / SELFTESTS / "progs").is_dir() and (tree / BPF_DOC).is_file():
        return tree
    deb = next(iter(sorted(work.glob(f"{PACKAGE}_*.deb"))), None)
    if deb is None:
        deb = apt_download(work)
    unpacked = work / "deb"
    must(["dpkg-deb", "-x", deb, unpacked])
    tarball = unpacked / "usr" / "src" / f"{PACKAGE}.tar.xz"
    log(f"extracting tools/ and {BPF_DOC} of {tarball.name}")
    must(["tar", "-xJf", tarball, "-C", work, f"{PACKAGE}/tools", f"{PACKAGE}/{BPF_DOC}"])
    shutil.rmtree(unpacked)
    return tree


def apt_download(work: Path) -> Path:
    """``apt-get download`` of the package from SUITE, with an apt state of our own."""
    apt = work / "apt"
    for sub in ("state/lists/partial", "cache/archives/partial"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    (apt / "status").touch()
    sources = apt / "sources.list"
    sources.write_text(f"deb [signed-by={KEYRING}] {MIRROR} {SUITE} main\n")
    opts = [
        f"-oDir::State={apt / 'state'}",
        f"-oDir::State::status={apt / 'status'}",
        f"-oDir::Cache={apt / 'cache'}",
        f"-oDir::Etc::SourceList={sources}",
        "-oDir::Etc::SourceParts=-",
        "-oAPT::Get::List-Cleanup=0",
    ]
    log(f"apt-get download {PACKAGE} from {SUITE}")
    must(["apt-get", *opts, "update"])
    must(["apt-get", *opts, "download", PACKAGE], cwd=work)
    debs = sorted(work.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        sys.exit(f"selftests: apt-get download left no {PACKAGE}_*.deb in {work}")
    return debs[-1]


@dataclass(frozen=True)
class Tools:
    veristat: Path
    linker: Path
    include: Path  # bpf/*.h of the tree's libbpf, and vmlinux.h


def build_tools(tree: Path, work: Path, jobs: int) -> Tools:
    """The tree's libbpf (static), its headers, veristat and a linker; vmlinux.h."""
    build = work / "build"
    libbpf = build / "libbpf"
    include = build / "include"
    veristat = build / "veristat"
    linker = build / "bpf-link"
    if not (libbpf / "libbpf.a").exists():
        log("building the tree's libbpf")
        libbpf.mkdir(parents=True, exist_ok=True)
        must([
            "make", "-s", f"-j{jobs}", "-C", tree / "tools" / "lib" / "bpf",
            f"OUTPUT={libbpf}/", f"DESTDIR={build / 'root'}", "prefix=/usr",
            "install_headers", libbpf / "libbpf.a",
        ])  # fmt: skip
    if not (include / "bpf").is_dir():
        include.mkdir(parents=True, exist_ok=True)
        shutil.copytree(build / "root" / "usr" / "include" / "bpf", include / "bpf")
    vmlinux_h = include / "vmlinux.h"
    if not vmlinux_h.exists():
        text = must(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"])
        vmlinux_h.write_text(text)
    cc = [
        "gcc", "-O2", f"-I{build / 'root' / 'usr' / 'include'}",
        f"-I{tree / 'tools' / 'include'}", f"-I{tree / 'tools' / 'include' / 'uapi'}",
    ]  # fmt: skip
    libs: list[str | Path] = [libbpf / "libbpf.a", "-lelf", "-lz", "-lm"]
    if not veristat.exists():
        log("building the tree's veristat")
        must([*cc, "-o", veristat, tree / SELFTESTS / "veristat.c", *libs])
    if not linker.exists():
        source = build / "bpf-link.c"
        source.write_text(LINKER_C)
        must([*cc, "-o", linker, source, *libs])
    return Tools(veristat, linker, include)


# -- what the selftests Makefile says ---------------------------------------------------


@dataclass(frozen=True)
class Makefile:
    per_file: dict[str, list[str]]  # progs/X.c → extra BPF flags
    linked: dict[str, list[str]]  # skeleton name → its objects' sources, in link order


def read_makefile(selftests: Path) -> Makefile:
    text = (selftests / "Makefile").read_text()
    per_file: dict[str, list[str]] = {}
    for name, flags in re.findall(r"^progs/(\S+\.c)-CFLAGS\s*:=\s*(.*)$", text, re.M):
        per_file.setdefault(name, []).extend(flags.split())
    extra = r"^\$\(OUTPUT\)/(\S+)\.o:\s*BPF_CFLAGS\s*\+=\s*(.*)$"
    for name, flags in re.findall(extra, text, re.M):
        per_file.setdefault(f"{name}.c", []).extend(flags.split())
    skels = re.search(r"^LINKED_SKELS\s*:=\s*((?:.*\\\n)*.*)$", text, re.M)
    names = skels.group(1).replace("\\\n", " ").split() if skels else []
    linked: dict[str, list[str]] = {}
    for skel in names:
        deps = re.search(rf"^{re.escape(skel)}-deps\s*:=\s*(.*)$", text, re.M)
        if deps:
            linked[skel.removesuffix(".skel.h")] = [
                d.removesuffix(".bpf.o") + ".c" for d in deps.group(1).split()
            ]
    return Makefile(per_file, linked)


def system_includes(clang: Path) -> list[str]:
    """clang's own include path, as -idirafter (the Makefile's get_sys_includes)."""
    out = run([clang, "-v", "-E", "-"], input="", capture_output=True).stderr
    inside = out.split("#include <...> search starts here:")[-1].split("End of search list.")[0]
    return [f"-idirafter{line.strip()}" for line in inside.splitlines() if line.strip()]


def naked_functions(source: Path) -> set[str]:
    """The functions ``source`` declares naked (the selftests spell it ``__naked``)."""
    text = source.read_text(errors="replace")
    pattern = r"(?:\b__naked\b|__attribute__\s*\(\(\s*naked\s*\)\))[^;{(]*?\b(\w+)\s*\("
    return set(re.findall(pattern, text))


# -- compiling, linking, verifying ------------------------------------------------------


@dataclass
class Built:
    """One object of one build: compiled (or linked) or why not."""

    ok: bool
    error: str = ""


def first_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if "error" in line:
            return line.strip()[:300]
    return (stderr.strip().splitlines() or ["(no message)"])[-1][:300]


def compile_all(
    sources: list[Path], out: Path, cmd_for: dict[str, list[str]], jobs: int, fresh: bool
) -> dict[str, Built]:
    """Compiles each source to out/<stem>.bpf.o; results are remembered in out/built.json."""
    out.mkdir(parents=True, exist_ok=True)
    record = out / "built.json"
    known: dict[str, Built] = {}
    if record.exists() and not fresh:
        known = {k: Built(**v) for k, v in json.loads(record.read_text()).items()}
    todo = [s for s in sources if s.name not in known]

    def one(source: Path) -> tuple[str, Built]:
        obj = out / (source.stem + ".bpf.o")
        done = run([*cmd_for[source.name], "-c", source, "-o", obj], capture_output=True)
        if done.returncode != 0:
            obj.unlink(missing_ok=True)
            return source.name, Built(False, "compile: " + first_error(done.stderr))
        return source.name, Built(True)

    with ThreadPoolExecutor(jobs) as pool:
        for n, (name, built) in enumerate(pool.map(one, todo), 1):
            known[name] = built
            if n % 25 == 0 or n == len(todo):
                log(f"{out.name}: {n}/{len(todo)} compiled")
                record.write_text(json.dumps({k: asdict(v) for k, v in known.items()}))
    record.write_text(json.dumps({k: asdict(v) for k, v in known.items()}))
    return known


def link(tools: Tools, out: Path, name: str, objects: list[Path]) -> Built:
    linked = out / "linked" / f"{name}.bpf.o"
    linked.parent.mkdir(exist_ok=True)
    done = run([tools.linker, linked, *objects], capture_output=True)
    if done.returncode != 0:
        linked.unlink(missing_ok=True)
        return Built(False, "link: " + first_error(done.stderr))
    return Built(True)


@dataclass
class Verdict:
    ok: bool
    insns: int
    error: str = ""


def verify(tools: Tools, objects: list[Path], jobs: int) -> dict[tuple[str, str], Verdict]:
    """veristat of every program of every object: (object name, program) → verdict."""

    def one(obj: Path) -> list[tuple[tuple[str, str], Verdict]]:
        done = run([tools.veristat, "-o", "csv", obj], capture_output=True)
        text = done.stdout[done.stdout.find("file_name,") :] if "file_name," in done.stdout else ""
        return [
            ((obj.name, r["prog_name"]), Verdict(r["verdict"] == "success", int(r["total_insns"])))
            for r in csv.DictReader(io.StringIO(text))
            if r.get("prog_name") and (r.get("total_insns") or "").isdigit()
        ]

    found: dict[tuple[str, str], Verdict] = {}
    with ThreadPoolExecutor(jobs) as pool:
        for rows in pool.map(one, objects):
            found.update(rows)
    return found


def verified_plain(
    tools: Tools, plain_dir: Path, objects: list[Path], jobs: int
) -> dict[tuple[str, str], Verdict]:
    """:func:`verify` of the plain objects, remembered in plain_dir/verified.json."""
    record = plain_dir / "verified.json"
    known: dict[tuple[str, str], Verdict] = {}
    if record.exists():
        known = {(o, p): Verdict(**v) for o, p, v in json.loads(record.read_text())}
    todo = [o for o in objects if not any(k[0] == o.name for k in known)]
    if todo:
        log(f"verifying {len(todo)} plain objects")
        known.update(verify(tools, todo, jobs))
        record.write_text(json.dumps([[o, p, asdict(v)] for (o, p), v in known.items()]))
    names = {o.name for o in objects}
    return {k: v for k, v in known.items() if k[0] in names}


def verifier_errors(tools: Tools, obj: Path, progs: list[str]) -> dict[str, str]:
    """The verifier's last words on each of ``progs`` of ``obj`` (one veristat run)."""
    filters = [arg for prog in progs for arg in ("-f", prog)]
    done = run([tools.veristat, "-v", "-l", "1", *filters, obj], capture_output=True, timeout=3600)
    head = re.compile(r"^PROCESSING .*/(\w+), DURATION US: \d+, VERDICT: \w+, VERIFIER LOG:$", re.M)
    parts = head.split(done.stdout)  # text, prog, log, prog, log, ...
    skip = ("processed ", "verification time", "stack depth", "File ", "---", "Done.")
    found: dict[str, str] = {}
    for prog, text in zip(parts[1::2], parts[2::2], strict=True):
        useful = [line.strip() for line in text.splitlines() if line.strip()]
        useful = [line for line in useful if not line.startswith(skip) and obj.name not in line]
        found[prog] = " | ".join(useful[-2:])[:400]
    return found


# -- the report -------------------------------------------------------------------------


@dataclass
class Program:
    object: str
    name: str
    naked: bool
    plain: Verdict
    cov: Verdict | None  # None: the instrumented object did not build
    cov_error: str = ""
    cause: str = ""


@dataclass
class Summary:
    llvm: int
    label: str
    cov_flags: list[str]
    programs: list[Program] = field(default_factory=list)
    plain_build_failures: dict[str, str] = field(default_factory=dict)
    #: The programs of objects whose jumps did not fit at -mcpu=v3, built at -mcpu=v4.
    v4: dict[str, Verdict] = field(default_factory=dict)


def cause_of(error: str, naked: bool) -> str:
    if naked and not re.match(r"(compile|link):", error):
        return "naked function instrumented"
    for name, pattern in CAUSES:
        if re.search(pattern, error, re.M):
            return name
    return "other"


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def print_report(s: Summary) -> None:
    flags = " ".join(s.cov_flags) or "(bpfcov-cc defaults)"
    print(f"\nLLVM {s.llvm}, build '{s.label}', instrumented with {flags}, -mcpu=v3")
    verified = [p for p in s.programs if p.plain.ok]
    print(f"programs: {len(s.programs)}; verify plain: {len(verified)}")
    print(f"{'kind':10} {'plain ok':>9} {'instr ok':>9} {'rate':>8}")
    for kind, naked in (("C", False), ("naked asm", True)):
        mine = [p for p in verified if p.naked == naked]
        ok = [p for p in mine if p.cov and p.cov.ok]
        rate = 100 * len(ok) / len(mine) if mine else 100.0
        print(f"{kind:10} {len(mine):9} {len(ok):9} {rate:7.2f}%")
    failed = [p for p in verified if not (p.cov and p.cov.ok)]
    print(f"\nverify plain, not instrumented: {len(failed)}")
    by_cause: dict[str, list[Program]] = {}
    for p in failed:
        by_cause.setdefault(p.cause, []).append(p)
    for cause, progs in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
        naked_count = sum(1 for p in progs if p.naked)
        print(f"  {len(progs):4}  {cause} ({naked_count} naked)")
        for p in progs[:4]:
            print(f"          {p.object}/{p.name}: {p.cov_error[:150]}")
    both = [p for p in verified if p.cov and p.cov.ok and p.plain.insns > 0]
    for kind, subset in (("all", both), ("C", [p for p in both if not p.naked])):
        ratios = [p.cov.insns / p.plain.insns for p in subset if p.cov]
        if not ratios:
            continue
        worst = max(subset, key=lambda p: p.cov.insns / p.plain.insns if p.cov else 0)
        print(
            f"insns processed, instrumented / plain ({kind}, {len(ratios)} programs): "
            f"median {statistics.median(ratios):.2f}x, p90 {percentile(ratios, 0.9):.2f}x, "
            f"max {max(ratios):.2f}x ({worst.object}/{worst.name})"
        )
    if s.v4:
        v4_ok = sum(v.ok for v in s.v4.values())
        print(f"jumps out of range at -mcpu=v3, built at -mcpu=v4: {v4_ok} of {len(s.v4)} verify")
    if s.plain_build_failures:
        print(f"\n(plain clang does not build {len(s.plain_build_failures)} files; left out)")


# -- the whole run ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--llvm", type=int, default=19)
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/bpfcov-selftests"))  # noqa: S108
    parser.add_argument("--label", default="cov", help="name of this instrumented build")
    parser.add_argument("--bpfcov-cc", type=Path, default=Path(sys.executable).parent / "bpfcov-cc")
    parser.add_argument("--cov-flag", action="append", default=[], help="extra bpfcov-cc flag")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="regex: only sources whose name matches")
    parser.add_argument("--fresh", action="store_true", help="rebuild the instrumented objects")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("selftests: veristat loads programs: run as root")

    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    tree = fetch_tree(work)
    tools = build_tools(tree, work, args.jobs)
    selftests = tree / SELFTESTS
    makefile = read_makefile(selftests)
    clang = toolchain.Toolchain(args.llvm).clang
    arch = SRCARCH.get(platform.machine(), platform.machine())
    flags = [
        "-g", "-Wall", "-Werror", f"-D__TARGET_ARCH_{arch}", "-mlittle-endian",
        f"-I{tools.include}", f"-I{selftests}", f"-I{tree / 'tools' / 'include' / 'uapi'}",
        "-Wno-compare-distinct-pointer-types", *system_includes(clang),
        "-DENABLE_ATOMICS_TESTS", "-O2", "--target=bpf", "-mcpu=v3",
    ]  # fmt: skip
    sources = sorted((selftests / "progs").glob("*.c"))
    if args.only:
        sources = [s for s in sources if re.search(args.only, s.name)]
    names = {s.name for s in sources}

    def commands(compiler: Sequence[str | Path]) -> dict[str, list[str]]:
        return {
            s.name: [*map(str, compiler), *flags, *makefile.per_file.get(s.name, [])]
            for s in sources
        }

    top = work / "out" / f"llvm{args.llvm}"
    plain_dir, cov_dir = top / "plain", top / args.label
    cov_cc = [args.bpfcov_cc, f"--bpfcov-llvm={args.llvm}", *args.cov_flag]
    log(f"compiling {len(sources)} files with {clang}")
    plain = compile_all(sources, plain_dir, commands([clang]), args.jobs, fresh=False)
    log(f"compiling {len(sources)} files with {' '.join(map(str, cov_cc))}")
    cov = compile_all(sources, cov_dir, commands(cov_cc), args.jobs, fresh=args.fresh)

    groups: dict[str, list[str]] = {
        name: deps for name, deps in makefile.linked.items() if set(deps) <= names
    }
    in_groups = {d for deps in groups.values() for d in deps}
    objects: dict[str, list[str]] = {  # object name → its sources
        s.name.removesuffix(".c") + ".bpf.o": [s.name] for s in sources if s.name not in in_groups
    }
    built: dict[str, dict[str, Built]] = {"plain": {}, "cov": {}}
    for side, out, results in (("plain", plain_dir, plain), ("cov", cov_dir, cov)):
        for obj, srcs in objects.items():
            built[side][obj] = results[srcs[0]]
        for name, deps in groups.items():
            bad = next((results[d] for d in deps if not results[d].ok), None)
            built[side][f"{name}.bpf.o"] = bad or link(
                tools, out, name, [out / (d.removesuffix(".c") + ".bpf.o") for d in deps]
            )
    objects.update({f"{n}.bpf.o": deps for n, deps in groups.items()})

    def path_of(side_dir: Path, obj: str) -> Path:
        linked = side_dir / "linked" / obj
        return linked if linked.exists() else side_dir / obj

    plain_ok = [o for o, b in built["plain"].items() if b.ok]
    plain_v = verified_plain(tools, plain_dir, [path_of(plain_dir, o) for o in plain_ok], args.jobs)
    log("verifying the instrumented objects")
    cov_ok = [o for o, b in built["cov"].items() if b.ok and o in plain_ok]
    cov_v = verify(tools, [path_of(cov_dir, o) for o in cov_ok], args.jobs)

    summary = Summary(args.llvm, args.label, [str(f) for f in args.cov_flag])
    summary.plain_build_failures = {o: b.error for o, b in built["plain"].items() if not b.ok}
    naked: dict[str, set[str]] = {}
    for obj, srcs in objects.items():
        naked[obj] = set()
        for src in srcs:
            naked[obj] |= naked_functions(selftests / "progs" / src)
    rejected: dict[str, list[Program]] = {}
    for (obj, prog), verdict in sorted(plain_v.items()):
        p = Program(obj, prog, prog in naked[obj], verdict, cov_v.get((obj, prog)))
        if verdict.ok and p.cov is None:
            p.cov_error = built["cov"][obj].error or "the program is missing"
        elif verdict.ok and p.cov and not p.cov.ok:
            rejected.setdefault(obj, []).append(p)
        summary.programs.append(p)
    log(f"verifier logs of {sum(map(len, rejected.values()))} rejected programs")
    with ThreadPoolExecutor(args.jobs) as pool:
        logs = pool.map(
            lambda item: verifier_errors(
                tools, path_of(cov_dir, item[0]), [p.name for p in item[1]]
            ),
            rejected.items(),
        )
        for (_, progs), errors in zip(rejected.items(), logs, strict=True):
            for p in progs:
                p.cov_error = errors.get(p.name, "(no verifier log)")
    for p in summary.programs:
        if p.plain.ok and not (p.cov and p.cov.ok):
            p.cause = cause_of(p.cov_error, p.naked)

    far = [src for src in sources if "-mcpu=v4" in cov[src.name].error]
    if far:
        log(f"{len(far)} files again at -mcpu=v4")
        v4_flags = {
            n: [f.replace("-mcpu=v3", "-mcpu=v4") for f in c] for n, c in commands(cov_cc).items()
        }
        v4 = compile_all(far, cov_dir / "v4", v4_flags, args.jobs, fresh=args.fresh)
        v4_objects = [cov_dir / "v4" / (s.stem + ".bpf.o") for s in far if v4[s.name].ok]
        summary.v4 = {f"{o}/{p}": v for (o, p), v in verify(tools, v4_objects, args.jobs).items()}

    out_dir = work / "results"
    out_dir.mkdir(exist_ok=True)
    out_json = out_dir / f"llvm{args.llvm}-{args.label}.json"
    out_json.write_text(json.dumps(asdict(summary), indent=1))
    print_report(summary)
    print(f"\n(all programs: {out_json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
