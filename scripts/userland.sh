#!/usr/bin/env bash
# Runs a command as root in a Debian userland of another release, with this checkout's
# bpfcov set up there, on this machine's kernel:
#
#   bash scripts/userland.sh SUITE [--] CMD...
#   bash scripts/userland.sh trixie -- bash scripts/test.sh tests/test_run.py
#   BPFCOV_LLVM_MAJORS=23 bash scripts/userland.sh sid -- bpfcov version
#
# SUITE is a Debian suite (bookworm, trixie, sid, ...), SUITE-backports (that suite with
# its backports enabled), or experimental (sid with experimental enabled).
#   1. The userland is made with debootstrap on first use, from the Debian mirror this
#      machine's apt sources name (or BPFCOV_DEBIAN_MIRROR), and kept under
#      /var/cache/bpfcov/userland/SUITE (BPFCOV_USERLAND_CACHE instead of /var/cache/bpfcov).
#   2. In a mount namespace of this command's own, so that every mount ends with it however
#      it ends (Ctrl-C, kill), and nothing is ever mounted under the cache for anyone else:
#      /proc, /sys (with bpffs and tracefs), /dev (with /dev/pts), the repository, /tmp
#      and the cache are bound at the same paths, shared with the host.
#   3. scripts/setup.sh runs inside (unless --no-setup comes before SUITE), its virtualenv in
#      .venv-SUITE of this checkout, so it never meets this machine's own .venv;
#      BPFCOV_LLVM_MAJORS chooses the majors, as for setup.sh.
#   4. CMD runs, as root, in the current directory, with that virtualenv first on PATH, in an
#      environment of PATH, HOME, TERM, LANG, proxies, CA bundles, pip's index settings and
#      BPFCOV_*, PYTEST_* variables. The userland trusts this machine's local CAs (/usr/local/share/ca-certificates)
#      and uses its /etc/resolv.conf.
# Concurrent calls share a userland (a lock per suite); a second call takes seconds. This
# script's own messages and setup.sh's go to stderr: stdout is CMD's.
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/.." && pwd)
cache=${BPFCOV_USERLAND_CACHE:-/var/cache/bpfcov}

fail() {
  echo "bpfcov: $1" >&2
  exit 1
}

usage() {
  fail "usage: bash scripts/userland.sh [--no-setup] SUITE [--] CMD... (SUITE: bookworm, trixie, trixie-backports, sid, experimental, ...)"
}

# Shell code that starts a command in a mount namespace of its own (unshare --mount
# --propagation unchanged), so that its mounts reach no other namespace: / made private,
# or, where / is no mount point (in a chroot, such as another userland), every mount
# point the command sees.
private_prelude='
if ! mount --make-rprivate / 2>/dev/null; then
  findmnt -rno TARGET | while read -r point; do
    mount --make-private "$(printf "%b" "$point")" || exit 1
  done || { echo "bpfcov: cannot make the mounts of a new namespace private" >&2; exit 1; }
fi
'

setup=true
if [[ ${1-} == --no-setup ]]; then
  setup=false
  shift
fi
[[ $# -ge 1 ]] || usage
suite=$1
shift
[[ ${1-} == -- ]] && shift
[[ $# -ge 1 ]] || usage

case $suite in
  experimental) base=sid extra=experimental ;;
  sid-backports) fail "sid has no backports; SUITE experimental is sid with experimental enabled" ;;
  *-backports) base=${suite%-backports} extra=$suite ;;
  *) base=$suite extra="" ;;
esac
[[ $base =~ ^[a-z]+$ ]] || fail "SUITE must be a Debian suite name (bookworm, trixie, sid, ...), got \"$suite\""

if [[ $EUID -ne 0 ]]; then
  command -v sudo >/dev/null || fail "must run as root (no sudo here)"
  flags=()
  $setup || flags=(--no-setup)
  exec sudo --preserve-env "$BASH" "$self" "${flags[@]}" "$suite" -- "$@"
fi

dir=$cache/userland/$suite
locks=$cache/userland/.locks
mkdir -p "$locks"

# --- the mirror -----------------------------------------------------------------------------
# "URI SUITE" for every deb source of this machine, one-line and deb822 formats alike.
apt_sources() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$file" | awk '$1 == "deb" { print $2, $3 }'
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    awk 'function flush() {
           if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false)$/)
             for (u in uris) for (s in suites) print uris[u], suites[s]
           types = ""; enabled = ""; delete uris; delete suites; key = ""
         }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { first = 1 }
         /^[^ \t]/ { key = tolower($1); sub(/:$/, "", key); first = 2 }
         { for (i = first; i <= NF; i++) {
             if (key == "types") types = types " " $i
             else if (key == "enabled") enabled = $i
             else if (key == "uris") uris[length(uris)] = $i
             else if (key == "suites") suites[length(suites)] = $i
           } }
         END { flush() }' "$file"
  done
}

# The URI of a source whose Release file (from the last apt-get update) says it is
# Debian's; $1 = "security" for the security archive, else the main archive.
debian_uri() {
  local uri suite list
  while read -r uri suite; do
    [[ $suite == */* ]] && continue
    if [[ $1 == security ]]; then [[ $suite == *-security ]] || continue
    else [[ $suite == *-security ]] && continue
    fi
    list=${uri#*://}
    list=${list%/}/dists/$suite
    list=/var/lib/apt/lists/${list//\//_}
    if grep -qs '^Origin: Debian$' "${list}_InRelease" "${list}_Release"; then
      echo "${uri%/}"
      return
    fi
  done < <(apt_sources)
}

# --- 1. the userland ------------------------------------------------------------------------
# Removes a half-made userland, never through a mount: whatever is mounted under it (in
# this namespace) is unmounted first, and rm stays on its file system.
remove_tree() {
  local target
  while read -r target; do
    umount -R "$target" 2>/dev/null || umount -lR "$target"
  done < <(findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 || $0 == d' | sort -r)
  if findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 { found = 1 } END { exit !found }'; then
    fail "something is still mounted under $1; not removing it"
  fi
  rm -rf --one-file-system "$1"
}

# This machine's DNS settings and the certificate authorities it adds to Debian's (a
# proxy's, a company's), in the userland at $1.
sync_host_files() {
  local root=$1 cas=/usr/local/share/ca-certificates
  cmp -s /etc/resolv.conf "$root/etc/resolv.conf" || cp /etc/resolv.conf "$root/etc/resolv.conf"
  if ! diff -rq "$cas" "$root$cas" >/dev/null 2>&1; then
    rm -rf "${root:?}$cas"
    mkdir -p "$root$cas"
    if [[ -d $cas ]]; then cp -a "$cas/." "$root$cas/"; fi
    chroot "$root" update-ca-certificates --fresh >/dev/null 2>&1 \
      || echo "bpfcov: warning: update-ca-certificates failed in the $suite userland" >&2
  fi
}

make_userland() {
  local mirror security new=$dir.new
  mirror=${BPFCOV_DEBIAN_MIRROR:-$(debian_uri main)}
  [[ -n $mirror ]] || fail "no Debian mirror in this machine's apt sources (or apt-get update never ran); set BPFCOV_DEBIAN_MIRROR to a Debian mirror's URL"
  security=${BPFCOV_DEBIAN_SECURITY_MIRROR:-$(debian_uri security)}
  if ! command -v debootstrap >/dev/null; then
    echo "bpfcov: installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends debootstrap >"$locks/$suite.log" 2>&1 \
      || { cat "$locks/$suite.log" >&2; fail "apt-get install debootstrap failed"; }
  fi
  local script=/usr/share/debootstrap/scripts/$base
  [[ -e $script ]] || script=/usr/share/debootstrap/scripts/sid # a newer suite than this debootstrap
  # A finished debootstrap is kept when what follows fails.
  if [[ ! -e $new/etc/bpfcov-debootstrapped ]]; then
    [[ -e $new ]] && remove_tree "$new"
    echo "bpfcov: making the $suite userland in $dir with debootstrap from $mirror (takes minutes, once)" >&2
    # In a mount namespace of its own: debootstrap mounts /proc and /sys inside the target,
    # and an interrupted run must not leave them mounted.
    if ! unshare --mount --propagation unchanged -- bash -c "$private_prelude"'exec "$@"' debootstrap \
      debootstrap --variant=minbase --include=ca-certificates "$base" "$new" "$mirror" "$script" \
      >"$locks/$suite.log" 2>&1; then
      tail -n 20 "$locks/$suite.log" >&2
      fail "debootstrap of $base failed (its log: $locks/$suite.log)"
    fi
    touch "$new/etc/bpfcov-debootstrapped"
  fi
  {
    echo "Types: deb"
    echo "URIs: $mirror"
    if [[ $base == sid ]]; then
      echo "Suites: sid${extra:+ $extra}"
    else
      echo "Suites: $base $base-updates${extra:+ $extra}"
    fi
    echo "Components: main"
    echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    if [[ $base != sid && -n $security ]]; then
      echo
      echo "Types: deb"
      echo "URIs: $security"
      echo "Suites: $base-security"
      echo "Components: main"
      echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    fi
  } >"$new/etc/apt/sources.list.d/debian.sources"
  rm -f "$new/etc/apt/sources.list"
  # No daemons started by package scripts; no recommended packages.
  printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
  chmod 755 "$new/usr/sbin/policy-rc.d"
  # This machine's apt settings on the archive's dates (off where the mirror is a snapshot).
  {
    echo 'APT::Install-Recommends "false";'
    apt-config dump Acquire::Check-Valid-Until Acquire::Check-Date 2>/dev/null \
      | grep -E '^Acquire::Check-(Valid-Until|Date) ' || true
  } >"$new/etc/apt/apt.conf.d/90bpfcov"
  sync_host_files "$new"
  if ! chroot "$new" apt-get update -qq >"$locks/$suite.log" 2>&1; then
    cat "$locks/$suite.log" >&2
    fail "apt-get update in the new $suite userland failed"
  fi
  echo "$suite $(date -u +%FT%TZ) $mirror" >"$new/etc/bpfcov-userland"
  mv "$new" "$dir"
}

# A shared lock while the userland is in use; exclusive to make it.
exec 8>"$locks/$suite.lock"
flock -s 8
if [[ ! -e $dir/etc/bpfcov-userland ]]; then
  flock -x 8
  if [[ ! -e $dir/etc/bpfcov-userland ]]; then
    [[ -e $dir ]] && remove_tree "$dir" # not made whole
    make_userland
  fi
  flock -s 8
fi

# bpffs and tracefs are bound from this machine, so they must be mounted here.
if ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf || fail "could not mount bpffs at /sys/fs/bpf"
fi
if ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi
sync_host_files "$dir"

# --- 2.-4. mounts, setup, the command -------------------------------------------------------------
venv=$repo/.venv-$suite
env_args=(PATH="$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" BPFCOV_VENV="$venv")
while IFS= read -r name; do
  [[ $name == BPFCOV_VENV ]] && continue
  env_args+=("$name=${!name}")
done < <(compgen -e | grep -E '^(BPFCOV_.*|PYTEST_.*|CI|(http|https|no|ftp|all)_proxy|(HTTP|HTTPS|NO|FTP|ALL)_PROXY|PIP_(INDEX_URL|EXTRA_INDEX_URL|TRUSTED_HOST|CERT|PROXY|DEFAULT_TIMEOUT|RETRIES)|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)$' || true)
cwd=$PWD
[[ -d $dir$cwd ]] || cwd=$repo

# Runs in the new mount namespace: binds, then setup.sh under the suite's setup lock, then CMD.
inside() {
  local path
  mount --rbind /proc "$dir/proc"
  mount --rbind /sys "$dir/sys"
  mount --rbind /dev "$dir/dev"
  for path in /tmp "$repo" "$cache"; do
    mkdir -p "$dir$path"
    mount --bind "$path" "$dir$path"
  done
  if $setup; then
    flock -x "$locks/$suite.setup.lock" \
      chroot "$dir" /usr/bin/env -i "${env_args[@]}" bash "$repo/scripts/setup.sh" >&2
  fi
  exec chroot "$dir" /usr/bin/env -i "${env_args[@]}" bash -c 'cd "$1" && shift && exec "$@"' \
    userland "$cwd" "$@"
}
export -f inside
export dir repo cache locks suite setup cwd
exec unshare --mount --propagation unchanged -- \
  bash -c "$private_prelude$(declare -p env_args); inside \"\$@\"" userland "$@"
