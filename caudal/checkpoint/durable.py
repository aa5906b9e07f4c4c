"""Crash-safe file replacement: fsync helpers and the commit journal of a checkpoint prefix.

A checkpoint is several files that must change together (`PREFIX.index` and
its data files), and a rename moves only one. Saving over an existing prefix
therefore goes through a journal, so that a process killed at any moment
leaves the old checkpoint or the new one, never new data under an old index:

1. the new data files and index are written under temporary names and made
   durable (file fsync, then directory fsync);
2. the journal `PREFIX.index.commit`, listing every `temporary -> final`
   rename (paths relative to its directory), is written under a temporary name, fsynced and renamed into place;
   that rename, once the directory is synced, is the commit point;
3. the renames are done (data files first, the index last), the directory is
   synced and the journal removed. A large file being replaced keeps a second
   name (a temporary one) through its rename, and a background thread removes
   it: freeing a file's blocks takes the filesystem about 25 ms per 100 MB
   (ext4), which would otherwise be spent inside the save.

Before that point the old files are untouched; after it, anyone who opens the
prefix (a reader, or the next save) first finishes the journal's renames
(`recover`), which is idempotent. The next save of the same prefix also
removes the temporary files that killed saves left (`remove_stale_temporaries`),
and any save removes those of other prefixes in its directory once no
process holds their write lock and they are a minute old
(`remove_abandoned_temporaries`; POSIX only).
TensorFlow renames the data and index files one after the other with no
journal; its files are the same, and it reads ours unchanged.
"""
from __future__ import annotations

import glob
import os
import re
import threading
import time
import uuid
from collections.abc import Callable

__all__ = ["fsync_file", "fsync_dir", "commit_renames", "recover", "pending_renames", "remove_stale_temporaries",
           "remove_abandoned_temporaries", "lock_while_writing",
           "journal_filename", "TEMP_MARK"]

TEMP_MARK = ".tempstate"
_JOURNAL_SUFFIX = ".index.commit"

# Test hook: called with the name of each step of a commit (see `_step`); tests set it to crash there.
crash_hook: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if crash_hook is not None:
        crash_hook(name)


def fsync_file(f) -> None:  # noqa: ANN001 - any object with fileno() and flush()
    """Flushes `f` and forces its bytes (and the metadata needed to read them back) to the disk."""
    f.flush()
    getattr(os, "fdatasync", os.fsync)(f.fileno())


def fsync_dir(path: str) -> None:
    """Forces a directory's entries (creations, renames, removals) to the disk; a no-op where unsupported."""
    try:
        fd = os.open(path or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_sync_file_range: object = None  # libc's sync_file_range (Linux), False where there is none


def start_writeback(f, offset: int, length: int) -> None:  # noqa: ANN001 - an open binary file
    """Asks the kernel to start writing a range of `f` to the disk now, without waiting (Linux's
    sync_file_range), so the fsync before the commit finds most of a large file already written."""
    global _sync_file_range
    if _sync_file_range is False or length <= 0:
        return
    if _sync_file_range is None:
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            function = libc.sync_file_range
            function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
            _sync_file_range = function
        except (OSError, AttributeError):
            _sync_file_range = False
            return
    f.flush()
    _sync_file_range(f.fileno(), offset, length, 2)  # SYNC_FILE_RANGE_WRITE: start, do not wait


def journal_filename(prefix: str) -> str:
    return prefix + _JOURNAL_SUFFIX


def temporary_name(path: str) -> str:
    """A fresh temporary name beside `path`, recognised by `remove_stale_temporaries`."""
    return f"{path}{TEMP_MARK}{uuid.uuid4().hex}"


def _write_durably(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        fsync_file(f)


def commit_renames(prefix: str, renames: list[tuple[str, str]]) -> None:
    """Renames each `(source, target)` as one atomic step for readers of `prefix` (see the module docstring).

    The sources must already be durable; the last rename should be the index.
    """
    directories = {os.path.dirname(os.path.abspath(p)) for pair in renames for p in pair}
    for directory in directories:
        fsync_dir(directory)
    _step("sources-synced")
    journal = journal_filename(prefix)
    base = os.path.dirname(os.path.abspath(journal))
    body = "".join(f"{os.path.relpath(s, base)}\0{os.path.relpath(t, base)}\n"
                   for s, t in renames).encode("utf-8")
    tmp = temporary_name(journal)
    try:
        _write_durably(tmp, body)
        _step("journal-written")
        os.replace(tmp, journal)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    fsync_dir(os.path.dirname(os.path.abspath(journal)))
    _step("committed")
    _apply_journal(journal, renames)


RETIRE_IN_BACKGROUND_BYTES = 1 << 20


def _retire(target: str) -> str | None:
    """A second (temporary) name for a large `target` about to be replaced, or None: the rename then
    drops one name of the old file, not its blocks, and `_remove_in_background` frees them."""
    try:
        if os.stat(target).st_size < RETIRE_IN_BACKGROUND_BYTES:
            return None
        retired = temporary_name(target)
        os.link(target, retired)
    except (OSError, NotImplementedError):
        return None  # no such file, or no hard links here: the rename frees the old file itself
    return retired


def _remove_in_background(paths: list[str]) -> None:
    """Removes `paths` on a (non-daemon) thread, so the interpreter waits for it at exit; a process
    killed first leaves them as temporaries that the next save removes."""
    def remove_all() -> None:
        for path in paths:
            try:
                os.remove(path)
            except OSError:
                pass
    threading.Thread(target=remove_all, name="caudal-retired-checkpoint-files").start()


def _apply_journal(journal: str, renames: list[tuple[str, str]]) -> None:
    directories: set[str] = set()
    retired = []
    for i, (source, target) in enumerate(renames):
        old = _retire(target)
        if old is not None:
            retired.append(old)
        try:
            os.replace(source, target)
        except FileNotFoundError:
            if not os.path.exists(target):
                raise
        directories.add(os.path.dirname(target))
        if i == 0:
            _step("first-renamed")
    _step("renamed")
    for directory in directories:
        fsync_dir(directory)
    try:
        os.remove(journal)
    except FileNotFoundError:
        pass
    fsync_dir(os.path.dirname(os.path.abspath(journal)))
    if retired:
        _remove_in_background(retired)


def _read_journal(journal: str) -> list[tuple[str, str]] | None:
    try:
        with open(journal, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    base = os.path.dirname(os.path.abspath(journal))
    renames = []
    for line in text.splitlines():
        parts = line.split("\0")
        if len(parts) != 2:
            return None
        renames.append((os.path.join(base, parts[0]), os.path.join(base, parts[1])))
    return renames


def recover(prefix: str) -> None:
    """Finishes a commit of `prefix` that a killed process left half done (nothing to do without a journal)."""
    journal = journal_filename(prefix)
    if not os.path.exists(journal):
        return
    renames = _read_journal(journal)
    if renames is None:
        return
    try:
        _apply_journal(journal, renames)
    except FileNotFoundError:
        pass  # another process finished it first
    except PermissionError:
        pass  # a read-only directory: readers use `pending_renames`


def pending_renames(prefix: str) -> dict[str, str]:
    """`{final path: temporary path}` of a committed, unfinished journal of `prefix` whose sources remain.

    Lets a reader that cannot finish the journal (a read-only directory) read
    the committed checkpoint where it lies.
    """
    journal = journal_filename(prefix)
    if not os.path.exists(journal):
        return {}
    return {t: s for s, t in _read_journal(journal) or [] if os.path.exists(s)}


def remove_stale_temporaries(prefix: str) -> None:
    """Removes the temporary files of `prefix` that killed saves left behind (call after `recover`)."""
    pattern = glob.escape(prefix)
    stale_files = (glob.glob(pattern + ".data-?????-of-?????" + TEMP_MARK + "*")
                   + glob.glob(pattern + ".index" + TEMP_MARK + "*")
                   + glob.glob(pattern + _JOURNAL_SUFFIX + TEMP_MARK + "*"))
    for stale in stale_files:
        try:
            os.remove(stale)
        except OSError:
            pass


_TEMPORARY = re.compile(r"^(?P<prefix>.+)\.(?:data-\d{5}-of-\d{5}|index|index\.commit)" + re.escape(TEMP_MARK)
                        + r"[0-9a-f]+$")
ABANDONED_AFTER_S = 60.0


def lock_while_writing(f) -> None:  # noqa: ANN001 - an open file
    """Marks a temporary file as being written (an exclusive flock, released when its process dies)."""
    try:
        import fcntl

        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        pass


def _abandoned(path: str) -> bool:
    """Whether no process writes `path`: untouched for a minute and its flock free (POSIX only)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        if time.time() - os.stat(path).st_mtime < ABANDONED_AFTER_S:
            return False
        with open(path, "rb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def remove_abandoned_temporaries(directory: str) -> None:
    """Removes the temporaries that killed saves of any prefix in `directory` left (prefixes saved once, such as
    `model.ckpt-STEP`, are never saved again to clean up after themselves). A prefix's unfinished commit is
    finished first; a file some process still writes, or written in the last minute, is left alone."""
    for path in glob.glob(os.path.join(glob.escape(directory or "."), "*" + TEMP_MARK + "*")):
        match = _TEMPORARY.match(os.path.basename(path))
        if match is None or not _abandoned(path):
            continue
        try:
            recover(os.path.join(directory or ".", match.group("prefix")))
            os.remove(path)
        except OSError:
            pass
