"""Safe file handling: refuse to overwrite without ``force``, write atomically (temp file + rename)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pt2trt.errors import Pt2trtError


def existing_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """Return ``path`` as a Path, or raise a user error if it is not an existing file."""
    p = Path(path)
    if not p.exists():
        raise Pt2trtError(f"{what} not found: {p}", "Check the path and try again")
    if not p.is_file():
        kind = "a directory" if p.is_dir() else "not a regular file (a pipe, socket or device)"
        raise Pt2trtError(f"{what} {p} is {kind}", f"Give the path of a regular {what.lower()}")
    if not os.access(p, os.R_OK):
        raise Pt2trtError(f"{what} {p} is not readable", "Check its permissions (ls -l; chmod u+r)")
    return p


def check_writable(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Validate an output path before any work is done: refuse to overwrite unless ``force``."""
    p = Path(path)
    if p.is_dir():  # before the --force advice: forcing would not help
        raise Pt2trtError(f"{p} is a directory, not a file path", f"Give a file name inside it, e.g. {p / 'out'}")
    if p.exists() and not force:
        raise Pt2trtError(f"{p} already exists", "Pass --force (force=True) to overwrite it")
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise Pt2trtError(f"cannot write {p}: {parent} is not a directory", "Choose an output path inside a folder")
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise Pt2trtError(
            f"cannot write {p}: directory {parent} is not writable",
            "Choose an output path in a folder you can write to, or fix its permissions",
        )
    return p


def format_size(num_bytes: int) -> str:
    """Human-readable size: ``1.2 MB``."""
    size = float(num_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


@contextlib.contextmanager
def staging_dir(final_path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary directory beside ``final_path`` (same filesystem, so renames are atomic).

    Removed on exit whatever happens (an error, Ctrl-C, SIGTERM: :mod:`pt2trt.environment` turns it into an
    exception), so a failed step leaves nothing half-written; folders it had to create for ``final_path`` are removed
    too when the step fails and they stayed empty. Failing to create it, or an ``OSError`` while writing into it
    (disk full, permissions), is a :class:`Pt2trtError` naming the output.
    """
    final = Path(final_path)
    created = [p for p in [final.parent, *final.parent.parents] if not p.exists()]
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    except OSError as exc:
        raise Pt2trtError(f"cannot write {final}: {exc.strerror or exc}", "Choose another output path") from exc
    done = False
    try:
        yield tmp
        done = True
    except OSError as exc:
        raise Pt2trtError(
            f"writing {final} failed: {exc.strerror or exc}", "Check the free space and permissions of its directory"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done:
            _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) that are empty; leave any that something else filled."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def publish(staged: Path, final: Path, *, replace: bool = False) -> None:
    """Move a staged file to its final place atomically; never replace a file unless ``replace`` (``--force``).

    The output path was checked before the work began, but another process may have written it since: without
    ``replace``, the file is published with a hard link, which fails if the target appeared, so the first finished
    file survives and the second writer gets a one-line error.
    """
    if replace:
        os.replace(staged, final)
        return
    try:
        os.link(staged, final)
    except FileExistsError:
        raise Pt2trtError(
            f"{final} already exists (another process wrote it while this one was working)",
            "Pass --force (force=True) to overwrite it, or choose another output path",
        ) from None
    except OSError:  # no hard links on this filesystem: check, then rename (a narrow race remains)
        if final.exists():
            raise Pt2trtError(f"{final} already exists", "Pass --force (force=True) to overwrite it") from None
        os.replace(staged, final)
        return
    staged.unlink()
