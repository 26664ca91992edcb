#!/usr/bin/env bash
# Runs the test suite for every LLVM major that Debian packages: on this machine for the
# majors its apt sources package, and in Debian userlands (scripts/userland.sh) for the
# others, each major where it is found first. Extra arguments go to every pytest run.
#
#   BPFCOV_LLVM_MAJORS="17 23"  only these majors
#   BPFCOV_USERLANDS=none       this machine only; "trixie sid": these userlands, in this
#                               order (default: bookworm, trixie, sid, less this machine's own;
#                               none on a machine that is not Debian)
#
# Each run first sets up (scripts/setup.sh) and ends with pytest's summary line. Exits
# non-zero if any run fails; "no tests collected" counts as a failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
  echo "bpfcov: $1" >&2
  exit 1
}

requested=${BPFCOV_LLVM_MAJORS-}
requested=${requested//;/ }
for major in $requested; do
  [[ $major =~ ^[0-9]+$ ]] || fail "BPFCOV_LLVM_MAJORS must list LLVM majors (e.g. \"14 19\"), got \"$major\""
done

# set operations on space-separated lists of majors
only() { comm -12 <(printf '%s\n' $1 | sort -u) <(printf '%s\n' $2 | sort -u) | sort -n | tr '\n' ' ' | sed 's/ $//'; }
less() { comm -23 <(printf '%s\n' $1 | sort -u) <(printf '%s\n' $2 | sort -u) | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# This machine's release: a Debian codename, "sid" for testing and unstable, or "".
own_release() {
  local ID="" VERSION_CODENAME=""
  # shellcheck disable=SC1091
  [[ -r /etc/os-release ]] && . /etc/os-release
  [[ $ID == debian ]] || return 0
  if [[ -z $VERSION_CODENAME || $(cat /etc/debian_version 2>/dev/null) == */sid ]]; then
    echo sid
  else
    echo "$VERSION_CODENAME"
  fi
}

userlands=${BPFCOV_USERLANDS-}
if [[ -z $userlands || $userlands == auto ]]; then
  own=$(own_release)
  userlands=""
  if [[ -n $own ]]; then
    for suite in bookworm trixie sid; do
      [[ $suite == "$own" ]] || userlands+="$suite "
    done
  fi
elif [[ $userlands == none ]]; then
  userlands=""
fi

runs=() # "where|majors|status|seconds"
status=0

# One run of the suite here; in a userland, test.sh runs this part alone.
here() { # here <majors> <pytest args...>
  local majors=$1 run=0 start=$SECONDS
  shift
  BPFCOV_LLVM_MAJORS=$majors bash scripts/setup.sh || run=$?
  if [[ $run -eq 0 ]]; then
    venv=${BPFCOV_VENV:-.venv}
    # -P: keep the repo root off sys.path, so the tests import the installed bpfcov_build
    # (which carries the compiled plugins/) rather than the source tree.
    BPFCOV_LLVM_MAJORS=$majors "$venv/bin/python" -P -m pytest -q -p no:cacheprovider "$@" || run=$?
    if [[ $run -eq 5 ]]; then
      echo "bpfcov: pytest collected no tests (exit 5); treating that as a failure" >&2
      run=1
    fi
  fi
  runs+=("this machine|$majors|$run|$((SECONDS - start))")
  [[ $run -eq 0 ]] || status=1
}

native=$(bash scripts/setup.sh --packaged-majors)
mine=$native
[[ -z $requested ]] || mine=$(only "$native" "$requested")
covered=$mine
if [[ -n $mine || -z $userlands ]]; then
  [[ -z $userlands ]] || echo "bpfcov: tests on this machine, LLVM ${mine:-none}"
  here "$mine" "$@"
fi

for suite in $userlands; do
  start=$SECONDS
  if ! packaged=$(bash scripts/userland.sh --no-setup "$suite" -- bash scripts/setup.sh --packaged-majors); then
    runs+=("$suite|?|1|$((SECONDS - start))")
    status=1
    continue
  fi
  majors=$(less "$packaged" "$covered")
  [[ -z $requested ]] || majors=$(only "$majors" "$requested")
  if [[ -z $majors ]]; then
    echo "bpfcov: the $suite userland packages no LLVM major not tested already (it has ${packaged:-none})"
    continue
  fi
  covered="$covered $majors"
  echo "bpfcov: tests in the $suite userland, LLVM $majors"
  run=0
  BPFCOV_LLVM_MAJORS=$majors BPFCOV_USERLANDS=none \
    bash scripts/userland.sh "$suite" -- bash scripts/test.sh "$@" || run=$?
  runs+=("$suite userland|$majors|$run|$((SECONDS - start))")
  [[ $run -eq 0 ]] || status=1
done

if [[ -n $requested ]]; then
  left=$(less "$requested" "$covered")
  if [[ -n $left ]]; then
    echo "bpfcov: LLVM $left: packaged neither here (LLVM ${native:-none}) nor in the userlands (${userlands:-none})" >&2
    status=1
  fi
fi

if [[ ${#runs[@]} -gt 1 ]]; then
  recap=""
  for entry in "${runs[@]}"; do
    IFS='|' read -r where majors run seconds <<<"$entry"
    verdict=passed
    [[ $run -eq 0 ]] || verdict="failed (exit $run)"
    recap+="${recap:+; }$where, LLVM $majors: $verdict in ${seconds}s"
  done
  echo "bpfcov: $recap"
fi
exit "$status"
