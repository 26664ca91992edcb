"""`meson test`'s XDP test: the loader on fixed packets, and with bpfcov, a report.

    run_xdp.py --loader XDP_LOADER --packets PACKETS_PY --repeat N --out DIR
               [--bpfcov BPFCOV --report REPORT_DIR]

Writes the packets of ``packets.py`` to DIR (one NAME.bin each, NAME starting with
the verdict it must get) and runs the loader on all of them, each N times in the
kernel; fails when the loader fails or a verdict is wrong. With ``--bpfcov`` (a
build with ``-Dbpf_coverage=true``) the loader runs under ``bpfcov run``, which
pins the coverage maps it creates; then ``bpfcov gen`` turns them into
REPORT_DIR/*.profraw, and ``bpfcov out`` writes REPORT_DIR/html/index.html and
REPORT_DIR/coverage.json and prints the summary.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

#: Where the run's coverage maps are pinned: bpfcov run's own root, in bpffs.
PIN_ROOT = Path("/sys/fs/bpf/bpfcov")


def run(*cmd: str | Path, capture: bool = False) -> str:
    """Runs ``cmd``, our stderr its stderr; exits when it fails. Returns its stdout."""
    print("+", " ".join(map(str, cmd)), flush=True)
    result = subprocess.run(  # noqa: S603
        [os.fspath(c) for c in cmd],
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    if capture:
        print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        sys.exit(f"run_xdp.py: {Path(cmd[0]).name} failed with status {result.returncode}")
    return result.stdout if capture else ""


def check_verdicts(output: str, packets: list[Path]) -> None:
    """Each packet got the verdict its name starts with (drop-..., pass-...)."""
    verdicts = dict(line.rsplit(": ", 1) for line in output.splitlines() if ": " in line)
    wrong = [
        f"{p.name}: {verdicts.get(str(p), 'no verdict')}"
        for p in packets
        if not p.name.startswith(f"{verdicts.get(str(p))}-")
    ]
    if wrong:
        sys.exit("run_xdp.py: wrong verdicts: " + ", ".join(wrong))


def main() -> None:
    """Runs the test."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--loader", type=Path, required=True)
    parser.add_argument("--packets", type=Path, required=True, help="examples/xdp/packets.py")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bpfcov", type=Path, help="bpfcov: run under it and report")
    parser.add_argument("--report", type=Path, help="where the coverage report goes")
    args = parser.parse_args()
    if args.bpfcov is not None and args.report is None:
        parser.error("--bpfcov needs --report")
    # Meson passes the loader relative to the build dir: not a name to look up in PATH.
    args.loader = args.loader.resolve()

    shutil.rmtree(args.out, ignore_errors=True)
    run(sys.executable, args.packets, args.out)
    packets = sorted(args.out.resolve().glob("*.bin"))
    loader = [args.loader, "-r", str(args.repeat), *packets]
    if args.bpfcov is None:
        check_verdicts(run(*loader, capture=True), packets)
        return

    report = args.report
    shutil.rmtree(report, ignore_errors=True)
    pins = PIN_ROOT / f"meson-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        output = run(args.bpfcov, "run", "--pin-dir", pins, "--", *loader, capture=True)
        check_verdicts(output, packets)
        run(args.bpfcov, "gen", "--unpin", "-o", f"{report}/", pins)
    finally:
        shutil.rmtree(pins, ignore_errors=True)
    profiles = sorted(report.glob("*.profraw"))
    if not profiles:
        sys.exit("run_xdp.py: bpfcov gen wrote no profile")
    run(args.bpfcov, "out", "-f", "html", "-o", report / "html", *profiles)
    run(args.bpfcov, "out", "-f", "json", "-o", report / "coverage.json", *profiles)
    run(args.bpfcov, "out", "-f", "text", *profiles)
    print(f"coverage report: {report / 'html' / 'index.html'}")


if __name__ == "__main__":
    main()
