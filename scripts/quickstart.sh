#!/usr/bin/env bash
# The quick start: set up, then build the XDP example with bpfcov-cc, run its libbpf
# loader under bpfcov run (the program runs in the kernel on a few packets), and
# report the coverage: a summary here, HTML in out/quickstart/html.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
venv=${BPFCOV_VENV:-.venv}
[[ $venv == /* ]] || venv=$PWD/$venv
PATH="$venv/bin:$PATH"

out=out/quickstart
rm -rf "$out" && mkdir -p "$out"
run=/sys/fs/bpf/bpfcov/quickstart-$$
trap 'rm -rf "$run"' EXIT

# 1. Build: bpfcov-cc writes xdp_parser.bpf.o (to load) and xdp_parser.bpf.obj (for
#    llvm-cov); the loader is built as usual, against the skeleton of the .bpf.o.
bpfcov-cc -target bpf -O2 -g -I"/usr/include/$(gcc -print-multiarch)" \
  -c examples/xdp/xdp_parser.bpf.c -o "$out/xdp_parser.bpf.o"
bpftool gen skeleton "$out/xdp_parser.bpf.o" name xdp_parser > "$out/xdp_parser.skel.h"
gcc -O2 -I"$out" -o "$out/xdp_loader" examples/xdp/xdp_loader.c -lbpf
python3 examples/xdp/packets.py "$out/packets"

# 2. Run: the loader loads the program and runs each packet through it 10 times;
#    bpfcov run pins the coverage maps it creates, so they outlive it.
bpfcov run --pin-dir "$run" -- "$out/xdp_loader" -r 10 "$out"/packets/*.bin

# 3. Counters -> .profraw -> reports.
bpfcov gen --unpin -o "$out/" "$run" >/dev/null
echo
bpfcov out -f text "$out/xdp_parser.bpf.profraw"
bpfcov out -f html -o "$out/html" "$out/xdp_parser.bpf.profraw"
echo
echo "HTML report: $out/html/index.html"
