"""Atomic, verified storage of a downloaded file in any ``ObjectStoragePath``.

A file is first written to a temporary file and verified by the caller's download (PDF signature,
length, the vendor's checksum); only then does it appear at the target, in one step: a rename on
the local filesystem, a server-side copy of a fully uploaded staging object elsewhere. So a reader
sees the complete, verified file or nothing. A target that already exists is kept when it holds
exactly the verified bytes (an earlier try published it before its worker died) and refused
otherwise, unless ``overwrite`` is set.

Without ``overwrite``, the target is checked again at publish time, not only before the transfer: a
file another writer put there while the download ran is never replaced. On the local filesystem the
publish is ``os.link`` (fails if the name exists; atomic). Object stores through fsspec offer no
portable conditional write, so there the target is re-checked right before the server-side copy:
a writer that lands in the gap between that check and the copy (milliseconds) can still be replaced.

Temporary names are short and bounded (``.<at most 40 characters>.<random>.part``), so a
target name near the filesystem's 255-byte limit still gets a temporary file beside it.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_esign.models import DownloadResult

LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
#: Characters of the target's name kept in its temporary names (the rest is a random token).
TEMP_NAME_CHARS = 40


def temp_prefix(name: str) -> str:
    """The prefix of a target's temporary names: ``.<name>.``, or for a long name its start plus a
    digest of the whole name (so a cleanup of one target's leftovers never touches another's)."""
    if len(name) <= TEMP_NAME_CHARS:
        return f".{name}."
    digest = hashlib.blake2b(name.encode(), digest_size=6).hexdigest()
    return f".{name[: TEMP_NAME_CHARS - 13]}~{digest}."


def store_verified(
    target: ObjectStoragePath,
    download: Callable[[IO[bytes]], DownloadResult],
    *,
    overwrite: bool = False,
    log: logging.Logger | Any = None,
) -> DownloadResult:
    """Download into a temporary file with ``download`` and publish it at ``target`` atomically.

    :param target: Where the file must appear.
    :param download: Writes and verifies the file into the given seekable binary file.
    :param overwrite: Replace an existing target that holds other bytes (default: refuse).
    :param log: Logger for what happened to an existing target.
    :raises ESignPermanentError: The target exists with other content and ``overwrite`` is off.
    """
    log = log or logging.getLogger(__name__)
    already_stored = target.exists()
    local = target.protocol in LOCAL_PROTOCOLS
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(target)
    # Local targets download next to the target (same filesystem: the final rename is atomic).
    work_dir = target.parent.path if local else None
    fd, temp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".part", dir=work_dir)
    try:
        with os.fdopen(fd, "w+b") as out:
            result = download(out)
        if already_stored and not overwrite:
            _keep_earlier_copy(target, result.sha256, log)
        else:
            # mkstemp creates 0600; a stored file is an ordinary output that downstream readers
            # running as other users must be able to open, so it follows the umask.
            os.chmod(temp, umask_file_mode())
            if not publish(temp, target, local, overwrite=overwrite):
                # Someone else wrote the target while the download ran: compare, never replace.
                _keep_earlier_copy(target, result.sha256, log)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return result


def _keep_earlier_copy(target: ObjectStoragePath, sha256: str, log: Any) -> None:
    from airflow_provider_esign.exceptions import ESignPermanentError

    existing = sha256_of(target)
    if existing != sha256:
        raise ESignPermanentError(
            f"{target} already exists with different content (sha256 {existing}, the vendor's file"
            f" is {sha256}); set overwrite=True to replace it"
        )
    log.info("%s already holds exactly these bytes (an earlier try stored them); keeping it", target)


def publish(temp: str, target: ObjectStoragePath, local: bool, *, overwrite: bool = True) -> bool:
    """Move the verified file into place without ever exposing a partial file at ``target``.

    :param overwrite: Replace an existing target; without it, an existing target is left alone.
    :return: False when ``overwrite`` is off and the target exists (nothing was published).
    """
    if local:
        if overwrite:
            os.replace(temp, target.path)
            return True
        try:
            os.link(temp, target.path)  # atomic, and fails if the name exists (no check-then-write gap)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            # A filesystem without hard links (some FUSE and SMB mounts): an O_EXCL create claims the
            # name, then the rename fills it. A reader may see an empty file for that instant.
            try:
                os.close(os.open(target.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                return False
            os.replace(temp, target.path)
            return True
        os.unlink(temp)
        return True
    # Object stores publish an object only when its upload completes; a failed upload to the
    # temporary key is removed, and the final key appears by copy only once fully written.
    staging = target.parent / f"{temp_prefix(target.name)}{secrets.token_hex(8)}.part"
    try:
        with open(temp, "rb") as source, staging.open("wb") as sink:
            copy_stream(source, sink)
        if not overwrite and target.exists():  # fsspec has no conditional write: re-check, then copy
            return False
        staging.rename(target, overwrite=True) if _accepts_overwrite(staging) else staging.rename(target)
    finally:
        if staging.exists():
            staging.unlink()
    return True


#: errno values of "this filesystem cannot make hard links".
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV})


def copy_stream(source: IO[bytes], sink: IO[bytes], chunk_size: int = 8 * 1024 * 1024) -> None:
    """Copy a file in chunks (constant memory)."""
    while chunk := source.read(chunk_size):
        sink.write(chunk)


def sha256_of(path: ObjectStoragePath) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stored:
        while chunk := stored.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def umask_file_mode() -> int:
    """The mode a new file gets under the process umask (``0o666 & ~umask``).

    Read from ``/proc/self/status`` where Linux offers it; ``os.umask`` can only be read by setting it,
    which briefly changes it for every thread of the process.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def remove_stale_parts(target: ObjectStoragePath) -> None:
    """Remove the temporary files (``.<name>.*.part``) an earlier try of this download left behind
    when its worker was killed; a failed try removes its own."""
    import glob

    try:
        for stale in target.parent.glob(f"{glob.escape(temp_prefix(target.name))}*.part"):
            stale.unlink()
    except (NotImplementedError, OSError):
        pass  # best effort: a leftover hidden temporary file never hides or replaces the target


def _accepts_overwrite(path: Any) -> bool:
    import inspect

    try:
        return "overwrite" in inspect.signature(path.rename).parameters
    except (TypeError, ValueError):
        return False
