"""The errors bpfcov raises on purpose.

Every error a user can cause derives from :class:`BpfcovError`. Its message is one line
that names the thing at fault and, where there is one, the fix. The command-line entry
points print that line, prefixed with the program name, and exit non-zero; they never
show a traceback for these.
"""

from __future__ import annotations

__all__ = [
    "BpfcovError",
    "FormatError",
    "NotFoundError",
    "ToolFailedError",
    "UsageError",
]


class BpfcovError(Exception):
    """Base of every error bpfcov reports to its user as one line."""


class NotFoundError(BpfcovError):
    """A tool, plugin, file or kernel object that bpfcov needs is missing."""


class ToolFailedError(BpfcovError):
    """An external tool (clang, opt, llc, llvm-profdata, llvm-cov, ...) failed."""

    def __init__(self, message: str, returncode: int = 1, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr
        """What the tool printed on its standard error, for the user to see."""


class UsageError(BpfcovError):
    """The command line asks for something that cannot be done (exit status 2)."""


class FormatError(BpfcovError):
    """A file or kernel object does not have the layout bpfcov expects."""
