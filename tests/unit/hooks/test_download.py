"""The download path: a resumed transfer sends ``If-Range`` with the first answer's validator, a PDF
replaced between break and resume is restarted (never spliced), a re-login keeps a streamed request's
parameters."""

from __future__ import annotations

import hashlib
import io

import pytest

from airflow_provider_esign.hooks.esignbase import ESignBaseHook

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PDF_V2 = b"%PDF-1.7\n" + bytes(reversed(range(256))) * 40 + b"\n%%EOF\n"


# ----------------------------------------------------------------------------- eSignBase
ESB = "https://esignbase.test"
COMPLETED = {"id": "doc-1", "status": "COMPLETED", "recipients": [], "user_defined_metadata": {}}
LAST_MODIFIED = "Wed, 01 Jan 2025 10:00:00 GMT"


@pytest.fixture
def esb(make_connection, clock, requests_mock):
    make_connection("esb_drift", "esignbase", host=ESB, login="client-id", password="client-secret")
    requests_mock.post(f"{ESB}/oauth2/token", [{"json": {"access_token": f"token-{i}"}} for i in range(5)])
    requests_mock.get(f"{ESB}/api/document/doc-1", json=COMPLETED)
    return ESignBaseHook("esb_drift", sleep=clock.sleep, clock=clock)


def _ranged_server(versions: list[tuple[bytes, str]], cut: int):
    """A download endpoint honouring Range + If-Range (RFC 9110 §13.1.5); the first answer drops at
    ``cut`` bytes, and each request is served from the next entry of ``versions`` (bytes, Last-Modified)."""

    def answer(request, context):
        body, modified = versions.pop(0) if len(versions) > 1 else versions[0]
        context.headers["Last-Modified"] = modified
        wanted, validator = request.headers.get("Range"), request.headers.get("If-Range")
        if wanted is None or (validator is not None and validator != modified):
            context.status_code = 200
            context.headers["Content-Length"] = str(len(body))
            return body[:cut] if wanted is None else body
        start = int(wanted.removeprefix("bytes=").rstrip("-"))
        context.status_code = 206
        context.headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        context.headers["Content-Length"] = str(len(body) - start)
        return body[start:]

    return answer


def test_resumed_download_sends_if_range_with_the_first_validator(esb, requests_mock):
    download = requests_mock.get(
        f"{ESB}/api/document/doc-1/download", content=_ranged_server([(PDF, LAST_MODIFIED)], cut=1500)
    )
    out = io.BytesIO()

    result = esb.download_document("doc-1", out)

    assert out.getvalue() == PDF
    assert result.resumed == 1
    resumed = download.request_history[1]
    assert resumed.headers["Range"] == "bytes=1500-"
    assert resumed.headers["If-Range"] == LAST_MODIFIED


def test_pdf_replaced_between_break_and_resume_is_restarted_never_spliced(esb, requests_mock):
    replaced = "Thu, 02 Jan 2025 10:00:00 GMT"
    requests_mock.get(
        f"{ESB}/api/document/doc-1/download",
        content=_ranged_server([(PDF, LAST_MODIFIED), (PDF_V2, replaced)], cut=1500),
    )
    out = io.BytesIO()

    result = esb.download_document("doc-1", out)

    assert out.getvalue() == PDF_V2  # the whole new version, not PDF[:1500] + PDF_V2[1500:]
    assert (result.resumed, result.restarted) == (0, 1)
    assert result.sha256 == hashlib.sha256(PDF_V2).hexdigest()


def test_relogin_on_a_streamed_request_keeps_params_and_headers(esb, requests_mock):
    from airflow_provider_esign.hooks.api import ApiRequest
    from airflow_provider_esign.hooks.transport import SyncExecutor

    url = f"{ESB}/api/document/doc-1/download"
    requests_mock.get(
        url,
        [
            {"status_code": 401, "json": {"message": "token expired"}},
            {"content": PDF, "headers": {"Content-Type": "application/pdf"}},
        ],
    )
    request = ApiRequest(
        "GET", "api/document/doc-1/download", operation="download_document",
        params={"version": "2"}, headers={"Accept": "application/pdf"},
    )  # fmt: skip

    esb.settings  # noqa: B018 - loaded, as run_flow does before a pipeline runs
    response = SyncExecutor(esb).run(esb.pipeline.call(request, stream=True, retry=False))
    response.stream.close()

    first, second = (r for r in requests_mock.request_history if r.url.startswith(url))
    assert first.qs == second.qs == {"version": ["2"]}
    assert first.headers["Authorization"] == "Bearer token-0"
    assert second.headers["Authorization"] == "Bearer token-1"
    assert second.headers["Accept"] == "application/pdf"
