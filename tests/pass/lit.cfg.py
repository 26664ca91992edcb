# -*- Python -*-
"""lit configuration for the bpf-cov pass plugin tests (tests/pass).

Run once per LLVM major, for example:

    lit -v tests/pass -D llvm=19 -D plugin=/path/to/llvm-19/libBPFCov.so

Parameters (lit -D NAME=VALUE):
  llvm    the LLVM major whose tools and plugin are tested (required)
  plugin  the libBPFCov.so built for that major; by default the one the
          installed bpfcov carries
  out     where the tests write their temporary files
          (default: <tmp>/bpfcov-lit/llvm-<N>, so two majors can run at once)

Substitutions:
  %clang_bpf    clang-N -target bpf -O2 -g -fprofile-instr-generate
                -fcoverage-mapping -I/usr/include/<multiarch>
  %clang        clang-N
  %opt          opt-N -load-pass-plugin=<plugin>
  %llc          llc-N
  %readelf      llvm-readelf-N
  %objdump      llvm-objdump-N
  %plugin       the plugin's path (for clang -fpass-plugin=)
  %llvm_major   N
  %raw_version  the raw profile version LLVM N writes (INSTR_PROF_RAW_VERSION of its
                own llvm/ProfileData/InstrProfData.inc)
  %bpftool      bpftool (optional, see the bpftool feature)
  FileCheck     FileCheck-N

Features, for REQUIRES / UNSUPPORTED / %if:
  llvm-N            the major under test
  llvm-ge-K         for every K from 14 up to N ("LLVM >= K")
  raw-V             LLVM N writes raw profile version V (its data record layout)
  bpftool           bpftool is installed (it reads BTF from an object file)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import lit.formats

# The oldest major bpfcov supports (contract.def's MinLLVMMajor), so the first
# llvm-ge-K feature.
_CONTRACT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "bpfcov_build", "include", "bpfcov", "contract.def",
)  # fmt: skip
with open(_CONTRACT) as _f:
    MIN_LLVM = int(re.search(r"^BPFCOV_VALUE\(MinLLVMMajor, (\d+)\)", _f.read(), re.M).group(1))

config.name = "bpfcov-pass"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".c", ".ll"]
config.excludes = ["Inputs", "README.md", "lit.cfg.py"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))


# --- Step 1: the LLVM major ---------------------------------------------------
llvm_param = lit_config.params.get("llvm")
if not llvm_param:
    lit_config.fatal(
        "tests/pass: say which LLVM major to test with -D llvm=N, "
        "e.g. lit -v tests/pass -D llvm=19 -D plugin=/path/to/libBPFCov.so"
    )
if not re.fullmatch(r"[0-9]+", llvm_param):
    lit_config.fatal(f"tests/pass: -D llvm={llvm_param!r} is not an LLVM major number")
llvm_major = int(llvm_param)
if llvm_major < MIN_LLVM:
    lit_config.fatal(
        f"tests/pass: LLVM {llvm_major} is too old; bpfcov supports {MIN_LLVM} or newer"
    )


# --- Step 2: the plugin -------------------------------------------------------
def plugin_from_toolchain(major: int) -> str:
    """The plugin the installed bpfcov_build carries for this major (or $BPFCOV_PLUGIN_DIR's)."""
    hint = f"pass the plugin with -D plugin=/path/to/llvm-{major}/libBPFCov.so"
    try:
        from bpfcov_build import toolchain  # the installed package, as the tests use it

        return os.fspath(toolchain.Toolchain(major).plugin)
    except ImportError:
        lit_config.fatal(f"tests/pass: no -D plugin= given and bpfcov is not installed; {hint}")
    except Exception as e:  # the toolchain's own one-line error says what is missing
        lit_config.fatal(f"tests/pass: {e}; {hint}")


plugin = lit_config.params.get("plugin") or plugin_from_toolchain(llvm_major)
plugin = os.path.abspath(plugin)
if not os.path.isfile(plugin):
    lit_config.fatal(f"tests/pass: plugin {plugin} does not exist (build it, or fix -D plugin=)")


# --- Step 3: the tools of that major -----------------------------------------
def tool(name: str, fallback: str | None = None) -> str:
    """name-N from PATH or /usr/lib/llvm-N/bin, else fallback, else fatal."""
    for candidate in (f"{name}-{llvm_major}", f"/usr/lib/llvm-{llvm_major}/bin/{name}"):
        path = shutil.which(candidate)
        if path:
            return path
    if fallback:
        path = shutil.which(fallback)
        if path:
            lit_config.note(f"tests/pass: no {name} for LLVM {llvm_major}, using {path}")
            return path
    lit_config.fatal(
        f"tests/pass: {name}-{llvm_major} not found; "
        f"install llvm-{llvm_major} / clang-{llvm_major}"
    )


# lit runs a plain `not` itself but `not --crash` with LLVM's `not` program,
# which llvm-N-tools installs (with FileCheck) in /usr/lib/llvm-N/bin only.
llvm_bindir = f"/usr/lib/llvm-{llvm_major}/bin"
if os.path.isfile(os.path.join(llvm_bindir, "not")):
    config.environment["PATH"] = os.pathsep.join([llvm_bindir, config.environment.get("PATH", "")])
elif not shutil.which("not"):
    lit_config.warning("tests/pass: LLVM's `not` not found; the `not --crash` RUN lines will fail")

clang = tool("clang")
opt = tool("opt")
llc = tool("llc")
filecheck = tool("FileCheck")
readelf = tool("llvm-readelf")
objdump = tool("llvm-objdump")
# Optional: BTF checks that need it use %if bpftool.
bpftool = shutil.which("bpftool") or shutil.which("/usr/sbin/bpftool")

# The raw profile version, from the headers of this LLVM (llvm-N-dev, which the
# plugin was built with).
include_dir = subprocess.run(
    [tool("llvm-config"), "--includedir"], capture_output=True, text=True, check=True
).stdout.strip()
instrprof_data = os.path.join(include_dir, "llvm", "ProfileData", "InstrProfData.inc")
try:
    with open(instrprof_data) as header:
        found = re.search(r"^#define INSTR_PROF_RAW_VERSION (\d+)$", header.read(), re.MULTILINE)
except OSError as e:
    lit_config.fatal(f"tests/pass: cannot read {instrprof_data}: {e.strerror}")
if not found:
    lit_config.fatal(f"tests/pass: {instrprof_data} defines no INSTR_PROF_RAW_VERSION")
raw_version = int(found.group(1))

# <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the
# multiarch directory; -target bpf does not look there by itself.
try:
    multiarch = subprocess.run(
        ["gcc", "-print-multiarch"], capture_output=True, text=True, check=True
    ).stdout.strip()
except (OSError, subprocess.CalledProcessError):
    multiarch = ""
multiarch_include = f" -I/usr/include/{multiarch}" if multiarch else ""


# --- Step 4: substitutions and features --------------------------------------
# lit applies substitutions in order and treats each key as a regex: keep a
# key before any key that is a prefix of it (%clang_bpf before %clang).
config.substitutions.append(
    (
        "%clang_bpf",
        f"{clang} -target bpf -O2 -g -fprofile-instr-generate -fcoverage-mapping"
        f"{multiarch_include}",
    )
)
config.substitutions.append(("%clang", clang))
config.substitutions.append(("%opt", f"{opt} -load-pass-plugin={plugin}"))
config.substitutions.append(("%llc", llc))
config.substitutions.append(("%readelf", readelf))
config.substitutions.append(("%objdump", objdump))
config.substitutions.append(("%plugin", plugin))
config.substitutions.append(("%llvm_major", str(llvm_major)))
config.substitutions.append(("%raw_version", str(raw_version)))
config.substitutions.append(("%bpftool", bpftool or "bpftool"))
config.substitutions.append((r"(?<![-\w/.])FileCheck(?![-\w.])", filecheck))

config.available_features.add(f"llvm-{llvm_major}")
config.available_features.add(f"raw-{raw_version}")
if bpftool:
    config.available_features.add("bpftool")
for k in range(MIN_LLVM, llvm_major + 1):
    config.available_features.add(f"llvm-ge-{k}")

config.test_exec_root = lit_config.params.get("out") or os.path.join(
    tempfile.gettempdir(), "bpfcov-lit", f"llvm-{llvm_major}"
)

lit_config.note(f"tests/pass: LLVM {llvm_major}, plugin {plugin}")
