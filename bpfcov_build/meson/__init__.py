"""Meson support: a helper directory a Meson project copies to build its BPF objects.

``files_dir()`` is that directory (``bpfcov meson-dir`` prints it). A project copies
it in as ``bpfcov/``, declares the ``bpf_coverage`` option and calls
``subdir('bpfcov')``; ``-Dbpf_coverage=true`` then compiles its BPF objects with
``bpfcov-cc`` and installs each ``X.bpf.obj`` beside its ``X.bpf.o``.
``adoption()`` says how, with the path filled in.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["HELPER_NAME", "OPTION", "adoption", "files_dir"]

#: The directory name a project gives its copy, which ``subdir()`` names.
HELPER_NAME = "bpfcov"

#: The line for the project's meson.options (or meson_options.txt, before Meson 1.1).
OPTION = (
    "option('bpf_coverage', type: 'boolean', value: false,\n"
    "  description: 'build the BPF objects with bpfcov-cc: source-based coverage of them')"
)

_ADOPTION = """\
# 1. Copy the helper into the project (again to update it):
mkdir -p {name} && cp -r {files_dir}/. {name}/

# 2. meson.options (or meson_options.txt):
{option}

# 3. meson.build, after project():
subdir('{name}')     # sets bpf_coverage, bpf_cc, bpf_cflags, bpf_outputs, bpf_depfile, bpf_compile
prog_obj = custom_target(
  input: 'prog.bpf.c',
  output: bpf_outputs,            # prog.bpf.o, and prog.bpf.obj when bpf_coverage
  depfile: bpf_depfile,
  command: bpf_compile,           # + your flags: bpf_compile + ['-DDEBUG']
  install: true,
  install_dir: get_option('libdir') / 'bpf',    # both objects go there
)
# prog_obj[0] is the object to load: bpftool gen skeleton, embed, ship...

# 4. Build with coverage:
meson setup build -Dbpf_coverage=true && ninja -C build
"""


def files_dir() -> Path:
    """The Meson helper directory: its ``meson.build`` defines the ``bpf_*`` variables."""
    return Path(__file__).resolve().parent / HELPER_NAME


def adoption() -> str:
    """What to paste where to adopt the helper, as shell and Meson lines."""
    return _ADOPTION.format(files_dir=files_dir(), name=HELPER_NAME, option=OPTION)
