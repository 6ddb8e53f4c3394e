"""File primitives that several processes and crashes must not be able to corrupt.

A file written for a database row exists a moment before its row does. Writers hold an
`flock` on such a file from the moment its temp copy exists until the row is committed (a
`FileClaim`); start-up cleanup in any process removes only files nobody holds
(`remove_unless_claimed`). A SIGKILL drops the writer's locks with its descriptors, so what a
crash left behind is free to remove, and a live upload in another process never is.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path`, for work that processes on one host must not race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make a rename itself durable
    finally:
        os.close(dir_fd)


@contextmanager
def _atomic_write(
    path: Path, mode: str, keep_lock: list[int] | None, open_options: dict[str, Any]
) -> Iterator[IO[Any]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    # The lock belongs to the open file, which a dup shares: it outlives `handle` and, after
    # the rename, guards the final name too.
    lock_fd = os.dup(fd)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)
    try:
        with os.fdopen(fd, mode, **open_options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        os.close(lock_fd)
        raise
    if keep_lock is None:
        os.close(lock_fd)
    else:
        keep_lock.append(lock_fd)
    _fsync_dir(path.parent)


@contextmanager
def atomic_file(path: Path, mode: str = "wb", **open_options: Any) -> Iterator[IO[Any]]:
    """Write through a temp file beside `path`, then fsync and rename it into place.

    Readers see the old file or the whole new one, never a part; a crash leaves at most a
    hidden `.name.*.tmp` file, which start-up cleans away (never while it is being written).
    """
    with _atomic_write(path, mode, None, open_options) as handle:
        yield handle


class FileClaim:
    """Files written for a database row that is not committed yet, locked until `release()`.

    Use as a context manager around writing the files and committing their row:

        with FileClaim() as claim:
            with claim.atomic_file(target) as handle: ...
            commit the row
    """

    def __init__(self) -> None:
        self._lock_fds: list[int] = []

    @contextmanager
    def atomic_file(self, path: Path, mode: str = "wb", **open_options: Any) -> Iterator[IO[Any]]:
        """Like `atomic_file`, but the final file stays locked until the claim is released."""
        with _atomic_write(path, mode, self._lock_fds, open_options) as handle:
            yield handle

    @contextmanager
    def temp_file(self, directory: Path, suffix: str) -> Iterator[tuple[int, Path]]:
        """A new locked temp file (its descriptor and path), removed on leaving the block."""
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, suffix=suffix)
        lock_fd = os.dup(fd)
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        self._lock_fds.append(lock_fd)
        try:
            yield fd, Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def release(self) -> None:
        while self._lock_fds:
            os.close(self._lock_fds.pop())

    def __enter__(self) -> FileClaim:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def remove_unless_claimed(path: Path, still_unclaimed: Callable[[], bool] = lambda: True) -> bool:
    """Delete `path` if no live process holds it and `still_unclaimed()` says so once locked.

    `still_unclaimed` re-reads the records: a writer releases its lock only after its row is
    committed, so a row committed before we got the lock is seen here. Returns whether the
    file was removed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # gone already, or not a plain file we may open
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer holds it
        try:
            opened = os.fstat(fd)
            same_file = stat.S_ISREG(opened.st_mode) and os.path.samestat(
                opened, os.stat(path, follow_symlinks=False)
            )
        except FileNotFoundError:
            return False  # renamed away (a temp file that became its final name)
        if not same_file or not still_unclaimed():
            return False
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
