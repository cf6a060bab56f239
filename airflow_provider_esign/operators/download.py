"""Store a signed PDF in object storage, verified and atomically, and announce it as an Asset event."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_esign.hooks.base import ESignHook

#: XCom key with the verified download's details (size, sha256, ...).
DOWNLOAD_XCOM_KEY = "download"
_LOCAL_PROTOCOLS = {"", "file", "local"}


class DownloadDocumentOperator(BaseOperator):
    """Stream a document's final signed PDF to any object-storage destination.

    The PDF streams in chunks to a temporary file, is verified (PDF signature, length, and the
    vendor's SHA-256 where published), and only then appears at the destination: an interrupted or
    failed download never leaves a partial file there. Local paths and ``file://`` work out of the
    box; ``s3://``, ``gs://``, ... through their Airflow providers. Returns the stored path and emits
    an event on each declared outlet Asset (by default :func:`~airflow_provider_esign.assets.
    signed_documents_asset`) whose ``extra`` carries ``document_id``, ``vendor``, ``path``, ``sha256``,
    ``size`` and the document's name and signers. Stored local files get the process umask's mode,
    like any other file the task writes.

    :param conn_id: The e-signature connection.
    :param document_id: The vendor's document id. (templated)
    :param destination: Folder, as a path or object-storage URL (``s3://bucket/signed/``). (templated)
    :param filename: File name pattern; ``{document_id}`` and ``{vendor}`` are filled in. (templated)
    :param destination_conn_id: Airflow connection for the object store, if it needs one.
    :param overwrite: Replace an existing file. Without it, an existing file that holds exactly the
        vendor's PDF (an earlier try stored it before its worker died) is kept and the task succeeds;
        any other existing file fails the task.
    :param hook_params: Extra hook arguments (``max_attempts``, ``timeout``, ...).
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "document_id",
        "destination",
        "filename",
        "destination_conn_id",
    )
    ui_color = "#e6f0ff"

    def __init__(
        self,
        *,
        conn_id: str,
        document_id: str,
        destination: str,
        filename: str = "{document_id}.pdf",
        destination_conn_id: str | None = None,
        overwrite: bool = False,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", _default_outlets())
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.document_id = document_id
        self.destination = destination
        self.filename = filename
        self.destination_conn_id = destination_conn_id
        self.overwrite = overwrite
        self.hook_params = hook_params or {}
        self._stored: tuple[str, str, str] | None = None  # (vendor, document id, path), for OpenLineage

    @classmethod
    def partial(cls, **kwargs: Any):  # type: ignore[override]
        # Mapped tasks take their outlets from the partial kwargs at parse time, not from __init__.
        kwargs.setdefault("outlets", _default_outlets())
        return super().partial(**kwargs)

    def get_hook(self) -> ESignHook:
        from airflow_provider_esign.hooks import get_hook

        return get_hook(self.conn_id, **self.hook_params)

    def target_path(self, vendor: str) -> ObjectStoragePath:
        from airflow.sdk import ObjectStoragePath

        folder = ObjectStoragePath(self.destination, conn_id=self.destination_conn_id)
        name = self.filename.format(document_id=_safe_name(str(self.document_id)), vendor=vendor)
        return folder / name

    def execute(self, context: Context) -> str:
        hook = self.get_hook()
        target = self.target_path(hook.vendor)
        already_stored = target.exists()
        local = target.protocol in _LOCAL_PROTOCOLS
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(target)
        # Local targets download next to the target (same filesystem: the final rename is atomic).
        work_dir = target.parent.path if local else None
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=work_dir)
        try:
            with os.fdopen(fd, "w+b") as out:
                result = hook.download_document(str(self.document_id), out)
            if already_stored and not self.overwrite:
                self._check_earlier_copy(target, result.sha256)
            else:
                # mkstemp creates 0600; a stored PDF is an ordinary output file that downstream
                # readers running as other users must be able to open, so it follows the umask.
                os.chmod(temp, umask_file_mode())
                self._publish(temp, target, local)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        path = str(target)
        self.log.info(
            "Stored %s (%d bytes, sha256 %s, verified: %s)",
            path,
            result.size,
            result.sha256,
            ", ".join(result.verified_against),
        )
        details: dict[str, Any] = {
            "document_id": str(self.document_id),
            "vendor": hook.vendor,
            "path": path,
            "size": result.size,
            "sha256": result.sha256,
            "verified_against": list(result.verified_against),
        }
        if result.document is not None:
            details["name"] = result.document.name
            details["signers"] = [s.to_dict() for s in result.document.signers]
            details["completed_at"] = result.document.completed_at
        context["ti"].xcom_push(key=DOWNLOAD_XCOM_KEY, value=details)
        for outlet in self.outlets:
            context["outlet_events"][outlet].extra.update(details)
        self._stored = (hook.vendor, str(self.document_id), path)
        return path

    def _check_earlier_copy(self, target: ObjectStoragePath, sha256: str) -> None:
        """Accept a target an earlier try already published (its worker died after the publish) when
        it holds exactly the PDF the vendor serves now; refuse any other existing file."""
        from airflow_provider_esign.exceptions import ESignPermanentError

        existing = _sha256_of(target)
        if existing != sha256:
            raise ESignPermanentError(
                f"{target} already exists with different content (sha256 {existing}, the vendor's PDF"
                f" is {sha256}); set overwrite=True to replace it"
            )
        self.log.info("%s already holds this exact PDF (an earlier try stored it); keeping it", target)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the vendor document in, the stored PDF out."""
        from airflow_provider_esign.lineage import operator_lineage, storage_dataset, vendor_dataset

        if self._stored is None:
            return operator_lineage([], [])
        vendor, document_id, path = self._stored
        return operator_lineage(
            [vendor_dataset(vendor, self.conn_id, "documents", document_id)], [storage_dataset(path)]
        )

    def _publish(self, temp: str, target: ObjectStoragePath, local: bool) -> None:
        """Move the verified file into place without ever exposing a partial file at ``target``."""
        if local:
            os.replace(temp, target.path)
            return
        # Object stores publish an object only when its upload completes; a failed upload to the
        # temporary key is removed, and the final key appears by copy only once fully written.
        staging = target.parent / f".{target.name}.{uuid.uuid4().hex}.part"
        try:
            with open(temp, "rb") as source, staging.open("wb") as sink:
                copy_stream(source, sink)
            staging.rename(target, overwrite=True) if _accepts_overwrite(staging) else staging.rename(target)
        finally:
            if staging.exists():
                staging.unlink()


def copy_stream(source: IO[bytes], sink: IO[bytes], chunk_size: int = 8 * 1024 * 1024) -> None:
    """Copy a file in chunks (constant memory)."""
    while chunk := source.read(chunk_size):
        sink.write(chunk)


def _sha256_of(path: ObjectStoragePath) -> str:
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


def _remove_stale_parts(target: ObjectStoragePath) -> None:
    """Remove the temporary files (``.<name>.*.part``) an earlier try of this download left behind
    when its worker was killed; a failed try removes its own."""
    import glob

    try:
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
            stale.unlink()
    except (NotImplementedError, OSError):
        pass  # best effort: a leftover hidden temporary file never hides or replaces the target


def _accepts_overwrite(path: Any) -> bool:
    import inspect

    try:
        return "overwrite" in inspect.signature(path.rename).parameters
    except (TypeError, ValueError):
        return False


def _safe_name(value: str) -> str:
    """Vendor ids are opaque: keep them file-name safe."""
    return re.sub(r"[^-\w.]", "_", value)


def _default_outlets() -> list[Any]:
    from airflow_provider_esign.assets import signed_documents_asset

    return [signed_documents_asset()]
