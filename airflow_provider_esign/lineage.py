"""OpenLineage datasets for the provider's operators.

The send operator turns a source (an uploaded file or a vendor template) into a vendor document; the
download operator turns that document into a stored PDF. Both report those datasets through
``get_openlineage_facets_on_complete``, which the OpenLineage provider calls after a task succeeds.
Everything here imports the OpenLineage provider lazily: without it installed, the operators cost
nothing extra and this module is never imported.

Naming follows the OpenLineage conventions (https://openlineage.io/docs/spec/naming/): a vendor
document is ``<vendor>://<connection id>`` / ``documents/<id>``, a template
``<vendor>://<connection id>`` / ``templates/<id>``, an object in storage ``s3://<bucket>`` /
``<key>`` and a local file ``file`` / ``<absolute path>``.
"""

from __future__ import annotations

from typing import Any


def vendor_dataset(vendor: str, conn_id: str, kind: str, object_id: str) -> Any:
    """A vendor-side object (``kind``: ``documents`` or ``templates``) as an OpenLineage dataset."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    return Dataset(namespace=f"{vendor}://{conn_id}", name=f"{kind}/{object_id}")


def storage_dataset(path: str) -> Any:
    """A stored or source file (local path, ``file://``, ``s3://``, ``https://``, ...) as a dataset."""
    from urllib.parse import urlsplit

    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(str(path))
    if parts.scheme in ("", "file", "local"):
        return Dataset(namespace="file", name=parts.path)
    authority = parts.netloc.rpartition("@")[2]  # ObjectStoragePath may carry a connection id
    return Dataset(namespace=f"{parts.scheme}://{authority}", name=parts.path.lstrip("/"))


def operator_lineage(inputs: list[Any], outputs: list[Any]) -> Any:
    """The ``OperatorLineage`` the OpenLineage provider expects from an operator."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=inputs, outputs=outputs)
