"""A 200 whose body is not what the API documents (a proxy's HTML page, truncated JSON, ``null``,
``[]``, ``{}``) is a retryable provider error naming the operation: never a document with id ``''``
or ``'None'``, never an empty list (reconciliation would send again), never a raw AttributeError."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignMalformedResponseError, ESignServerError
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.wesignature import WeSignatureHook

DOC_ID = "d0d0d0d0-1111-2222-3333-444455556666"
JUNK = {
    "html": b"<html><body>502 Bad Gateway (but with a 200)</body></html>",
    "truncated": b'{"uuid": "d0d0d0d0-1111-2222-3333-444455556666", "status": 3',
    "null": b"null",
    "empty-list": b"[]",
    "empty-object": b"{}",
    "number": b"42",
}

LEG = "https://legalesign.test/api/v1/"
ESB = "https://esignbase.test"
WES = "https://wesignature.test/apihandler"


@pytest.fixture
def legalesign(make_connection, clock):
    make_connection("leg_junk", "legalesign", host=LEG, login="u", password="secret", group="acme-dev")
    return LegalesignHook("leg_junk", sleep=clock.sleep, clock=clock, max_attempts=2)


@pytest.fixture
def esignbase(make_connection, clock, requests_mock):
    make_connection("esb_junk", "esignbase", host=ESB, login="client", password="secret")
    requests_mock.post(f"{ESB}/oauth2/token", json={"access_token": "tok", "expires_in": 300})
    return ESignBaseHook("esb_junk", sleep=clock.sleep, clock=clock, max_attempts=2)


@pytest.fixture
def wesignature(make_connection, clock):
    make_connection("wes_junk", "wesignature", host=WES, login="", password="", user_id="7", api_key="key-7")
    return WeSignatureHook("wes_junk", sleep=clock.sleep, clock=clock, max_attempts=2)


# ---------------------------------------------------------------------------------------- Legalesign
@pytest.mark.parametrize("junk", JUNK, ids=list(JUNK))
def test_legalesign_junk_document_is_a_retryable_error_naming_the_operation(legalesign, requests_mock, junk):
    url = f"{LEG}document/{DOC_ID}/"
    requests_mock.get(url, content=JUNK[junk])

    with pytest.raises(ESignMalformedResponseError) as err:
        legalesign.get_document(DOC_ID)

    assert isinstance(err.value, ESignServerError)
    assert "get_document" in str(err.value) and "is not a document" in str(err.value)
    assert requests_mock.call_count == 2  # retried by the hook's policy


def test_legalesign_junk_then_a_document_is_retried_to_success(legalesign, requests_mock):
    requests_mock.get(
        f"{LEG}document/{DOC_ID}/",
        [{"content": JUNK["html"]}, {"json": {"uuid": DOC_ID, "status": 30, "download_final": True}}],
    )
    assert legalesign.get_document(DOC_ID).document_id == DOC_ID


@pytest.mark.parametrize("junk", JUNK, ids=list(JUNK))
def test_legalesign_junk_list_is_never_an_empty_list(legalesign, requests_mock, junk):
    requests_mock.get(f"{LEG}document/", content=JUNK[junk])
    with pytest.raises(ESignMalformedResponseError, match="list_documents"):
        list(legalesign.list_documents())


async def test_legalesign_junk_document_async(legalesign, monkeypatch):
    import httpx

    from airflow_provider_esign.hooks.transport import new_async_client

    client = new_async_client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=b"[]"))
    )
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)
    legalesign._overrides["max_attempts"] = 1  # the async executor sleeps for real between attempts
    with pytest.raises(ESignMalformedResponseError, match="get_document"):
        await legalesign.aget_document(DOC_ID)


# ----------------------------------------------------------------------------------------- eSignBase
@pytest.mark.parametrize("junk", JUNK, ids=list(JUNK))
def test_esignbase_junk_document_is_a_retryable_error_naming_the_operation(esignbase, requests_mock, junk):
    url = f"{ESB}/api/document/doc-1"
    requests_mock.get(url, content=JUNK[junk])

    with pytest.raises(ESignMalformedResponseError) as err:
        esignbase.get_document("doc-1")

    assert "get_document" in str(err.value) and "is not a document" in str(err.value)
    assert len([r for r in requests_mock.request_history if r.url == url]) == 2


@pytest.mark.parametrize("junk", JUNK, ids=list(JUNK))
def test_esignbase_junk_list_is_never_an_empty_list(esignbase, requests_mock, junk):
    requests_mock.get(f"{ESB}/api/documents", content=JUNK[junk])
    with pytest.raises(ESignMalformedResponseError, match="list_documents"):
        list(esignbase.list_documents())


@pytest.mark.parametrize(
    ("path", "call", "operation"),
    [
        ("/api/template/t-1", lambda hook: hook.get_template("t-1"), "get_template"),
        ("/api/credits", lambda hook: hook.get_credits(), "get_credits"),
        ("/api/templates", lambda hook: hook.list_templates(), "list_templates"),
    ],
)
@pytest.mark.parametrize("junk", ["html", "null", "number"])
def test_esignbase_other_junk_answers_name_their_operation(
    esignbase, requests_mock, path, call, operation, junk
):
    requests_mock.get(f"{ESB}{path}", content=JUNK[junk])
    with pytest.raises(ESignMalformedResponseError, match=operation):
        call(esignbase)


@pytest.mark.parametrize("junk", ["html", "null", "empty-list", "truncated"])
def test_esignbase_junk_token_answer_is_retried_not_an_auth_failure(
    make_connection, clock, requests_mock, junk
):
    make_connection("esb_tok", "esignbase", host=ESB, login="client", password="secret")
    hook = ESignBaseHook("esb_tok", sleep=clock.sleep, clock=clock, max_attempts=2)
    requests_mock.post(
        f"{ESB}/oauth2/token",
        [{"content": JUNK[junk]}, {"json": {"access_token": "tok", "expires_in": "soon"}}],
    )
    requests_mock.get(f"{ESB}/api/document/doc-1", json={"id": "doc-1", "status": "SENT"})

    assert hook.get_document("doc-1").document_id == "doc-1"


# --------------------------------------------------------------------------------------- WeSignature
@pytest.mark.parametrize("junk", ["html", "truncated", "null", "empty-list", "number"])
def test_wesignature_junk_status_answer_is_a_retryable_error(wesignature, requests_mock, junk):
    requests_mock.post(f"{WES}/documentstatusapi", content=JUNK[junk])

    with pytest.raises(ESignMalformedResponseError, match="get_document") as err:
        wesignature.get_document("guid-1")

    assert "not a JSON object" in str(err.value)
    assert requests_mock.call_count == 2


@pytest.mark.parametrize("data", ['"oops"', "42", "true"])
def test_wesignature_status_data_that_is_no_object_is_junk_not_a_draft(wesignature, requests_mock, data):
    body = f'{{"status": "success", "data": {data}}}'.encode()
    requests_mock.post(
        f"{WES}/documentstatusapi",
        [
            {"content": body},
            {"json": {"status": "success", "data": {"document_status": "3", "signer_data": []}}},
        ],
    )

    document = wesignature.get_document("guid-1")  # the junk answer was asked again

    assert document.status.value == "COMPLETED" and requests_mock.call_count == 2
