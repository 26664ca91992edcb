#!/usr/bin/env bash
# Sets up everything bpfcov needs to be built and tested, on Debian (12 bookworm, 13 trixie,
# sid) or Ubuntu:
#   1. system packages: clang and LLVM (with development files, tools and the host profiling
#      runtime) for every LLVM major >= 14 that this machine's apt sources package, or for
#      those in BPFCOV_LLVM_MAJORS ("14 19"); libbpf, bpftool, ...; for the tests, Go and
#      cilium/ebpf where the apt sources package cilium/ebpf 0.22 or newer, and cargo with
#      Debian's aya and libbpf-rs crates where they package those (Debian sid)
#   2. a virtualenv (BPFCOV_VENV, default <repo>/.venv) with `pip install '.[test]'`, which
#      compiles the pass plugin for exactly those majors; redone only when its inputs change
#   3. bpffs at /sys/fs/bpf and tracefs at /sys/kernel/tracing
# Idempotent; a re-run on a set-up machine prints one line and takes well under a second.
#
#   bash scripts/setup.sh                    set up
#   bash scripts/setup.sh --packaged-majors  only print the LLVM majors (>= 14) that the apt
#                                            sources here package, installed or not
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

min_llvm=14
only_list=false
case ${1-} in
  "") ;;
  --packaged-majors) only_list=true ;;
  *) echo "bpfcov: setup.sh takes no arguments but --packaged-majors, got \"$1\"" >&2; exit 1 ;;
esac

requested=${BPFCOV_LLVM_MAJORS-}
requested=${requested//;/ }
for major in $requested; do
  if [[ ! $major =~ ^[0-9]+$ ]] || ((10#$major < min_llvm)); then
    echo "bpfcov: BPFCOV_LLVM_MAJORS must list LLVM majors $min_llvm or newer (e.g. \"14 19\"), got \"$major\"" >&2
    exit 1
  fi
done
requested=$(printf '%s\n' $requested | sort -nu | tr '\n' ' ')
requested=${requested% }

venv=${BPFCOV_VENV:-$repo/.venv}
[[ $venv == /* ]] || venv=$repo/$venv
venv_name=${venv#"$repo"/}

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

apt_get() { # waits for another apt or dpkg to finish rather than failing at once
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 "$@"
}

# --- 1. system packages ----------------------------------------------------------------
# The packages of LLVM N. The host profiling runtime (the tests' reference) is in
# libclang-rt-N-dev, or where that is not packaged (LLVM 15 on Debian 12), in
# libclang-common-N-dev.
add_llvm_packages() { # add_llvm_packages <array name> <major> [rt-package]
  local -n to=$1
  to+=("clang-$2" "llvm-$2" "llvm-$2-dev" "llvm-$2-tools" "${3:-libclang-rt-$2-dev}")
}

# The state of the apt lists; the packaged majors are worked out again only when it changes
# (apt-cache can take seconds where its binary cache is disabled, as in Docker images).
apt_state() {
  { stat -c '%n %s %Y' /etc/apt/sources.list /etc/apt/sources.list.d/* \
    /var/lib/apt/lists/*Packages* /var/lib/apt/lists/*Release 2>/dev/null || true; } \
    | sha256sum | cut -d' ' -f1
}
majors_cache=$venv/.bpfcov-packaged-majors

# Prints "N rt-package" for every major >= 14 that apt can install whole.
packaged_majors() {
  local state names policy major rt
  state=$(apt_state)
  if [[ -f $majors_cache ]]; then
    local line first=""
    { read -r first; [[ $first == "$state" ]] && while read -r line; do echo "$line"; done; } <"$majors_cache"
    [[ $first == "$state" ]] && return
  fi
  names=$(apt-cache pkgnames clang- 2>/dev/null | sed -n 's/^clang-\([0-9]\+\)$/\1/p' | sort -n)
  names=$(awk -v min="$min_llvm" '$1 >= min' <<<"$names")
  local wanted=()
  for major in $names; do
    add_llvm_packages wanted "$major" "libclang-common-$major-dev"
    wanted+=("libclang-rt-$major-dev")
  done
  # Package name -> candidate version, "(none)" when nothing installable.
  policy=""
  if [[ ${#wanted[@]} -gt 0 ]]; then
    policy=$(apt-cache policy "${wanted[@]}" 2>/dev/null \
      | awk '/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) }
             /^  Candidate:/ { print pkg, $2 }')
  fi
  has() { awk -v p="$1" '$1 == p && $2 != "(none)" { found = 1 } END { exit !found }' <<<"$policy"; }
  {
    for major in $names; do
      if has "libclang-rt-$major-dev"; then rt=libclang-rt-$major-dev
      elif has "libclang-common-$major-dev"; then rt=libclang-common-$major-dev
      else continue
      fi
      local ok=true pkg need=()
      add_llvm_packages need "$major" "$rt"
      for pkg in "${need[@]}"; do
        has "$pkg" || ok=false
      done
      if $ok; then echo "$major $rt"; fi
    done
  } >"$tmp/packaged"
  if [[ -d $venv ]]; then
    { echo "$state"; cat "$tmp/packaged"; } >"$majors_cache.tmp" && mv "$majors_cache.tmp" "$majors_cache"
  fi
  cat "$tmp/packaged"
}

# The Go loader tests (tests/test_go_loaders.py) need Go and cilium/ebpf's sources, as
# Debian packages them; the version they were measured with or newer (Debian sid's),
# else nothing: older releases' (0.9 in Debian 12, 0.11 in 13) are left alone and the
# tests skip. Cached like the majors.
go_packages=(golang-go golang-github-cilium-ebpf-dev)
min_cilium_ebpf=0.22
extras_cache=$venv/.bpfcov-packaged-extras

# Prints the optional test packages apt can install here, one a line (none: nothing).
packaged_extras() {
  local state first="" line version
  state=$(apt_state)
  if [[ -f $extras_cache ]]; then
    { read -r first; [[ $first == "$state" ]] && while read -r line; do echo "$line"; done; } <"$extras_cache"
    [[ $first == "$state" ]] && return
  fi
  version=$(apt-cache policy "${go_packages[@]}" 2>/dev/null \
    | awk '/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) }
           /^  Candidate:/ && $2 != "(none)" { seen[pkg] = $2 }
           END { if ("golang-go" in seen) print seen["golang-github-cilium-ebpf-dev"] }')
  if [[ -n $version ]] && dpkg --compare-versions "$version" ge "$min_cilium_ebpf"; then
    printf '%s\n' "${go_packages[@]}"
  fi >"$tmp/extras-found"
  if [[ -d $venv ]]; then
    { echo "$state"; cat "$tmp/extras-found"; } >"$extras_cache.tmp" && mv "$extras_cache.tmp" "$extras_cache"
  fi
  cat "$tmp/extras-found"
}

# A machine that never ran apt-get update (a fresh container) has empty lists.
ensure_lists() {
  if ! compgen -G '/var/lib/apt/lists/*Packages*' >/dev/null; then
    apt_get update -qq >"$tmp/apt.log" 2>&1 || fail "apt-get update failed" "$tmp/apt.log"
  fi
}

if $only_list; then
  ensure_lists
  packaged_majors | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//'
  echo
  exit 0
fi

# Chooses the majors and their packages from the packaged list in $tmp/chosen-from;
# a major asked for but not packaged is one line naming it and those that are.
choose() {
  local major rt list=""
  local -A rt_of=()
  while read -r major rt; do
    rt_of[$major]=$rt
    list+="${list:+ }$major"
  done <"$tmp/chosen-from"
  if [[ -n $requested ]]; then
    for major in $requested; do
      [[ -n ${rt_of[$major]-} ]] \
        || fail "LLVM $major is not packaged by this machine's apt sources (packaged: ${list:-none}); set BPFCOV_LLVM_MAJORS to some of those, or add an apt source that has it"
    done
    majors=$requested
  else
    [[ -n $list ]] || fail "no LLVM $min_llvm or newer is packaged by this machine's apt sources; add an apt source that has clang-N and llvm-N-dev"
    majors=$list
  fi
  packages=()
  for major in $majors; do
    add_llvm_packages packages "$major" "${rt_of[$major]}"
  done
  # chromium: a test renders the HTML report as a browser shows it; lcov: genhtml
  # reads the LCOV report in a test
  packages+=(libbpf-dev bpftool linux-libc-dev gcc g++ make cmake ninja-build chromium lcov
    python3 python3-venv python3-pip zlib1g-dev libzstd-dev libelf-dev pkgconf git)
  mapfile -t -O "${#packages[@]}" packages <"$tmp/extras"
}

# Fills `missing` with the packages not installed; $tmp/dpkg gets "name version status".
find_missing() {
  local pkg version status
  local -A ok=()
  # One dpkg-query for all of them; unknown packages print nothing (and make it fail).
  dpkg-query -W -f='${Package} ${Version} ${Status}\n' "${packages[@]}" >"$tmp/dpkg" 2>/dev/null || true
  while read -r pkg version status; do
    [[ $status == "install ok installed" ]] && ok[$pkg]=1
  done <"$tmp/dpkg"
  missing=()
  for pkg in "${packages[@]}"; do
    [[ -n ${ok[$pkg]-} ]] || missing+=("$pkg")
  done
}

ensure_lists
packaged_majors >"$tmp/chosen-from"
packaged_extras >"$tmp/extras"
choose
find_missing

if [[ ${#missing[@]} -gt 0 ]]; then
  apt_get update -qq >"$tmp/apt.log" 2>&1 || fail "apt-get update failed" "$tmp/apt.log"
  rm -f "$majors_cache" "$extras_cache"
  packaged_majors >"$tmp/chosen-from"
  packaged_extras >"$tmp/extras"
  choose
  find_missing
  echo "bpfcov: installing ${missing[*]}"
  apt-cache policy "${missing[@]}" 2>/dev/null \
    | awk '/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) }
           /^  Candidate:/ && $2 != "(none)" { print pkg }' >"$tmp/installable"
  for pkg in "${missing[@]}"; do
    grep -qx "$pkg" "$tmp/installable" \
      || fail "package $pkg could not be found in the configured apt sources"
  done
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >>"$tmp/apt.log" 2>&1 \
    || fail "apt-get install ${missing[*]} failed" "$tmp/apt.log"
  find_missing
fi

# --- 1b. Rust loaders for the tests -------------------------------------------------------
# tests/test_rust_loaders.py builds aya and libbpf-rs loaders offline from Debian's packaged
# crates (/usr/share/cargo/registry): installed where the apt sources package the versions
# the loaders are written for (sid), skipped without a word elsewhere (trixie has
# libbpf-rs 0.25). The answer is kept per state of the apt lists.
rust_packages=(cargo librust-aya-dev librust-libbpf-rs-dev librust-libc-dev)
rust_versions=('*' '0.13.*' '0.27.*' '0.2.*') # the candidate version each must have
rust_cache=$venv/.bpfcov-rust-packaged
install_rust_packages() {
  local pkg state i candidates version
  local -A ok=()
  while read -r pkg state; do
    [[ $state == "install ok installed" ]] && ok[$pkg]=1
  done < <(dpkg-query -W -f='${Package} ${Status}\n' "${rust_packages[@]}" 2>/dev/null || true)
  local missing_rust=()
  for pkg in "${rust_packages[@]}"; do
    [[ -n ${ok[$pkg]-} ]] || missing_rust+=("$pkg")
  done
  [[ ${#missing_rust[@]} -gt 0 ]] || return 0
  state=$(apt_state)
  [[ -f $rust_cache && $(<"$rust_cache") == "$state none" ]] && return 0
  candidates=$(apt-cache policy "${rust_packages[@]}" 2>/dev/null \
    | awk '/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) }
           /^  Candidate:/ { print pkg, $2 }')
  for i in "${!rust_packages[@]}"; do
    version=$(awk -v p="${rust_packages[$i]}" '$1 == p && $2 != "(none)" { print $2 }' <<<"$candidates")
    # shellcheck disable=SC2053 # the wanted version is a glob
    if [[ -z $version || $version != ${rust_versions[$i]} ]]; then
      if [[ -d $venv ]]; then echo "$state none" >"$rust_cache"; fi
      return 0
    fi
  done
  echo "bpfcov: installing ${missing_rust[*]} (for tests/test_rust_loaders.py)"
  apt_get update -qq >"$tmp/apt.log" 2>&1 || fail "apt-get update failed" "$tmp/apt.log"
  apt_get install -y -qq --no-install-recommends "${missing_rust[@]}" >"$tmp/apt.log" 2>&1 \
    || fail "apt-get install ${missing_rust[*]} failed" "$tmp/apt.log"
}
install_rust_packages

# --- 2. virtualenv and the bpfcov package ------------------------------------------------
py=$venv/bin/python
stamp=$venv/.bpfcov-stamp

if [[ -e $venv ]] && ! "$py" -c '' >/dev/null 2>&1; then
  echo "bpfcov: $venv_name is broken (its Python is gone?); recreating it"
  rm -rf "$venv"
fi

# Whether every user can run $1: the file and each directory above it let others in.
# bpfcov out, list and skel need no root, and the native bpfcov starts this Python
# for them.
runs_for_everyone() {
  local dir
  dir=$(readlink -f "$1") || return 1
  [[ $(( 0$(stat -c %a "$dir") & 01 )) -ne 0 ]] || return 1
  while [[ $dir != / ]]; do
    dir=$(dirname "$dir")
    [[ $(( 0$(stat -c %a "$dir") & 01 )) -ne 0 ]] || return 1
  done
}

if [[ ! -e $venv ]]; then
  # The first python3 on PATH (>= 3.11, with venv and ensurepip) that every user can
  # run, else the first one.
  base="" first=""
  while IFS= read -r candidate; do
    if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
      >/dev/null 2>&1; then
      first=${first:-$candidate}
      if runs_for_everyone "$("$candidate" -c 'import sys; print(sys.executable)')"; then
        base=$candidate
        break
      fi
    fi
  done < <(type -ap python3)
  base=${base:-$first}
  [[ -n $base ]] || fail "no python3 (>= 3.11) with venv and ensurepip on PATH"
  echo "bpfcov: creating $venv_name with $base"
  "$base" -m venv "$venv" >"$tmp/venv.log" 2>&1 \
    || { rm -rf "$venv"; fail "creating $venv_name with $base failed" "$tmp/venv.log"; }
fi

# Everything that goes into the installed package: the majors and the versions of their
# packages, the sources; pyvenv.cfg covers the Python it runs on.
inputs_hash() {
  {
    echo "extras: test; LLVM $majors"
    grep "^llvm-[0-9]*-dev " "$tmp/dpkg"
    sha256sum pyproject.toml CMakeLists.txt "$venv/pyvenv.cfg"
    find bpfcov_build -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 \
      | LC_ALL=C sort -z | xargs -0 -r sha256sum
  } | sha256sum | cut -d' ' -f1
}
want=$(inputs_hash)

if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
  echo "bpfcov: building and installing bpfcov into $venv_name (compiles the pass plugin for LLVM $majors)"
  rm -f "$stamp"
  # The build tree lives in the virtualenv, so that virtualenvs of one checkout for
  # different machines (scripts/userland.sh) never share one.
  BPFCOV_LLVM_MAJORS=$majors PIP_NO_INPUT=1 "$py" -m pip install -q --disable-pip-version-check \
    --config-settings=build-dir="$venv/build/{wheel_tag}" '.[test]' \
    >"$tmp/pip.log" 2>&1 || fail "pip install '.[test]' failed" "$tmp/pip.log"
  echo "$want" >"$stamp"
  packaged_majors >/dev/null # caches the lists in the new virtualenv
  packaged_extras >/dev/null
  # bpfcov out, bpfcov-cc and bpfcov skel need no root: say when other users cannot
  # reach this virtualenv (a clone in root's 0700 home), and what they can do.
  if ! runs_for_everyone "$venv/bin/bpfcov" \
    || ! runs_for_everyone "$("$py" -c 'import sys; print(sys._base_executable)')"; then
    echo "bpfcov: note: other users cannot reach $venv_name or its Python, so only" \
      "$(id -un) can run $venv/bin/bpfcov; for them, clone elsewhere (e.g. /opt/bpfcov) or:" \
      "python3 -m venv ~/bpfcov && ~/bpfcov/bin/pip install $repo"
  fi
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
echo "bpfcov: set up ($venv_name, LLVM ${built[*]:-none})"
