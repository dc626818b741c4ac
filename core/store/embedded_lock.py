"""One process per embedded data path: chdb's rule, made explicit.

chdb refuses a second process on the same path with an opaque engine error, and one
process can hold only one path at a time. This lock turns both into clear errors that
name the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


class StoreLockedError(RuntimeError):
    """The embedded store is held by another process, or this process holds another path."""


_LOCK_FILE = "quantdesk.lock"
_process_guard = threading.Lock()
_held: dict[Path, tuple[IO[str], int]] = {}


def _describe_holder(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text(encoding="utf-8"))
        return f"pid {holder['pid']} ({holder['command']}) since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (holder unknown)"


def acquire(path: Path) -> None:
    """Take the lock on an embedded data path for this process (re-entrant per path)."""
    path = path.resolve()
    with _process_guard:
        if path in _held:
            handle, count = _held[path]
            _held[path] = (handle, count + 1)
            return
        if _held:
            other = next(iter(_held))
            raise StoreLockedError(
                f"this process already has the embedded store at {other} open; chdb allows one "
                f"data path per process, so close it before opening {path}"
            )
        path.mkdir(parents=True, exist_ok=True)
        lock_path = path / _LOCK_FILE
        handle = lock_path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StoreLockedError(
                f"the embedded store at {path} is held by {_describe_holder(lock_path)}; chdb "
                "allows one process per data path: stop that process, point QUANTDESK_STORE_DSN "
                "at a ClickHouse server, or use another QUANTDESK_DATA_DIR"
            ) from None
        handle.seek(0)
        handle.truncate()
        json.dump(
            {
                "pid": os.getpid(),
                "command": " ".join(sys.argv)[:200] or sys.executable,
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            handle,
        )
        handle.flush()
        _held[path] = (handle, 1)


def release(path: Path) -> None:
    """Drop one hold on the path; the file lock goes with the last one."""
    path = path.resolve()
    with _process_guard:
        if path not in _held:
            return
        handle, count = _held[path]
        if count > 1:
            _held[path] = (handle, count - 1)
            return
        del _held[path]
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
