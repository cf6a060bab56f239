"""Regression tests for the places where the download path and WeSignature error handling had drifted
from the hooks' own rules (issue 10, item 6). Each test failed before its fix."""

from __future__ import annotations

import hashlib
import io

import pytest

from airflow_provider_esign.exceptions import (
    ESignAuthError,
    ESignBadRequestError,
    ESignServerError,
)
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.wesignature import WeSignatureHook

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PDF_V2 = b"%PDF-1.7\n" + bytes(reversed(range(256))) * 40 + b"\n%%EOF\n"

# ----------------------------------------------------------------------------- WeSignature
WES = "https://wesignature.test/apihandler"
GUID = "group-abc123"
LOGIN_OK = {"status": "authorized", "message": "success", "data": {"user": "user-77", "api_key": "new-key"}}
STATUS_OK = {
    "status": "success",
    "message": "document data",
    "data": {"document_status": "1", "signer_data": []},
}


@pytest.fixture
def wes(make_connection, clock):
    def make(**extra):
        conn_id = make_connection("wes_drift", "wesignature", host=WES, **extra)
        return WeSignatureHook(conn_id, sleep=clock.sleep, clock=clock)

    return make


def endpoints(requests_mock):
    return [r.url.rsplit("/", 1)[-1] for r in requests_mock.request_history]


def test_wesignature_stale_stored_key_with_a_numeric_body_code_logs_in_once(wes, requests_mock):
    # "responds with these error codes, message and status in json format": HTTP 200, status "error".
    requests_mock.post(
        f"{WES}/documentstatusapi",
        [
            {"json": {"status": "error", "code": 401, "message": "Invalid api key"}},
            {"json": STATUS_OK},
        ],
    )
    requests_mock.post(f"{WES}/login_api", json=LOGIN_OK)
    hook = wes(login="ops@example.com", password="pw", user_id="user-77", api_key="old-key")

    document = hook.get_document(GUID)

    assert document.raw_status == "1"
    assert endpoints(requests_mock) == ["documentstatusapi", "login_api", "documentstatusapi"]
    assert requests_mock.request_history[0].json()["api_key"] == "old-key"
    assert requests_mock.request_history[2].json()["api_key"] == "new-key"


def test_wesignature_bad_password_in_a_200_body_is_an_auth_error_not_retried(wes, requests_mock):
    login = requests_mock.post(
        f"{WES}/login_api", json={"status": "error", "code": 401, "message": "Invalid email or password"}
    )
    hook = wes(login="ops@example.com", password="wrong")

    with pytest.raises(ESignAuthError, match="Invalid email or password"):
        hook.get_document(GUID)
    assert login.call_count == 1


def test_wesignature_numeric_400_code_in_a_200_body_is_a_bad_request(wes, requests_mock):
    requests_mock.post(
        f"{WES}/documentstatusapi", json={"status": "error", "code": "400", "message": "guid is required"}
    )
    hook = wes(user_id="user-77", api_key="key")

    with pytest.raises(ESignBadRequestError, match="guid is required"):
        hook.get_document(GUID)


def test_wesignature_numeric_500_code_in_a_200_body_is_retried_like_a_500(wes, requests_mock):
    status = requests_mock.post(
        f"{WES}/documentstatusapi",
        [{"json": {"status": "error", "code": 500, "message": "try later"}}, {"json": STATUS_OK}],
    )
    hook = wes(user_id="user-77", api_key="key")

    assert hook.get_document(GUID).raw_status == "1"
    assert status.call_count == 2


def test_wesignature_server_error_code_exhausts_into_a_server_error(wes, requests_mock):
    requests_mock.post(f"{WES}/documentstatusapi", json={"status": "error", "code": 503, "message": "down"})
    hook = wes(user_id="user-77", api_key="key", max_attempts=2)

    with pytest.raises(ESignServerError):
        hook.get_document(GUID)


# ----------------------------------------------------------------------------- Legalesign
LEG = "https://legalesign.test/api/v1/"
DOC_ID = "d0d0d0d0-1111-2222-3333-444455556666"


def test_legalesign_redirect_on_the_api_host_is_fetched_without_the_api_key(
    make_connection, clock, requests_mock
):
    make_connection("leg_drift", "legalesign", host=LEG, login="user", password="secret", group="acme-dev")
    hook = LegalesignHook("leg_drift", sleep=clock.sleep, clock=clock)
    document = {
        "uuid": DOC_ID,
        "status": 30,
        "download_final": True,
        "hash_value": hashlib.sha256(PDF).hexdigest(),
        "signers": [],
    }
    # A short-lived link on the same host as the API: requests would keep the Authorization header.
    target = LEG + "storage/final/abc.pdf?X-Amz-Signature=xyz"
    requests_mock.get(LEG + f"document/{DOC_ID}/", json=document)
    requests_mock.get(LEG + f"pdf/{DOC_ID}/", status_code=302, headers={"Location": target})
    requests_mock.get(target, content=PDF, headers={"Content-Type": "application/pdf"})
    out = io.BytesIO()

    hook.download_document(DOC_ID, out)

    assert out.getvalue() == PDF
    pdf_request, redirected = requests_mock.request_history[-2:]
    assert pdf_request.headers["Authorization"] == "ApiKey user:secret"
    assert redirected.url == target
    assert "Authorization" not in redirected.headers


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
