"""OpenLineage facets of the send and download operators."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from unittest import mock

import pytest

from airflow_provider_esign.models import DocumentInfo, DocumentStatus, DownloadResult
from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator

pytest.importorskip("airflow.providers.openlineage", reason="install the test extras")

PDF = b"%PDF-1.7\n%%EOF\n"


class _Hook:
    vendor = "legalesign"

    def validate_send_request(self, request):
        pass

    def send_document(self, request, **kwargs):
        return DocumentInfo(
            document_id="doc-9",
            vendor="legalesign",
            status=DocumentStatus.SENT,
            raw_status="20",
            name="NDA",
        )

    def web_url(self, document):
        return None

    def get_document_details(self, document_id):
        return self.send_document(None)

    def download_document(self, document_id, out, chunk_size=1024):
        import hashlib

        out.write(PDF)
        return DownloadResult(len(PDF), hashlib.sha256(PDF).hexdigest(), ("pdf-magic",))


def _context():
    ti = SimpleNamespace(
        dag_id="d", task_id="t", run_id="r", map_index=-1, try_number=1, xcom_push=lambda **kw: None
    )
    return {"ti": ti, "outlet_events": mock.MagicMock()}


def _names(datasets):
    return [(d.namespace, d.name) for d in datasets]


def _extract(operator):
    """What the OpenLineage provider's extractor reports for a finished task."""
    from airflow.providers.openlineage.extractors.base import DefaultExtractor

    return DefaultExtractor(operator).extract_on_complete(mock.MagicMock())


def test_send_reports_source_file_in_and_vendor_document_out(tmp_path):
    source = tmp_path / "contract.pdf"
    op = SendDocumentOperator(
        task_id="send",
        conn_id="legalesign_prod",
        document_name="NDA",
        signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
        file=str(source),
    )
    with mock.patch.object(SendDocumentOperator, "get_hook", return_value=_Hook()):
        op.execute(_context())
    lineage = _extract(op)
    assert _names(lineage.inputs) == [("file", str(source))]
    assert _names(lineage.outputs) == [("legalesign://legalesign_prod", "documents/doc-9")]


def test_send_from_a_template_reports_the_template():
    op = SendDocumentOperator(
        task_id="send",
        conn_id="legalesign_prod",
        document_name="NDA",
        signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
        template_id="tpl-1",
    )
    with mock.patch.object(SendDocumentOperator, "get_hook", return_value=_Hook()):
        op.execute(_context())
    assert _names(_extract(op).inputs) == [("legalesign://legalesign_prod", "templates/tpl-1")]


def test_download_reports_vendor_document_in_and_stored_file_out(tmp_path):
    op = DownloadDocumentOperator(
        task_id="store", conn_id="legalesign_prod", document_id="doc-9", destination=str(tmp_path)
    )
    with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=_Hook()):
        path = op.execute(_context())
    lineage = _extract(op)
    assert _names(lineage.inputs) == [("legalesign://legalesign_prod", "documents/doc-9")]
    assert _names(lineage.outputs) == [("file", path)]


def test_no_lineage_before_the_task_ran():
    op = DownloadDocumentOperator(task_id="store", conn_id="c", document_id="d", destination="/tmp")
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == [] and lineage.outputs == []


def test_operators_do_not_import_openlineage():
    """Without a lineage backend in use, the provider's modules pay nothing for OpenLineage."""
    code = (
        "import sys, airflow.sdk\n"
        "before = {m for m in sys.modules if 'openlineage' in m}\n"
        "import airflow_provider_esign.operators.send, airflow_provider_esign.operators.download\n"
        "print(sorted({m for m in sys.modules if 'openlineage' in m} - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
