"""The one place bpfcov runs other programs.

Every external tool (clang, opt, llc, llvm-profdata, llvm-cov) runs through
:func:`run`, which logs the command at ``-v``, always checks the exit status and
turns a failure into :class:`~bpfcov_build.errors.ToolFailedError` with one line
naming the tool; the tool's own diagnostics are kept for the caller to show.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build.errors import NotFoundError, ToolFailedError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["Run", "run"]

log = logging.getLogger("bpfcov")


@dataclass(frozen=True)
class Run:
    """How to run a tool: extra environment, working directory, what it is for."""

    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    what: str = ""
    """Said in the error when the tool fails, e.g. ``"compiling foo.bpf.c"``."""

    def _env(self) -> dict[str, str] | None:
        return {**os.environ, **self.env} if self.env else None

    def capture(self, cmd: Sequence[str | os.PathLike[str]]) -> str:
        """Runs ``cmd``, returns its stdout; raises ToolFailedError with its stderr."""
        return self.finish(self.start(cmd, stdout=subprocess.PIPE))

    def start(
        self, cmd: Sequence[str | os.PathLike[str]], *, stdout: int | None = None
    ) -> subprocess.Popen[str]:
        """Starts ``cmd`` with stderr captured; :meth:`finish` waits for it."""
        argv = [os.fspath(c) for c in cmd]
        log.info("+ %s", shlex.join(argv))
        try:
            return subprocess.Popen(  # noqa: S603 - argv, no shell
                argv,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                env=self._env(),
                cwd=self.cwd,
            )
        except FileNotFoundError as exc:
            msg = f"{argv[0]}: not found"
            raise NotFoundError(msg) from exc

    def finish(self, proc: subprocess.Popen[str]) -> str:
        """Waits for ``proc``; its stdout, or ToolFailedError carrying its stderr."""
        out, err = proc.communicate()
        if proc.returncode != 0:
            tool = Path(str(proc.args[0])).name  # type: ignore[index]
            doing = f" while {self.what}" if self.what else ""
            msg = f"{tool} failed{doing} (exit status {proc.returncode})"
            raise ToolFailedError(msg, proc.returncode, stderr=err)
        if err:
            log.info("%s", err.rstrip())
        return out or ""


def run(cmd: Sequence[str | os.PathLike[str]], what: str = "") -> str:
    """Runs ``cmd`` and returns its stdout (see :class:`Run`)."""
    return Run(what=what).capture(cmd)
