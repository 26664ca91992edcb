#!/usr/bin/env bash
# The quick start: set up, then build the XDP example with bpfcov-cc, run it in the
# kernel on a few packets, and report its coverage (a summary here, HTML in out/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
PATH="$PWD/.venv/bin:$PATH"

out=out/quickstart
rm -rf "$out" && mkdir -p "$out"
run=/sys/fs/bpf/bpfcov/quickstart-$$
progs=/sys/fs/bpf/bpfcov-quickstart-progs-$$
cleanup() { rm -rf "$progs" "$run"; }
trap cleanup EXIT

# 1. Build: bpfcov-cc writes xdp_parser.bpf.o (to load) and xdp_parser.bpf.obj (for llvm-cov).
bpfcov-cc -target bpf -O2 -g -I"/usr/include/$(gcc -print-multiarch)" \
  -c examples/xdp/xdp_parser.bpf.c -o "$out/xdp_parser.bpf.o"

# 2. Load it and keep its coverage maps pinned where bpfcov gen reads a run.
mkdir -p "$progs" "$run"
bpftool prog loadall "$out/xdp_parser.bpf.o" "$progs" pinmaps "$run/1-xdp_parser" 2>/dev/null

# 3. Run it in the kernel: each packet 10 times, with BPF_PROG_TEST_RUN.
.venv/bin/python examples/xdp/packets.py "$out/packets"
for packet in "$out"/packets/*.bin; do
  bpftool prog run pinned "$progs/xdp_parser" data_in "$packet" repeat 10 >/dev/null
done

# 4. Counters -> .profraw -> reports.
bpfcov gen --unpin -o "$out/" "$run" >/dev/null
bpfcov out -f text "$out/xdp_parser.bpf.profraw"
bpfcov out -f html -o "$out/html" "$out/xdp_parser.bpf.profraw"
echo
echo "HTML report: $out/html/index.html"
