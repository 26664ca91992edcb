"""Writing outputs: whole or not at all, never over a file of the user's.

Every file bpfcov writes (profiles, their notes, reports) goes to a temporary file
in the target's directory, which is then renamed over the target: a reader sees
the old file or the whole new one. A target that exists is replaced only when it
is empty or when it is what bpfcov writes there (``ours`` looks at its bytes); an
HTML report directory is replaced only when bpfcov made it (it holds
:data:`DIR_MARKER`) or it is empty. Missing parent directories are created.

Under ``sudo``, what bpfcov writes belongs to the user who ran sudo
(``SUDO_UID``/``SUDO_GID``): root is needed to read the kernel's maps, not to
own a report.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bpfcov_build.errors import BpfcovError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DIR_MARKER",
    "OutputError",
    "check_replaceable",
    "ensure_dir",
    "invoking_user",
    "replace_dir",
    "replace_file",
]

#: The file in every directory bpfcov writes as a whole (the HTML report).
DIR_MARKER = ".bpfcov-report"

#: How much of an existing file ``ours`` is shown.
_HEAD = 4096


class OutputError(BpfcovError):
    """An output cannot be written where it was asked for."""


def invoking_user() -> tuple[int, int] | None:
    """(uid, gid) of the user who ran ``sudo bpfcov ...``; None when not under sudo."""
    if os.geteuid() != 0:
        return None
    try:
        uid, gid = int(os.environ["SUDO_UID"]), int(os.environ["SUDO_GID"])
    except (KeyError, ValueError):
        return None
    return (uid, gid) if uid != 0 else None


def _hand_over(path: Path) -> None:
    """Gives ``path`` to the user who ran sudo, if any."""
    user = invoking_user()
    if user is not None:
        with contextlib.suppress(OSError):  # e.g. a file system without owners
            os.chown(path, *user, follow_symlinks=False)


def ensure_dir(path: Path) -> None:
    """Creates directory ``path`` and its missing parents; one line if it cannot."""
    missing = []
    at = path
    while not at.exists() and at != at.parent:
        missing.append(at)
        at = at.parent
    if at.exists() and not at.is_dir():
        msg = f"{at} is not a directory; cannot write {path}: choose another output"
        raise OutputError(msg)
    for directory in reversed(missing):
        try:
            directory.mkdir(exist_ok=True)
        except OSError as exc:
            msg = f"cannot create directory {directory}: {exc.strerror}; choose another output"
            raise OutputError(msg) from None
        _hand_over(directory)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_replaceable(path: Path, what: str, ours: Callable[[bytes], bool] | None) -> None:
    """Raises OutputError unless ``path`` may be (re)written with a ``what``."""
    if path.is_dir():
        msg = f"{path} is a directory; give a file name for the {what}"
        raise OutputError(msg)
    if not path.exists() or ours is None:
        return
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
    except OSError as exc:
        msg = f"cannot read {path} ({exc.strerror}), so it is not replaced; choose another output"
        raise OutputError(msg) from None
    if head and not ours(head):
        msg = (
            f"{path} exists and is not a {what} bpfcov wrote; not overwritten: "
            "remove it or choose another output"
        )
        raise OutputError(msg)


def replace_file(
    path: Path,
    data: bytes,
    *,
    what: str,
    ours: Callable[[bytes], bool] | None = None,
    mode: int | None = None,
    durable: bool = False,
) -> None:
    """Writes ``data`` to ``path`` whole (temporary file, then rename).

    ``what`` names the output in messages ("JSON report"). An existing non-empty
    ``path`` is replaced only when ``ours`` says its first bytes are of such an
    output. ``mode`` defaults to what the umask gives a new file; ``durable``
    syncs the data before the rename.
    """
    check_replaceable(path, what, ours)
    ensure_dir(path.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        msg = f"cannot write in {path.parent}: {exc.strerror}; choose another output"
        raise OutputError(msg) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask() if mode is None else mode)
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        _hand_over(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        msg = f"cannot write {path}: {exc.strerror}"
        raise OutputError(msg) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _is_our_dir(path: Path) -> bool:
    return (path / DIR_MARKER).is_file() or not any(path.iterdir())


def replace_dir(path: Path, staged: Path, *, what: str) -> None:
    """Puts the finished directory ``staged`` at ``path`` (temporary copy, then renames).

    An existing ``path`` is replaced only when it is empty or bpfcov wrote it (it
    holds :data:`DIR_MARKER`, which this adds).
    """
    if path.exists() and not path.is_dir():
        msg = (
            f"{path} exists and is not a directory; the {what} is a directory: "
            "remove it or choose another output"
        )
        raise OutputError(msg)
    if path.is_dir() and not _is_our_dir(path):
        msg = (
            f"{path} is a directory bpfcov did not write; not replaced by the {what}: "
            "remove it or choose another output"
        )
        raise OutputError(msg)
    ensure_dir(path.parent)
    (staged / DIR_MARKER).write_text(f"a {what} written by bpfcov; it replaces this directory\n")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        msg = f"cannot write in {path.parent}: {exc.strerror}; choose another output"
        raise OutputError(msg) from None
    old: Path | None = None
    try:
        shutil.copytree(staged, tmp, dirs_exist_ok=True)
        tmp.chmod(0o777 & ~_umask())
        for entry in (tmp, *tmp.rglob("*")):
            _hand_over(entry)
        if path.exists():
            old = tmp.with_name(tmp.name.removesuffix(".tmp") + ".old")
            path.replace(old)
        try:
            tmp.replace(path)
        except OSError:
            if old is not None:
                old.replace(path)  # the earlier report stays
                old = None
            raise
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror}"
        raise OutputError(msg) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
