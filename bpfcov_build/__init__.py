"""bpfcov: source-based code coverage for eBPF programs running in the Linux kernel."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
