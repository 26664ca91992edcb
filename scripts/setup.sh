#!/usr/bin/env bash
# Sets up everything bpfcov needs to be built and tested on Debian 12 (bookworm):
#   1. system packages (LLVM/clang for every major in BPFCOV_LLVM_MAJORS, libbpf, ...)
#   2. a virtualenv at <repo>/.venv with `pip install '.[test]'` (which compiles the
#      pass plugin for every installed LLVM major), redone only when its inputs change
#   3. bpffs at /sys/fs/bpf and tracefs at /sys/kernel/tracing
# Idempotent; a re-run on a set-up machine prints one line and takes well under a second.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

majors=${BPFCOV_LLVM_MAJORS:-14 15 16 19}
majors=${majors//;/ }
for major in $majors; do
  if [[ ! $major =~ ^[0-9]+$ ]]; then
    echo "bpfcov: BPFCOV_LLVM_MAJORS must list LLVM major versions (e.g. \"14 19\"), got \"$major\"" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { # fail <message> [<log file>]
  if [[ $# -gt 1 && -s $2 ]]; then
    cat "$2" >&2
  fi
  echo "bpfcov: $1" >&2
  exit 1
}

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    fail "need root to run: $*"
  fi
}

# --- 1. system packages ----------------------------------------------------------------
packages=()
for major in $majors; do
  packages+=("clang-$major" "llvm-$major" "llvm-$major-dev" "llvm-$major-tools")
  # The host profiling runtime (the tests' reference): its own package, except
  # for LLVM 15, whose Debian packaging keeps it in libclang-common-15-dev.
  if [[ $major == 15 ]]; then
    packages+=("libclang-common-$major-dev")
  else
    packages+=("libclang-rt-$major-dev")
  fi
done
# chromium: a test renders the HTML report as a browser shows it; lcov: genhtml
# reads the LCOV report in a test
packages+=(libbpf-dev bpftool linux-libc-dev gcc make cmake ninja-build chromium lcov
  python3 python3-venv python3-pip zlib1g-dev libzstd-dev libelf-dev pkg-config git)

# One dpkg-query for all of them; unknown packages print nothing (and make it fail).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)
missing=()
for pkg in "${packages[@]}"; do
  if ! grep -qx "$pkg install ok installed" <<<"$installed"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "bpfcov: installing ${missing[*]}"
  as_root apt-get update -qq >"$tmp/apt.log" 2>&1 || fail "apt-get update failed" "$tmp/apt.log"
  for pkg in "${missing[@]}"; do
    candidate=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    if [[ -z $candidate || $candidate == "(none)" ]]; then
      fail "package $pkg could not be found in the configured apt sources"
    fi
  done
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$tmp/apt.log" 2>&1 \
    || fail "apt-get install ${missing[*]} failed" "$tmp/apt.log"
fi

# --- 2. virtualenv and the bpfcov package ------------------------------------------------
venv=$repo/.venv
py=$venv/bin/python
stamp=$venv/.bpfcov-stamp

if [[ -e $venv ]] && ! "$py" -c '' >/dev/null 2>&1; then
  echo "bpfcov: .venv is broken (its Python is gone?); recreating it"
  rm -rf "$venv"
fi

if [[ ! -e $venv ]]; then
  base=""
  while IFS= read -r candidate; do
    if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
      >/dev/null 2>&1; then
      base=$candidate
      break
    fi
  done < <(type -ap python3)
  [[ -n $base ]] || fail "no python3 (>= 3.11) with venv and ensurepip on PATH"
  echo "bpfcov: creating .venv with $base"
  "$base" -m venv "$venv" >"$tmp/venv.log" 2>&1 \
    || { rm -rf "$venv"; fail "creating .venv with $base failed" "$tmp/venv.log"; }
fi

# Everything that goes into the installed package. pyvenv.cfg covers the Python it runs on.
inputs_hash() {
  {
    echo "extras: test"
    sha256sum pyproject.toml CMakeLists.txt "$venv/pyvenv.cfg"
    find bpfcov_build -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 \
      | LC_ALL=C sort -z | xargs -0 -r sha256sum
    ls /usr/lib/llvm-*/include/llvm/{Passes,Plugins}/PassPlugin.h 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1
}
want=$(inputs_hash)

if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
  echo "bpfcov: building and installing bpfcov into .venv (compiles the LLVM pass plugins)"
  rm -f "$stamp"
  PIP_NO_INPUT=1 "$py" -m pip install -q --disable-pip-version-check '.[test]' \
    >"$tmp/pip.log" 2>&1 || fail "pip install '.[test]' failed" "$tmp/pip.log"
  echo "$want" >"$stamp"
fi

# --- 3. bpffs and tracefs ---------------------------------------------------------------------
if ! mountpoint -q /sys/fs/bpf; then
  as_root mkdir -p /sys/fs/bpf 2>/dev/null || true
  as_root mount -t bpf bpf /sys/fs/bpf >"$tmp/mount.log" 2>&1 \
    || fail "could not mount bpffs at /sys/fs/bpf: $(head -n1 "$tmp/mount.log")"
fi
if ! mountpoint -q /sys/kernel/tracing; then
  as_root mount -t tracefs tracefs /sys/kernel/tracing >"$tmp/mount.log" 2>&1 \
    || echo "bpfcov: warning: could not mount tracefs at /sys/kernel/tracing: $(head -n1 "$tmp/mount.log")" >&2
fi

# --- report ------------------------------------------------------------------------------------
built=()
for dir in "$venv"/lib/python3*/site-packages/bpfcov_build/plugins/llvm-*/; do
  [[ -d $dir ]] || continue
  dir=${dir%/}
  built+=("${dir##*/llvm-}")
done
mapfile -t built < <(printf '%s\n' "${built[@]}" | sort -n)
echo "bpfcov: set up (.venv, LLVM ${built[*]:-none})"
