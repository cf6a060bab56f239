"""ESignBaseHook against requests-mock: exact requests sent and documented responses parsed."""

from __future__ import annotations

import base64
import hashlib
import io
from urllib.parse import parse_qs

import pytest
import requests

from airflow_provider_esign.exceptions import (
    DocumentNotReadyError,
    ESignAuthError,
    ESignBadRequestError,
    ESignIntegrityError,
    ESignRateLimitError,
    ESignServerError,
    ESignTransportError,
    ESignValidationError,
)
from airflow_provider_esign.hooks.esignbase import IDEMPOTENCY_METADATA_KEY, TEMPLATE_ROLES_TTL, ESignBaseHook
from airflow_provider_esign.models import DocumentStatus, SendRequest, Signer, SignerStatus

BASE = "https://esignbase.test"
DOC = {
    "id": "doc-1",
    "template_id": "tpl-1",
    "name": "Employee Contract",
    "owner": "ACME",
    "ctime": "2025-08-25T13:49:00+00:00",
    "mtime": "2025-09-25T13:49:00+00:00",
    "expiration_date": "2025-10-25T13:49:00+00:00",
    "page_standard": "a4",
    "num_of_pages": 2,
    "completed_date": None,
    "status": "SENT",
    "recipients": [
        {
            "email": "signee@mail.com",
            "first_name": "John",
            "last_name": "Doe",
            "days_before_voided": 5,
            "form_role": "signee_1",
            "locale": "en",
        }
    ],
    "user_defined_metadata": {"internal_id": "42"},
}
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.fixture
def hook(make_connection, clock):
    make_connection(
        "esignbase_default",
        "esignbase",
        host=BASE,
        login="client-id",
        password="client-secret-value",
        scopes="all",
        sandbox=True,
    )
    return ESignBaseHook(sleep=clock.sleep, clock=clock)


@pytest.fixture
def token(requests_mock):
    return requests_mock.post(
        f"{BASE}/oauth2/token", [{"json": {"access_token": f"token-{i}"}} for i in range(5)]
    )


def request_signer(**overrides):
    values = {"name": "John Doe", "email": "signee@mail.com", "role": "signee_1", **overrides}
    return Signer(**values)


def send_request(**overrides):
    values = {"name": "Contract", "signers": (request_signer(),), "template_id": "tpl-1", **overrides}
    return SendRequest(**values)


class TestAuthentication:
    def test_token_request_is_client_credentials_with_basic_auth(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json=DOC)
        hook.get_document("doc-1")
        sent = token.last_request
        expected = base64.b64encode(b"client-id:client-secret-value").decode()
        assert sent.headers["Authorization"] == f"Basic {expected}"
        assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert parse_qs(sent.text) == {"grant_type": ["client_credentials"], "scope": ["all sandbox"]}
        assert requests_mock.request_history[1].headers["Authorization"] == "Bearer token-0"

    def test_token_is_reused_across_calls_and_hook_instances(self, hook, token, requests_mock, clock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json=DOC)
        hook.get_document("doc-1")
        hook.get_document("doc-1")
        ESignBaseHook(sleep=clock.sleep, clock=clock).get_document("doc-1")
        assert token.call_count == 1

    def test_token_refreshed_ahead_of_its_five_minutes(self, hook, token, requests_mock, clock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json=DOC)
        hook.get_document("doc-1")
        clock.now += 260  # 40 s before expiry: still inside the 30 s margin? no: 260 < 270
        hook.get_document("doc-1")
        assert token.call_count == 1
        clock.now += 15  # 275 s: within 30 s of expiry, refresh before sending
        hook.get_document("doc-1")
        assert token.call_count == 2
        assert requests_mock.last_request.headers["Authorization"] == "Bearer token-1"

    def test_401_refreshes_the_token_once_and_retries_once(self, hook, token, requests_mock):
        document = requests_mock.get(
            f"{BASE}/api/document/doc-1",
            [{"status_code": 401, "json": {"error": "invalid_token"}}, {"json": DOC}],
        )
        assert hook.get_document("doc-1").document_id == "doc-1"
        assert token.call_count == 2
        assert document.call_count == 2
        assert document.last_request.headers["Authorization"] == "Bearer token-1"

    def test_persistent_401_fails_fast_naming_the_connection(self, hook, token, requests_mock):
        document = requests_mock.get(f"{BASE}/api/document/doc-1", status_code=401, json={"error": "x"})
        with pytest.raises(ESignAuthError, match="esignbase_default") as excinfo:
            hook.get_document("doc-1")
        assert document.call_count == 2  # the original and one retry with a fresh token: no storm
        assert token.call_count == 2
        assert "client-secret-value" not in str(excinfo.value)

    def test_bad_client_credentials(self, hook, requests_mock):
        requests_mock.post(f"{BASE}/oauth2/token", status_code=401, json={"error": "invalid_client"})
        ok, message = hook.test_connection()
        assert not ok
        assert "esignbase_default" in message and "get_access_token" in message
        assert requests_mock.call_count == 1

    def test_connection_without_secret_is_rejected_before_http(self, make_connection, requests_mock):
        make_connection("esb_empty", "esignbase", host=BASE, login="client-id")
        with pytest.raises(ESignValidationError, match="client id"):
            ESignBaseHook("esb_empty").get_document("x")
        assert requests_mock.call_count == 0

    def test_unknown_scope_rejected(self, make_connection, requests_mock):
        make_connection("esb_scope", "esignbase", host=BASE, login="c", password="s", scopes="all admin")
        with pytest.raises(ESignValidationError, match="admin"):
            ESignBaseHook("esb_scope").get_credits()
        assert requests_mock.call_count == 0


class TestDocuments:
    @pytest.mark.parametrize(
        ("raw", "status", "downloadable"),
        [
            ("DRAFT", DocumentStatus.DRAFT, False),
            ("PARTIALLY_SENT", DocumentStatus.SENT, False),
            ("SENT", DocumentStatus.SENT, False),
            ("PARTIALLY_SIGNED", DocumentStatus.PARTIALLY_SIGNED, False),
            ("WAITING_FOR_PREPARATION", DocumentStatus.SIGNED, False),
            ("WAITING_FOR_DIGITAL_SIGNATURE", DocumentStatus.SIGNED, False),
            ("DIGITAL_SIGNATURE_CREATED", DocumentStatus.SIGNED, True),
            ("COMPLETED", DocumentStatus.COMPLETED, True),
            ("VOIDED", DocumentStatus.VOIDED, False),
        ],
    )
    def test_status_mapping(self, hook, token, requests_mock, raw, status, downloadable):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": raw})
        info = hook.get_document("doc-1")
        assert (info.status, info.raw_status, info.downloadable) == (status, raw, downloadable)

    def test_document_fields(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": "COMPLETED"})
        info = hook.get_document("doc-1")
        assert info.vendor == "esignbase"
        assert info.name == "Employee Contract"
        assert info.created_at == "2025-08-25T13:49:00+00:00"
        assert info.metadata == {"internal_id": "42"}
        assert info.signers[0].email == "signee@mail.com"
        assert info.signers[0].role == "signee_1"
        assert info.signers[0].status is SignerStatus.SIGNED
        assert info.raw["owner"] == "ACME"
        assert info.to_dict()["status"] == "COMPLETED"

    def test_ids_are_url_encoded(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/a%2Fb%20c", json={**DOC, "id": "a/b c"})
        assert hook.get_document("a/b c").document_id == "a/b c"

    def test_list_follows_offsets_until_count(self, hook, token, requests_mock):
        pages = [
            {"json": {"documents": [{**DOC, "id": f"d{i}"} for i in range(100)], "count": 150}},
            {"json": {"documents": [{**DOC, "id": f"d{i}"} for i in range(100, 150)], "count": 150}},
        ]
        listing = requests_mock.get(f"{BASE}/api/documents", pages)
        ids = [d.document_id for d in hook.list_documents()]
        assert ids == [f"d{i}" for i in range(150)]
        assert [parse_qs(r.query) for r in listing.request_history] == [
            {"limit": ["100"], "offset": ["0"]},
            {"limit": ["100"], "offset": ["100"]},
        ]

    def test_get_documents_stops_paging_once_all_found(self, hook, token, requests_mock):
        listing = requests_mock.get(
            f"{BASE}/api/documents",
            json={"documents": [{**DOC, "id": f"d{i}"} for i in range(100)], "count": 1000},
        )
        found = hook.get_documents(["d3", "d7"])
        assert set(found) == {"d3", "d7"}
        assert listing.call_count == 1

    def test_5xx_on_read_is_retried_with_backoff(self, hook, token, requests_mock, clock):
        document = requests_mock.get(
            f"{BASE}/api/document/doc-1",
            [{"status_code": 503}, {"status_code": 500}, {"json": DOC}],
        )
        assert hook.get_document("doc-1").document_id == "doc-1"
        assert document.call_count == 3
        assert len(clock.sleeps) == 2 and all(s > 0 for s in clock.sleeps)

    def test_429_honours_retry_after(self, hook, token, requests_mock, clock):
        requests_mock.get(
            f"{BASE}/api/document/doc-1",
            [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": DOC}],
        )
        hook.get_document("doc-1")
        assert 7 in clock.sleeps

    def test_retries_are_bounded(self, hook, token, requests_mock):
        document = requests_mock.get(f"{BASE}/api/document/doc-1", status_code=429)
        with pytest.raises(ESignRateLimitError):
            hook.get_document("doc-1")
        assert document.call_count == hook.retry_policy.max_attempts

    def test_attempts_configurable_per_connection(self, make_connection, token, requests_mock, clock):
        make_connection("esb_tuned", "esignbase", host=BASE, login="c", password="secret", max_attempts=2)
        document = requests_mock.get(f"{BASE}/api/document/doc-1", status_code=502)
        with pytest.raises(ESignServerError):
            ESignBaseHook("esb_tuned", sleep=clock.sleep, clock=clock).get_document("doc-1")
        assert document.call_count == 2

    def test_attempts_configurable_per_hook(self, hook, token, requests_mock, clock):
        hook = ESignBaseHook(max_attempts=1, sleep=clock.sleep, clock=clock)
        document = requests_mock.get(f"{BASE}/api/document/doc-1", status_code=503)
        with pytest.raises(ESignServerError):
            hook.get_document("doc-1")
        assert document.call_count == 1

    def test_cancel_deletes(self, hook, token, requests_mock):
        delete = requests_mock.delete(f"{BASE}/api/document/doc-1", status_code=200)
        hook.cancel_document("doc-1")
        assert delete.called_once


class TestSend:
    @pytest.fixture
    def template(self, requests_mock):
        return requests_mock.get(
            f"{BASE}/api/template/tpl-1",
            json={"id": "tpl-1", "filename": "c.pdf", "num_of_pages": 1, "form_role_names": ["signee_1"]},
        )

    def test_create_body_and_result(self, hook, token, template, requests_mock):
        create = requests_mock.post(f"{BASE}/api/document", json={"document_id": "new-1", "status": "DRAFT"})
        info = hook.send_document(
            send_request(
                metadata={"crm_id": "42"}, expires_at="2999-01-02T03:04:05Z", vendor_options={"locale": "de"}
            ),
            idempotency_key="af-key",
        )
        assert create.last_request.json() == {
            "name": "Contract",
            "template_id": "tpl-1",
            "recipients": [
                {
                    "email": "signee@mail.com",
                    "first_name": "John",
                    "last_name": "Doe",
                    "role_name": "signee_1",
                    "locale": "de",
                }
            ],
            "user_defined_metadata": {"crm_id": "42", IDEMPOTENCY_METADATA_KEY: "af-key"},
            "expiration_date": "2999-01-02T03:04:05+00:00",
        }
        assert (info.document_id, info.status, info.name) == ("new-1", DocumentStatus.DRAFT, "Contract")
        assert requests_mock.call_count == 3  # token, template check, create: no extra read

    def test_roles_assigned_from_template_when_not_given(self, hook, token, template, requests_mock):
        create = requests_mock.post(f"{BASE}/api/document", json={"document_id": "new-1", "status": "DRAFT"})
        hook.send_document(send_request(signers=(Signer("John Doe", "signee@mail.com"),)))
        assert create.last_request.json()["recipients"][0]["role_name"] == "signee_1"

    def test_roles_not_matching_template_fail_before_create(self, hook, token, template, requests_mock):
        create = requests_mock.post(f"{BASE}/api/document", json={})
        with pytest.raises(ESignValidationError, match=r"signee_1"):
            hook.send_document(send_request(signers=(request_signer(role="viewer_9"),)))
        assert not create.called

    def test_dropped_create_is_adopted_not_sent_twice(self, hook, token, template, requests_mock):
        create = requests_mock.post(f"{BASE}/api/document", exc=requests.ConnectionError("reset by peer"))
        requests_mock.get(
            f"{BASE}/api/documents",
            json={
                "documents": [
                    {**DOC, "id": "other"},
                    {**DOC, "id": "mine", "user_defined_metadata": {IDEMPOTENCY_METADATA_KEY: "af-key"}},
                ],
                "count": 2,
            },
        )
        info = hook.send_document(send_request(), idempotency_key="af-key")
        assert info.document_id == "mine"
        assert create.call_count == 1

    def test_create_resent_only_when_the_vendor_has_none(self, hook, token, template, requests_mock):
        create = requests_mock.post(
            f"{BASE}/api/document",
            [{"status_code": 503}, {"json": {"document_id": "new-2", "status": "DRAFT"}}],
        )
        listing = requests_mock.get(f"{BASE}/api/documents", json={"documents": [], "count": 0})
        assert hook.send_document(send_request(), idempotency_key="af-key").document_id == "new-2"
        assert create.call_count == 2
        assert listing.call_count == 1  # looked before sending again

    def test_ambiguous_create_without_key_is_not_retried(self, hook, token, template, requests_mock):
        create = requests_mock.post(f"{BASE}/api/document", status_code=502)
        with pytest.raises(ESignServerError):
            hook.send_document(send_request())
        assert create.call_count == 1

    def test_retried_try_adopts_before_creating(self, hook, token, template, requests_mock):
        create = requests_mock.post(f"{BASE}/api/document", json={"document_id": "dup"})
        requests_mock.get(
            f"{BASE}/api/documents",
            json={
                "documents": [
                    {**DOC, "id": "first", "user_defined_metadata": {IDEMPOTENCY_METADATA_KEY: "k"}}
                ],
                "count": 1,
            },
        )
        info = hook.send_document(send_request(), idempotency_key="k", adopt_existing=True)
        assert info.document_id == "first"
        assert not create.called

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"template_id": None, "file": "/tmp/x.pdf"}, "file"),
            ({"template_id": None}, "template_id/file"),
            ({"name": ""}, "name"),
            ({"signers": ()}, "signers"),
            ({"signers": (request_signer(email="not-an-email"),)}, "signers[0].email"),
            ({"signers": (request_signer(name="Cher"),)}, "signers[0].last_name"),
            ({"metadata": {f"k{i}": "v" for i in range(10)}}, "metadata"),
            ({"metadata": {"k" * 26: "v"}}, "metadata"),
            ({"metadata": {"n": 42}}, "metadata['n']"),
            ({"metadata": {"n": "v" * 501}}, "metadata['n']"),
            ({"metadata": {IDEMPOTENCY_METADATA_KEY: "x"}}, IDEMPOTENCY_METADATA_KEY),
            ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
            ({"expires_at": "next tuesday"}, "expires_at"),
            ({"vendor_options": {"locale": "fr"}}, "locale"),
            ({"vendor_options": {"colour": "red"}}, "colour"),
        ],
    )
    def test_bad_input_rejected_before_any_http(self, hook, requests_mock, overrides, field):
        with pytest.raises(ESignValidationError) as excinfo:
            hook.send_document(send_request(**overrides))
        assert field in str(excinfo.value)
        assert requests_mock.call_count == 0


class TestDownload:
    def test_streams_and_verifies(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": "COMPLETED"})
        requests_mock.get(
            f"{BASE}/api/document/doc-1/download",
            content=PDF,
            headers={
                "Content-Type": "application/pdf",
                "Content-Length": str(len(PDF)),
                "Accept-Ranges": "bytes",
            },
        )
        out = io.BytesIO()
        result = hook.download_document("doc-1", out, chunk_size=1000)
        assert out.getvalue() == PDF
        assert result.sha256 == hashlib.sha256(PDF).hexdigest()
        assert result.verified_against == ("pdf-magic", "content-length", "pdf-trailer")
        assert result.document.name == "Employee Contract"

    def test_not_downloadable_yet(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": "WAITING_FOR_PREPARATION"})
        with pytest.raises(DocumentNotReadyError, match="WAITING_FOR_PREPARATION"):
            hook.download_document("doc-1", io.BytesIO())

    def test_truncated_transfer_resumes_with_range(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": "COMPLETED"})
        cut = 1500

        def answer(request, context):
            wanted = request.headers.get("Range")
            if wanted is None:
                context.status_code = 200
                context.headers["Content-Length"] = str(len(PDF))
                return PDF[:cut]  # the connection "drops" after cut bytes
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            context.status_code = 206
            context.headers["Content-Range"] = f"bytes {start}-{len(PDF) - 1}/{len(PDF)}"
            context.headers["Content-Length"] = str(len(PDF) - start)
            return PDF[start:]

        download = requests_mock.get(f"{BASE}/api/document/doc-1/download", content=answer)
        out = io.BytesIO()
        result = hook.download_document("doc-1", out)
        assert out.getvalue() == PDF
        assert result.resumed == 1
        assert download.request_history[1].headers["Range"] == f"bytes={cut}-"

    def test_server_ignoring_range_restarts_cleanly(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": "COMPLETED"})
        requests_mock.get(
            f"{BASE}/api/document/doc-1/download",
            [
                {"content": PDF[:700], "headers": {"Content-Length": str(len(PDF))}},
                {"content": PDF, "headers": {"Content-Length": str(len(PDF))}},
            ],
        )
        out = io.BytesIO()
        result = hook.download_document("doc-1", out)
        assert out.getvalue() == PDF
        assert result.restarted == 1

    def test_not_a_pdf(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": "COMPLETED"})
        requests_mock.get(
            f"{BASE}/api/document/doc-1/download",
            content=b"GIF89a....",
            headers={"Content-Type": "image/gif"},
        )
        with pytest.raises(ESignIntegrityError, match="not a PDF"):
            hook.download_document("doc-1", io.BytesIO())

    def test_truncation_that_persists_fails(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/document/doc-1", json={**DOC, "status": "COMPLETED"})
        requests_mock.get(
            f"{BASE}/api/document/doc-1/download",
            content=PDF[:100],
            headers={"Content-Length": str(len(PDF))},
        )
        with pytest.raises(ESignTransportError, match="download_document"):
            hook.download_document("doc-1", io.BytesIO())


class TestExtras:
    def test_templates_credits_and_test_connection(self, hook, token, requests_mock):
        requests_mock.get(f"{BASE}/api/templates", json=[{"id": "t1", "form_role_names": ["signee_1"]}])
        requests_mock.get(f"{BASE}/api/template/t1", json={"id": "t1", "form_role_names": ["signee_1"]})
        requests_mock.get(f"{BASE}/api/credits", json={"credits": 42})
        assert hook.list_templates()[0]["id"] == "t1"
        assert hook.get_template("t1")["form_role_names"] == ["signee_1"]
        assert hook.get_credits() == 42
        assert hook.test_connection() == (True, "Connected to eSignBase (42 credits left)")


class TestConnectionForms:
    def test_uri_form_with_path_port_and_scheme(self, monkeypatch, token, requests_mock):
        monkeypatch.setenv(
            "AIRFLOW_CONN_ESB_URI",
            "esignbase://client-id:client%2Fsecret@127.0.0.1:8765/esignbase?scheme=http&sandbox=true&rate_limit_per_minute=0",
        )
        requests_mock.post("http://127.0.0.1:8765/esignbase/oauth2/token", json={"access_token": "t"})
        credits = requests_mock.get("http://127.0.0.1:8765/esignbase/api/credits", json={"credits": 3})
        hook = ESignBaseHook("esb_uri")
        assert hook.get_credits() == 3
        assert credits.called
        token_request = requests_mock.request_history[0]
        assert (
            token_request.headers["Authorization"]
            == "Basic " + base64.b64encode(b"client-id:client/secret").decode()
        )
        assert "sandbox" in parse_qs(token_request.text)["scope"][0]

    def test_empty_host_uses_the_vendor_default(self, make_connection, requests_mock):
        make_connection("esb_default_host", "esignbase", login="c", password="secret")
        requests_mock.post("https://app.esignbase.com/oauth2/token", json={"access_token": "t"})
        requests_mock.get("https://app.esignbase.com/api/credits", json={"credits": 1})
        assert ESignBaseHook("esb_default_host").get_credits() == 1


@pytest.fixture
def connection(make_connection):
    def make(conn_id: str = "esignbase_default", client_id: str = "client-id") -> str:
        return make_connection(
            conn_id, "esignbase", host=BASE, login=client_id, password="client-secret-value", sandbox=True
        )

    return make


@pytest.fixture
def vendor(requests_mock):
    requests_mock.post(f"{BASE}/oauth2/token", json={"access_token": "token-1"})
    template = requests_mock.get(
        f"{BASE}/api/template/tpl-1", json={"id": "tpl-1", "form_role_names": ["signee_1"]}
    )
    create = requests_mock.post(f"{BASE}/api/document", json={"document_id": "new", "status": "DRAFT"})
    return template, create


def contract_request(name: str = "Contract") -> SendRequest:
    return SendRequest(name=name, signers=(Signer("John Doe", "john@example.com"),), template_id="tpl-1")


def test_template_roles_are_read_once_for_many_sends(connection, vendor, clock):
    template, create = vendor
    connection()
    hook = ESignBaseHook(sleep=clock.sleep, clock=clock)
    for i in range(5):
        hook.send_document(contract_request(f"Contract {i}"), idempotency_key=f"k{i}")
    other = ESignBaseHook(sleep=clock.sleep, clock=clock)  # another task in the same process
    other.send_document(contract_request(), idempotency_key="k5")
    assert template.call_count == 1
    assert create.call_count == 6
    assert all(r.json()["recipients"][0]["role_name"] == "signee_1" for r in create.request_history)


def test_template_roles_expire(connection, vendor, clock):
    template, _ = vendor
    connection()
    hook = ESignBaseHook(sleep=clock.sleep, clock=clock)
    hook.send_document(contract_request())
    clock.now += TEMPLATE_ROLES_TTL + 1
    hook.send_document(contract_request())
    assert template.call_count == 2


def test_template_roles_are_cached_per_credentials(connection, vendor, clock):
    template, _ = vendor
    connection("esignbase_default", "client-a")
    connection("esignbase_other", "client-b")
    ESignBaseHook(sleep=clock.sleep, clock=clock).send_document(contract_request())
    ESignBaseHook("esignbase_other", sleep=clock.sleep, clock=clock).send_document(contract_request())
    assert template.call_count == 2


def test_rejected_create_forgets_the_roles(connection, vendor, requests_mock, clock):
    template, _ = vendor
    connection()
    hook = ESignBaseHook(sleep=clock.sleep, clock=clock)
    hook.send_document(contract_request())
    requests_mock.post(f"{BASE}/api/document", status_code=400, json={"message": "role_name unknown"})
    with pytest.raises(ESignBadRequestError):
        hook.send_document(contract_request())
    requests_mock.post(f"{BASE}/api/document", json={"document_id": "new-2", "status": "DRAFT"})
    hook.send_document(contract_request())
    assert template.call_count == 2  # read again after the rejection
