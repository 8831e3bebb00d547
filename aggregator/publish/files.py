"""Writing output files so that readers never see half of one."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

__all__ = ["LEFTOVER_AGE", "remove_leftovers", "write_if_changed"]

#: Seconds after which a temporary file of :func:`write_if_changed` is a leftover of a
#: killed writer: a live one is renamed within moments of being created.
LEFTOVER_AGE = 300.0


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds it.

    A temporary file in the same folder, fsynced, then renamed over the old one: a
    crash leaves the previous file intact, and an unchanged file keeps its mtime (so a
    static server's Last-Modified and ETag stay valid). Returns True if it wrote.
    """
    try:
        if path.read_bytes() == data:
            return False
    except (FileNotFoundError, IsADirectoryError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; a web server must read it
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return True


def remove_leftovers(folder: Path, *, now: float | None = None) -> list[Path]:
    """Remove the temporary files (``.<name>.*.tmp``) that a writer killed between
    creating and renaming one left in ``folder``; those younger than
    :data:`LEFTOVER_AGE` may belong to a writer at work and are kept."""
    now = time.time() if now is None else now
    removed = []
    for path in folder.glob(".*.tmp"):
        try:
            if path.is_file() and now - path.stat().st_mtime > LEFTOVER_AGE:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # another build removed it first
            continue
    return removed
