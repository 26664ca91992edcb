"""xdp-demo: an XDP program shipped in a Python package and run in the kernel.

The package holds ``xdp_parser.bpf.o``, built by Meson when the wheel was built
(by ``bpfcov-cc`` with ``--config-settings=setup-args=-Dbpf_coverage=true``, which adds
``xdp_parser.bpf.obj``, the mapping object ``bpfcov out`` and ``llvm-cov`` read).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["__version__", "bpf_object", "mapping_object"]

__version__ = "0.1.0"

_HERE = Path(__file__).resolve().parent


def bpf_object() -> Path:
    """The installed XDP object, the one the kernel loads."""
    return _HERE / "xdp_parser.bpf.o"


def mapping_object() -> Path | None:
    """The installed mapping object of a coverage build, or None for a plain build."""
    path = _HERE / "xdp_parser.bpf.obj"
    return path if path.is_file() else None
