"""Unit tests of the WeSignature hook against mocked HTTP (payloads from the vendor reference examples,
https://app.wesignature.com/integrations/api/documentation)."""

from __future__ import annotations

import copy
import io
import json
from unittest import mock

import httpx
import pytest
import requests

from airflow_provider_esign.exceptions import (
    DocumentFailedError,
    DocumentNotReadyError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignNotFoundError,
    ESignServerError,
    ESignTransportError,
    ESignUnsupportedError,
    ESignValidationError,
)
from airflow_provider_esign.hooks.wesignature import BASELINE_KEY, WeSignatureHook, document_links
from airflow_provider_esign.models import DocumentStatus, SendRequest, Signer, SignerStatus

HOST = "https://wesignature.test/apihandler"
LOGIN_URL = f"{HOST}/login_api"
SEND_URL = f"{HOST}/senddocumentapi"
LIST_URL = f"{HOST}/getsentdocumentsapi"
STATUS_URL = f"{HOST}/documentstatusapi"
EMAIL = "ops@example.com"
PASSWORD = "account-password-xyz"
USER_ID = "user-77"
API_KEY = "api-key-0123456789"
NEW_KEY = "api-key-rotated-9876"
GUID = "group-abc123"
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
AUTH = {"user_id": USER_ID, "api_key": API_KEY}

# ------------------------------------------------------------------ the vendor reference's example payloads
LOGIN_OK = {"status": "authorized", "message": "success", "data": {"user": USER_ID, "api_key": API_KEY}}
SEND_OK = {
    "status": "success",
    "message": "Document Details",
    "data": {
        "guid": GUID,
        "document_name": "demoimage.png",
        "document_status": "draft",
        "signature_type": "they-sign",
        "signing_link": "https://wesignature.test/sign/1",
        "edit_link": "https://wesignature.test/edit/1",
        "delete_link": "https://wesignature.test/delete/1",
        "download_link": "https://wesignature.test/download/1",
        "SignerMails": [
            [
                {"name": "Jack", "email_address": "jack@demo-mail.com"},
                {"name": "Jill", "email_address": "jill@demo-mail.com"},
            ]
        ],
    },
}
LIST_ITEM = {
    "guid": GUID,
    "document_name": "nameofdocumentimage.png",
    "document_status": "draft",
    "signature_type": "they-sign",
    "signing_link": "https://wesignature.test/sign/2",
    "edit_link": "https://wesignature.test/edit/2",
    "delete_link": "https://wesignature.test/delete/2",
    "download_link": "https://wesignature.test/download/2",
    "SignerMails": [
        {"email": "signer1@email.com", "signaturestatus": "0", "name": "Signer1"},
        {"email": "signer2@email.com", "signaturestatus": "0", "name": "Signer2"},
        {"email": "signer3@email.com", "signaturestatus": "0", "name": "Signer3"},
    ],
}
LIST_OK = {"status": "success", "message": {"data": [LIST_ITEM]}}
STATUS_OK = {
    "status": "success",
    "message": "document data",
    "data": {
        "signature_request_id": "req-1",
        "request_type": "1",
        "is_embedded": "1",
        "document_status": "1",
        "signature_type": "3",
        "client_id": "client-1",
        "userid": USER_ID,
        "signer_data": [
            {"signer_status": "1", "signer_mail": "test12new@yopmail.com", "signer_id": "s-1"},
            {"signer_status": "3", "signer_mail": "test1@yopmail.com", "signer_id": "s-2"},
        ],
    },
}
PDF = b"%PDF-1.7\n" + b"x" * 2048 + b"\n%%EOF\n"


def status_body(document_status, signer_statuses=(), **data):
    signers = [
        {"signer_status": s, "signer_mail": f"s{i}@example.com", "signer_id": f"id-{i}"}
        for i, s in enumerate(signer_statuses)
    ]
    return {
        "status": "success",
        "message": "document data",
        "data": {"document_status": document_status, "signer_data": signers, **data},
    }


def list_item(guid, name="contract.pdf", status="draft", emails=("jack@demo-mail.com", "jill@demo-mail.com")):
    return {
        "guid": guid,
        "document_name": name,
        "document_status": status,
        "edit_link": f"https://wesignature.test/edit/{guid}",
        "SignerMails": [{"email": e, "signaturestatus": "0", "name": e.split("@")[0]} for e in emails],
    }


def list_body(*items):
    return {"status": "success", "message": {"data": list(items)}}


def send_request(**overrides):
    values = {
        "name": "Contract",
        "signers": (Signer("Jack", "jack@demo-mail.com"), Signer("Jill", "jill@demo-mail.com")),
        "file": "https://files.example.com/docs/contract.pdf?X-Amz-Signature=abc",
        "subject": "Please Sign the document.",
        "message": "Kindly sign document immediately.",
    }
    values.update(overrides)
    return SendRequest(**values)


def created(guid="group-new", name="contract.pdf", signature_type="they-sign"):
    body = copy.deepcopy(SEND_OK)
    body["data"].update(guid=guid, document_name=name, signature_type=signature_type)
    return body


def assert_post(req, url, body):
    """One WeSignature call: POST, JSON headers, exactly this JSON body."""
    assert req.method == "POST"
    assert req.url == url
    assert req.headers["Accept"] == "application/json"
    assert req.headers["Content-Type"] == "application/json"
    assert "Authorization" not in req.headers
    assert req.json() == body


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def conn(make_connection):
    return make_connection("wes", "wesignature", host=HOST, login=EMAIL, password=PASSWORD)


@pytest.fixture
def keys_conn(make_connection):
    return make_connection("wes_keys", "wesignature", host=HOST, user_id=USER_ID, api_key=API_KEY)


@pytest.fixture
def both_conn(make_connection):
    return make_connection(
        "wes_both",
        "wesignature",
        host=HOST,
        login=EMAIL,
        password=PASSWORD,
        user_id=USER_ID,
        api_key="old-key",
    )


@pytest.fixture
def make_hook(clock):
    def make(conn_id, **kwargs):
        return WeSignatureHook(conn_id, sleep=clock.sleep, clock=clock, **kwargs)

    return make


@pytest.fixture
def hook(conn, make_hook):
    return make_hook(conn)


@pytest.fixture
def login_mock(requests_mock):
    return requests_mock.post(LOGIN_URL, json=LOGIN_OK)


def calls_to(requests_mock, url):
    return [r for r in requests_mock.request_history if r.url == url]


# ------------------------------------------------------------------ class and connection
def test_class_attributes():
    assert WeSignatureHook.conn_type == "wesignature"
    assert WeSignatureHook.default_conn_name == "wesignature_default"
    assert WeSignatureHook.hook_name == "WeSignature"
    assert WeSignatureHook.vendor == "wesignature"
    assert WeSignatureHook.default_host == "https://app.wesignature.com/apihandler"
    assert WeSignatureHook.reauthenticate_on_401 is True
    assert WeSignatureHook.supports_cancel is False
    assert WeSignatureHook.supports_reminders is False
    assert WeSignatureHook.default_rate_limit_per_minute == 0


def test_default_host_is_used_without_host(make_connection, make_hook):
    conn_id = make_connection("wes_nohost", "wesignature", login=EMAIL, password=PASSWORD)
    assert make_hook(conn_id).settings.base_url == "https://app.wesignature.com/apihandler/"


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({}, "needs the account email"),
        ({"login": EMAIL}, "needs the account email"),
        ({"user_id": USER_ID}, "give both 'user_id' and 'api_key'"),
        ({"api_key": API_KEY, "login": EMAIL, "password": PASSWORD}, "give both 'user_id' and 'api_key'"),
    ],
)
def test_connection_without_usable_credentials_is_rejected(
    make_connection, make_hook, requests_mock, kwargs, fragment
):
    conn_id = make_connection("wes_bad", "wesignature", host=HOST, **kwargs)
    with pytest.raises(ESignValidationError, match=fragment) as info:
        make_hook(conn_id).get_document(GUID)
    assert "wes_bad" in info.value.field
    assert requests_mock.call_count == 0


# ------------------------------------------------------------------ auth
def test_get_document_logs_in_then_posts_status_with_credentials_in_body(hook, requests_mock, login_mock):
    requests_mock.post(STATUS_URL, json=STATUS_OK)

    doc = hook.get_document(GUID)

    login, status = requests_mock.request_history
    assert_post(login, LOGIN_URL, {"email": EMAIL, "password": PASSWORD})
    assert_post(status, STATUS_URL, {**AUTH, "guid": GUID})
    assert doc.document_id == GUID
    assert doc.vendor == "wesignature"
    assert doc.name is None  # the status API gives no name
    assert doc.raw_status == "1"
    assert doc.status is DocumentStatus.PARTIALLY_SIGNED
    assert not doc.downloadable
    assert [(s.email, s.status, s.raw_status, s.signer_id) for s in doc.signers] == [
        ("test12new@yopmail.com", SignerStatus.SENT, "1", "s-1"),
        ("test1@yopmail.com", SignerStatus.SIGNED, "3", "s-2"),
    ]
    assert doc.raw == STATUS_OK["data"]
    assert hook.document_url(GUID) is None


def test_login_once_per_process_across_calls_and_hook_instances(conn, make_hook, requests_mock, login_mock):
    status = requests_mock.post(STATUS_URL, json=STATUS_OK)

    first = make_hook(conn)
    first.get_document(GUID)
    first.get_document(GUID)
    make_hook(conn).get_document(GUID)

    assert login_mock.call_count == 1
    assert status.call_count == 3
    assert all(r.json()["api_key"] == API_KEY for r in status.request_history)


def test_login_answer_without_key_fails(hook, requests_mock):
    requests_mock.post(
        LOGIN_URL, json={"status": "authorized", "message": "success", "data": {"user": USER_ID}}
    )
    status = requests_mock.post(STATUS_URL, json=STATUS_OK)
    with pytest.raises(ESignAuthError, match=r"no data\.user / data\.api_key"):
        hook.get_document(GUID)
    assert status.call_count == 0


def test_api_key_is_masked_but_user_id_is_not(hook, requests_mock, login_mock):
    requests_mock.post(STATUS_URL, json=STATUS_OK)
    with mock.patch("airflow.sdk.log.mask_secret") as mask:
        hook.get_document(GUID)
    masked = [c.args[0] for c in mask.call_args_list]
    assert API_KEY in masked
    assert USER_ID not in masked


def test_stored_keys_need_no_login_and_are_masked(keys_conn, make_hook, requests_mock):
    login = requests_mock.post(LOGIN_URL, json=LOGIN_OK)
    status = requests_mock.post(STATUS_URL, json=STATUS_OK)

    with mock.patch("airflow.sdk.log.mask_secret") as mask:
        make_hook(keys_conn).get_document(GUID)
        make_hook(keys_conn).get_document(GUID)

    assert login.call_count == 0
    assert status.call_count == 2
    assert_post(status.last_request, STATUS_URL, {**AUTH, "guid": GUID})
    assert API_KEY in [c.args[0] for c in mask.call_args_list]


def test_http_401_relogs_in_once_and_retries_once(hook, requests_mock):
    login = requests_mock.post(
        LOGIN_URL,
        [
            {"json": LOGIN_OK},
            {"json": {**LOGIN_OK, "data": {"user": USER_ID, "api_key": NEW_KEY}}},
        ],
    )
    status = requests_mock.post(
        STATUS_URL,
        [{"status_code": 401, "json": {"status": "401", "message": "Unauthorised"}}, {"json": STATUS_OK}],
    )

    doc = hook.get_document(GUID)

    assert doc.status is DocumentStatus.PARTIALLY_SIGNED
    assert login.call_count == 2
    assert [r.json()["api_key"] for r in status.request_history] == [API_KEY, NEW_KEY]


def test_http_401_twice_fails_without_retry_storm(hook, requests_mock, login_mock, clock):
    status = requests_mock.post(
        STATUS_URL, status_code=401, json={"status": "401", "message": "Unauthorised"}
    )

    with pytest.raises(ESignAuthError) as info:
        hook.get_document(GUID)

    assert "'wes'" in str(info.value)
    assert info.value.http_status == 401
    assert login_mock.call_count == 2
    assert status.call_count == 2
    assert requests_mock.call_count == 4
    assert clock.sleeps == []
    assert API_KEY not in str(info.value) and PASSWORD not in str(info.value)


def test_401_inside_a_2xx_body_also_relogs_in_once(hook, requests_mock, login_mock):
    status = requests_mock.post(
        STATUS_URL, [{"json": {"status": "401", "message": "Unauthorised"}}, {"json": STATUS_OK}]
    )
    doc = hook.get_document(GUID)
    assert doc.raw_status == "1"
    assert login_mock.call_count == 2
    assert status.call_count == 2


def test_401_inside_a_2xx_body_twice_fails_with_vendor_message(hook, requests_mock, login_mock):
    status = requests_mock.post(STATUS_URL, json={"status": 401, "message": "Unauthorised"})
    with pytest.raises(ESignAuthError, match="vendor says: Unauthorised") as info:
        hook.get_document(GUID)
    assert "'wes'" in str(info.value)
    assert login_mock.call_count == 2
    assert status.call_count == 2


def test_stored_keys_rejected_fail_fast(keys_conn, make_hook, requests_mock):
    login = requests_mock.post(LOGIN_URL, json=LOGIN_OK)
    status = requests_mock.post(
        STATUS_URL, status_code=401, json={"status": "401", "message": "Unauthorised"}
    )

    with pytest.raises(ESignAuthError, match="stored user_id/api_key were rejected") as info:
        make_hook(keys_conn).get_document(GUID)

    assert "'wes_keys'" in str(info.value)
    assert status.call_count == 1
    assert login.call_count == 0
    assert API_KEY not in str(info.value)


def test_stored_keys_rejected_fall_back_to_one_login(both_conn, make_hook, requests_mock):
    login = requests_mock.post(LOGIN_URL, json=LOGIN_OK)
    status = requests_mock.post(
        STATUS_URL, [{"json": {"status": "401", "message": "Unauthorised"}}, {"json": STATUS_OK}]
    )

    hook = make_hook(both_conn)
    hook.get_document(GUID)
    hook.get_document(GUID)
    make_hook(both_conn).get_document(GUID)  # the process-wide cache now holds the login's key

    assert [r.json()["api_key"] for r in status.request_history] == ["old-key", API_KEY, API_KEY, API_KEY]
    assert login.call_count == 1


# ------------------------------------------------------------------ errors in 2xx bodies and HTTP errors
@pytest.mark.parametrize(
    "body_status, error",
    [
        ("400", ESignBadRequestError),
        (400, ESignBadRequestError),
        ("error", ESignApiError),
        ("404", ESignNotFoundError),
    ],
)
def test_error_status_in_a_2xx_body_is_not_retried(
    hook, requests_mock, login_mock, clock, body_status, error
):
    status = requests_mock.post(STATUS_URL, json={"status": body_status, "message": "Parameters missing"})

    with pytest.raises(error, match="Parameters missing") as info:
        hook.get_document(GUID)

    assert status.call_count == 1
    assert clock.sleeps == []
    text = str(info.value)
    assert "'wes'" in text and API_KEY not in text and PASSWORD not in text


def test_login_error_without_message_text_never_echoes_the_body(hook, requests_mock):
    requests_mock.post(
        LOGIN_URL,
        json={"status": "odd", "message": {"info": 1}, "data": {"user": USER_ID, "api_key": API_KEY}},
    )
    with pytest.raises(ESignApiError) as info:
        hook.get_document(GUID)
    assert API_KEY not in str(info.value)
    assert "vendor status 'odd'" in str(info.value)


def test_error_word_status_is_a_plain_api_error(hook, requests_mock, login_mock):
    requests_mock.post(STATUS_URL, json={"status": "error", "message": "Something broke"})
    with pytest.raises(ESignApiError) as info:
        hook.get_document(GUID)
    assert not isinstance(info.value, (ESignBadRequestError, ESignAuthError, ESignServerError))
    assert info.value.vendor_message == "Something broke"


@pytest.mark.parametrize(
    "first", [{"status_code": 500, "text": "oops"}, {"json": {"status": "500", "message": "x"}}]
)
def test_500_on_a_read_is_retried(hook, requests_mock, login_mock, clock, first):
    status = requests_mock.post(STATUS_URL, [first, {"json": STATUS_OK}])
    assert hook.get_document(GUID).raw_status == "1"
    assert status.call_count == 2
    assert len(clock.sleeps) == 1


def test_500_on_a_read_gives_up_after_max_attempts(conn, make_hook, requests_mock, login_mock):
    status = requests_mock.post(STATUS_URL, json={"status": 500, "message": "Internal server error"})
    with pytest.raises(ESignServerError, match="Internal server error"):
        make_hook(conn, max_attempts=3).get_document(GUID)
    assert status.call_count == 3


def test_non_json_2xx_answer_is_an_error(hook, requests_mock, login_mock):
    requests_mock.post(STATUS_URL, text="<html>maintenance</html>", headers={"Content-Type": "text/html"})
    with pytest.raises(ESignServerError, match="not a JSON object"):
        hook.get_document(GUID)


def test_http_400_is_a_bad_request(hook, requests_mock, login_mock):
    status = requests_mock.post(
        STATUS_URL, status_code=400, json={"status": "400", "message": "Parameters missing"}
    )
    with pytest.raises(ESignBadRequestError, match="Parameters missing"):
        hook.get_document(GUID)
    assert status.call_count == 1


# ------------------------------------------------------------------ status mapping
@pytest.mark.parametrize(
    "document_status, signer_statuses, expected",
    [
        ("1", ["1", "1"], DocumentStatus.SENT),
        ("1", ["2", "1"], DocumentStatus.SENT),
        ("1", ["3", "1"], DocumentStatus.PARTIALLY_SIGNED),
        ("1", ["3", "3"], DocumentStatus.SIGNED),
        ("1", [], DocumentStatus.SENT),
        (1, ["1"], DocumentStatus.SENT),
        ("2", ["1"], DocumentStatus.VOIDED),
        ("3", ["3", "3"], DocumentStatus.COMPLETED),
        (3, ["3"], DocumentStatus.COMPLETED),
        ("draft", [], DocumentStatus.DRAFT),
        ("", [], DocumentStatus.DRAFT),
        ("1", ["3", "4"], DocumentStatus.DECLINED),
        ("3", ["3", "4"], DocumentStatus.DECLINED),
        ("7", ["1"], DocumentStatus.SENT),
    ],
)
def test_status_mapping(hook, requests_mock, login_mock, document_status, signer_statuses, expected):
    requests_mock.post(STATUS_URL, json=status_body(document_status, signer_statuses))
    doc = hook.get_document(GUID)
    assert doc.status is expected
    assert doc.raw_status == document_status
    assert doc.downloadable is (expected is DocumentStatus.COMPLETED)


def test_unknown_status_from_status_api_is_logged_as_warning(hook, requests_mock, login_mock):
    requests_mock.post(STATUS_URL, json=status_body("7"))
    hook._log = mock.Mock()
    hook.get_document(GUID)
    assert "Unknown WeSignature document status" in hook._log.warning.call_args.args[0]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "success", "message": "document data"},
        {"status": "success", "message": "document data", "data": None},
        {"status": "success", "message": "document data", "data": {}},
        {"status": "success", "message": "document data", "data": []},
    ],
)
def test_no_data_means_draft_with_a_preparation_hint(hook, requests_mock, login_mock, body):
    requests_mock.post(STATUS_URL, json=body)
    hook._log = mock.Mock()

    doc = hook.get_document(GUID)

    assert doc.status is DocumentStatus.DRAFT
    assert doc.document_id == GUID
    assert doc.signers == []
    hint = hook._log.info.call_args.args[0]
    assert "edit_link" in hint and "not sent out yet" in hint


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", SignerStatus.SENT),
        ("2", SignerStatus.VIEWED),
        ("3", SignerStatus.SIGNED),
        (3, SignerStatus.SIGNED),
        ("4", SignerStatus.DECLINED),
        ("0", SignerStatus.PENDING),
        ("9", SignerStatus.PENDING),
        (None, SignerStatus.PENDING),
    ],
)
def test_signer_status_mapping(hook, raw, expected):
    (signer,) = hook.parse_signers({"signer_data": [{"signer_status": raw, "signer_mail": "a@example.com"}]})
    assert signer.status is expected
    assert signer.raw_status == raw


def test_three_signer_list_shapes(hook):
    nested = hook.parse_signers(SEND_OK["data"])
    flat = hook.parse_signers(LIST_ITEM)
    status = hook.parse_signers(STATUS_OK["data"])

    assert [(s.email, s.name, s.status) for s in nested] == [
        ("jack@demo-mail.com", "Jack", SignerStatus.PENDING),
        ("jill@demo-mail.com", "Jill", SignerStatus.PENDING),
    ]
    assert [(s.email, s.name, s.raw_status, s.order) for s in flat] == [
        ("signer1@email.com", "Signer1", "0", 0),
        ("signer2@email.com", "Signer2", "0", 1),
        ("signer3@email.com", "Signer3", "0", 2),
    ]
    assert [(s.email, s.signer_id, s.status) for s in status] == [
        ("test12new@yopmail.com", "s-1", SignerStatus.SENT),
        ("test1@yopmail.com", "s-2", SignerStatus.SIGNED),
    ]


# ------------------------------------------------------------------ listing
def test_list_documents_reads_message_data(hook, requests_mock, login_mock):
    listing = requests_mock.post(LIST_URL, json=LIST_OK)

    docs = list(hook.list_documents())

    assert listing.call_count == 1  # one page: no pagination is documented
    assert_post(listing.last_request, LIST_URL, AUTH)
    (doc,) = docs
    assert doc.document_id == GUID
    assert doc.name == "nameofdocumentimage.png"
    assert doc.status is DocumentStatus.DRAFT
    assert doc.raw_status == "draft"
    assert [s.email for s in doc.signers] == ["signer1@email.com", "signer2@email.com", "signer3@email.com"]
    assert all(s.status is SignerStatus.PENDING for s in doc.signers)
    assert doc.raw == LIST_ITEM
    assert document_links(doc)["edit_link"] == "https://wesignature.test/edit/2"


def test_list_documents_reads_top_level_data_and_filters_by_guid(hook, requests_mock, login_mock):
    listing = requests_mock.post(LIST_URL, json={"status": "success", "message": "ok", "data": [LIST_ITEM]})
    docs = list(hook.list_documents(guid=GUID))
    assert [d.document_id for d in docs] == [GUID]
    assert_post(listing.last_request, LIST_URL, {**AUTH, "guid": GUID})


def test_list_answer_without_a_list_is_an_error(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json={"status": "success", "message": "done"})
    with pytest.raises(ESignApiError, match=r"neither data nor message\.data"):
        list(hook.list_documents())


def test_empty_list_is_empty(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json={"status": "success", "message": {"data": []}})
    assert list(hook.list_documents()) == []


@pytest.mark.parametrize(
    "word, expected",
    [
        ("draft", DocumentStatus.DRAFT),
        ("Draft", DocumentStatus.DRAFT),
        ("completed", DocumentStatus.COMPLETED),
        ("cancelled", DocumentStatus.VOIDED),
        ("canceled", DocumentStatus.VOIDED),
        ("declined", DocumentStatus.DECLINED),
        ("rejected", DocumentStatus.DECLINED),
        ("pending", DocumentStatus.SENT),
        ("1", DocumentStatus.SENT),
        ("2", DocumentStatus.VOIDED),
        ("3", DocumentStatus.COMPLETED),
    ],
)
def test_list_status_words(hook, requests_mock, login_mock, word, expected):
    requests_mock.post(LIST_URL, json=list_body(list_item(GUID, status=word)))
    (doc,) = hook.list_documents()
    assert doc.status is expected


def test_list_signer_progress_refines_sent(hook, requests_mock, login_mock):
    item = list_item(GUID, status="1")
    item["SignerMails"][0]["signaturestatus"] = "3"
    requests_mock.post(LIST_URL, json=list_body(item))
    (doc,) = hook.list_documents()
    assert doc.status is DocumentStatus.PARTIALLY_SIGNED


# ------------------------------------------------------------------ sending: validation
@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"file": None, "template_id": "tpl-1"}, "template_id"),
        ({"template_id": "tpl-1"}, "template_id/file"),
        ({"file": "s3://bucket/contract.pdf"}, "file"),
        ({"file": "/tmp/contract.pdf"}, "file"),
        ({"file": "ftp://files.example.com/contract.pdf"}, "file"),
        ({"signers": ()}, "signers"),
        (
            {"signers": (Signer("Jack", "jack@demo-mail.com"), Signer("Jill", "not-an-email"))},
            "signers[1].email",
        ),
        ({"signers": (Signer(" ", "jack@demo-mail.com"),)}, "signers[0].name"),
        ({"signers": (Signer("Jack", "jack@demo-mail.com", role="signer"),)}, "signers[0].role"),
        ({"signers": (Signer("Jack", "jack@demo-mail.com", order=0),)}, "signers[0].order"),
        ({"metadata": {"ref": "42"}}, "metadata"),
        ({"expires_at": "2099-01-01T00:00:00Z"}, "expires_at"),
        ({"subject": ""}, "subject"),
        ({"vendor_options": {"locale": "en"}}, "vendor_options['locale']"),
        ({"vendor_options": {"sign_type": "they-sign"}}, "vendor_options['sign_type']"),
        ({"vendor_options": {"sign_type": True}}, "vendor_options['sign_type']"),
        ({"vendor_options": {"sign_type": -1}}, "vendor_options['sign_type']"),
        ({"vendor_options": {"is_for_embedded_signing": 3}}, "vendor_options['is_for_embedded_signing']"),
    ],
)
def test_send_validation_happens_before_any_http(hook, requests_mock, overrides, field):
    with pytest.raises(ESignValidationError) as info:
        hook.send_document(send_request(**overrides), idempotency_key="k")
    assert info.value.field == field
    assert requests_mock.call_count == 0


def test_non_http_file_suggests_a_presigned_url(hook, requests_mock):
    with pytest.raises(ESignValidationError, match="pre-signed URL"):
        hook.send_document(send_request(file="s3://bucket/contract.pdf"))
    assert requests_mock.call_count == 0


# ------------------------------------------------------------------ sending
def test_send_document_posts_the_documented_body(hook, requests_mock, login_mock):
    send = requests_mock.post(SEND_URL, json=SEND_OK)

    doc = hook.send_document(send_request(file="https://www.domain.com/demoimage.png"))

    assert send.call_count == 1
    assert [r.url for r in requests_mock.request_history] == [LOGIN_URL, SEND_URL]
    assert_post(
        send.last_request,
        SEND_URL,
        {
            **AUTH,
            "sign_type": 3,
            "file_list": [{"file_url": "https://www.domain.com/demoimage.png"}],
            "is_for_embedded_signing": 0,
            "signers": [
                {"name": "Jack", "email_address": "jack@demo-mail.com"},
                {"name": "Jill", "email_address": "jill@demo-mail.com"},
            ],
            "mail_data": {
                "mail_subject": "Please Sign the document.",
                "mail_message": "Kindly sign document immediately.",
            },
        },
    )
    assert doc.document_id == GUID
    assert doc.name == "demoimage.png"
    assert doc.status is DocumentStatus.DRAFT
    assert doc.raw_status == "draft"
    assert [(s.email, s.name, s.status) for s in doc.signers] == [
        ("jack@demo-mail.com", "Jack", SignerStatus.PENDING),
        ("jill@demo-mail.com", "Jill", SignerStatus.PENDING),
    ]
    assert doc.raw == SEND_OK["data"]
    assert hook.links(doc) == {
        "signing_link": "https://wesignature.test/sign/1",
        "edit_link": "https://wesignature.test/edit/1",
        "delete_link": "https://wesignature.test/delete/1",
        "download_link": "https://wesignature.test/download/1",
    }


def test_send_document_vendor_options_and_no_mail_data(hook, requests_mock, login_mock):
    send = requests_mock.post(SEND_URL, json=created(signature_type="we-sign"))
    signers = ({"name": "Jack", "email_address": "jack@demo-mail.com"},)

    doc = hook.send_document(
        send_request(
            signers=signers,
            subject=None,
            message=None,
            vendor_options={"sign_type": "1", "is_for_embedded_signing": 2},
        )
    )

    body = send.last_request.json()
    assert body["sign_type"] == 1
    assert body["is_for_embedded_signing"] == 2
    assert body["signers"] == [{"name": "Jack", "email_address": "jack@demo-mail.com"}]
    assert "mail_data" not in body
    assert doc.document_id == "group-new"  # no label check for sign_types other than 3


def test_send_with_wrong_signature_type_fails_loudly(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json=list_body())
    send = requests_mock.post(SEND_URL, json=created(guid="group-odd", signature_type="i-sign"))

    with pytest.raises(ESignBadRequestError) as info:
        hook.send_document(send_request(), idempotency_key="key-1")

    text = str(info.value)
    assert "group-odd" in text and "may have been created" in text and "'i-sign'" in text
    assert send.call_count == 1


def test_send_answer_without_guid_fails(hook, requests_mock, login_mock):
    send = requests_mock.post(SEND_URL, json={"status": "success", "message": "Document Details", "data": {}})
    with pytest.raises(ESignApiError, match=r"no data\.guid"):
        hook.send_document(send_request())
    assert send.call_count == 1


def test_send_error_in_body_is_a_bad_request(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json=list_body())
    send = requests_mock.post(SEND_URL, json={"status": "400", "message": "Parameters missing"})
    with pytest.raises(ESignBadRequestError, match="Parameters missing"):
        hook.send_document(send_request(), idempotency_key="key-1")
    assert send.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [
        {"status_code": 500, "json": {"status": "500", "message": "x"}},
        {"exc": requests.exceptions.ReadTimeout},
    ],
)
def test_send_without_key_is_not_retried(hook, requests_mock, login_mock, failure):
    send = requests_mock.post(SEND_URL, **failure)
    with pytest.raises((ESignServerError, ESignTransportError)):
        hook.send_document(send_request())
    assert send.call_count == 1
    assert calls_to(requests_mock, LIST_URL) == []


def test_dropped_send_is_reconciled_through_the_baseline(hook, requests_mock, login_mock):
    old = list_item("group-old")
    other = list_item("group-other", emails=("someone@example.com",))
    listing = requests_mock.post(
        LIST_URL, [{"json": list_body(old, other)}, {"json": list_body(old, other, list_item("group-new"))}]
    )
    send = requests_mock.post(SEND_URL, exc=requests.exceptions.ReadTimeout)
    checkpoint: dict = {}

    doc = hook.send_document(send_request(), idempotency_key="key-1", checkpoint=checkpoint)

    assert doc.document_id == "group-new"
    assert checkpoint[BASELINE_KEY] == ["group-old"]
    assert send.call_count == 1
    assert listing.call_count == 2
    assert [r.url for r in requests_mock.request_history] == [LOGIN_URL, LIST_URL, SEND_URL, LIST_URL]
    assert_post(listing.request_history[0], LIST_URL, AUTH)


def test_dropped_send_that_created_nothing_is_sent_again(hook, requests_mock, login_mock):
    old = list_item("group-old")
    listing = requests_mock.post(LIST_URL, json=list_body(old))
    send = requests_mock.post(
        SEND_URL, [{"status_code": 502, "text": "bad gateway"}, {"json": created(guid="group-2nd")}]
    )

    doc = hook.send_document(send_request(), idempotency_key="key-1")

    assert doc.document_id == "group-2nd"
    assert send.call_count == 2
    # Baseline, the check after the failure, and (a 502 may still be running behind the gateway)
    # the check after the settle time.
    assert listing.call_count == 3


def test_retried_task_adopts_the_document_not_in_its_baseline(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json=list_body(list_item("group-old"), list_item("group-new")))
    send = requests_mock.post(SEND_URL, json=created())

    doc = hook.send_document(
        send_request(),
        idempotency_key="key-1",
        checkpoint={BASELINE_KEY: ["group-old"]},
        adopt_existing=True,
    )

    assert doc.document_id == "group-new"
    assert send.call_count == 0


def test_retried_task_with_several_new_matches_adopts_the_last(hook, requests_mock, login_mock):
    requests_mock.post(
        LIST_URL, json=list_body(list_item("group-a"), list_item("group-b"), list_item("group-old"))
    )
    doc = hook.send_document(
        send_request(), idempotency_key="k", checkpoint={BASELINE_KEY: ["group-old"]}, adopt_existing=True
    )
    assert doc.document_id == "group-b"


def test_without_baseline_the_last_unfinished_match_is_adopted_with_a_warning(
    hook, requests_mock, login_mock
):
    requests_mock.post(
        LIST_URL,
        json=list_body(
            list_item("group-1", status="draft"),
            list_item("group-2", status="1"),
            list_item("group-3", status="completed"),
            list_item("group-4", status="draft", emails=("other@example.com",)),
            list_item("group-5", name="other.pdf"),
        ),
    )
    send = requests_mock.post(SEND_URL, json=created())
    hook._log = mock.Mock()

    doc = hook.send_document(send_request(), idempotency_key="k", checkpoint={}, adopt_existing=True)

    assert doc.document_id == "group-2"
    assert send.call_count == 0
    assert "No pre-send baseline" in hook._log.warning.call_args.args[0]


def test_without_baseline_only_finished_matches_means_send(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json=list_body(list_item("group-1", status="completed")))
    send = requests_mock.post(SEND_URL, json=created())
    checkpoint: dict = {}

    doc = hook.send_document(send_request(), idempotency_key="k", checkpoint=checkpoint, adopt_existing=True)

    assert doc.document_id == "group-new"
    assert send.call_count == 1
    assert checkpoint[BASELINE_KEY] == ["group-1"]


def test_fingerprint_uses_the_decoded_file_name_and_emails_case_insensitively(
    hook, requests_mock, login_mock
):
    match = list_item("group-x", name="My Contract.PDF", emails=("JACK@demo-mail.com", "jill@demo-mail.com"))
    other_signers = list_item("group-y", name="My Contract.pdf", emails=("jack@demo-mail.com",))
    requests_mock.post(LIST_URL, json=list_body(match, other_signers))
    doc = hook.send_document(
        send_request(file="https://files.example.com/a/My%20Contract.pdf?sig=1"),
        idempotency_key="k",
        checkpoint={BASELINE_KEY: []},
        adopt_existing=True,
    )
    assert doc.document_id == "group-x"


def test_listed_document_without_signers_matches_on_its_name(hook, requests_mock, login_mock):
    unlisted = {**list_item("group-y"), "SignerMails": []}
    requests_mock.post(LIST_URL, json=list_body(unlisted))
    send = requests_mock.post(SEND_URL, json=created())
    checkpoint: dict = {}
    hook.send_document(send_request(), idempotency_key="k", checkpoint=checkpoint)
    assert checkpoint[BASELINE_KEY] == ["group-y"]
    assert send.call_count == 1


# ------------------------------------------------------------------ cancel
def test_cancel_is_unsupported(hook, requests_mock):
    with pytest.raises(ESignUnsupportedError, match="delete_link"):
        hook.cancel_document(GUID)
    assert requests_mock.call_count == 0


# ------------------------------------------------------------------ download
def test_download_uses_the_status_download_link_without_credentials(hook, requests_mock, login_mock):
    link = "https://files.wesignature.test/dl/group-abc123.pdf"
    requests_mock.post(LIST_URL, json=list_body(LIST_ITEM))  # listed as a draft: the status API decides
    requests_mock.post(STATUS_URL, json=status_body("3", ["3"], download_link=link))
    pdf = requests_mock.get(link, content=PDF, headers={"Content-Type": "application/pdf"})
    out = io.BytesIO()

    result = hook.download_document(GUID, out)

    assert out.getvalue() == PDF
    assert result.size == len(PDF)
    assert [r.url for r in requests_mock.request_history] == [LOGIN_URL, LIST_URL, STATUS_URL, link]
    fetch = pdf.last_request
    assert fetch.method == "GET"
    assert "Authorization" not in fetch.headers
    assert fetch.body is None
    assert API_KEY not in fetch.url and USER_ID not in fetch.url


def test_download_source_is_a_plain_link_without_credentials_or_range(hook, requests_mock, login_mock):
    link = "https://files.wesignature.test/dl/group-abc123.pdf"
    requests_mock.post(LIST_URL, json=list_body(LIST_ITEM))  # listed as a draft: the status API decides
    requests_mock.post(STATUS_URL, json=status_body("3", ["3"], download_link=link))
    source = hook.run_flow(hook.download_source_flow(GUID))
    assert (source.url, source.auth, source.supports_range) == (link, False, False)
    assert source.document is not None and source.document.name == LIST_ITEM["document_name"]


def test_download_of_a_listed_completed_document_needs_no_status_call(hook, requests_mock, login_mock):
    item = {**LIST_ITEM, "document_status": "completed", "download_link": "/download/group-abc123"}
    requests_mock.post(LIST_URL, json=list_body(item))
    status = requests_mock.post(STATUS_URL, json=status_body("3", ["3"]))
    link = "https://wesignature.test/download/group-abc123"
    requests_mock.get(link, content=PDF)

    result = hook.download_document(GUID, io.BytesIO())

    assert [r.url for r in requests_mock.request_history] == [LOGIN_URL, LIST_URL, link]
    assert status.call_count == 0
    assert result.document is not None and result.document.name == LIST_ITEM["document_name"]


def test_download_falls_back_to_the_list_link(hook, requests_mock, login_mock):
    requests_mock.post(STATUS_URL, json=status_body("3", ["3"]))
    item = {**LIST_ITEM, "document_status": "completed", "download_link": "/download/group-abc123"}
    listing = requests_mock.post(LIST_URL, json=list_body(item))
    pdf = requests_mock.get("https://wesignature.test/download/group-abc123", content=PDF)

    hook.download_document(GUID, io.BytesIO())

    assert_post(listing.last_request, LIST_URL, {**AUTH, "guid": GUID})
    assert pdf.call_count == 1
    assert "Authorization" not in pdf.last_request.headers


def test_download_html_answer_is_not_ready(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json=list_body(LIST_ITEM))  # listed as a draft: the status API decides
    link = "https://files.wesignature.test/dl/x.pdf"
    requests_mock.post(STATUS_URL, json=status_body("3", ["3"], download_link=link))
    requests_mock.get(link, text="<html>Please log in</html>", headers={"Content-Type": "text/html"})
    with pytest.raises(DocumentNotReadyError):
        hook.download_document(GUID, io.BytesIO())


@pytest.mark.parametrize("document_status", ["1", "draft"])
def test_download_before_completion_is_not_ready(hook, requests_mock, login_mock, document_status):
    requests_mock.post(LIST_URL, json=list_body(LIST_ITEM))  # listed as a draft: the status API decides
    requests_mock.post(
        STATUS_URL, json=status_body(document_status, ["3", "1"], download_link="https://x.test/a")
    )
    with pytest.raises(DocumentNotReadyError, match="completed"):
        hook.download_document(GUID, io.BytesIO())
    assert not [r for r in requests_mock.request_history if r.method == "GET"]


def test_download_without_any_link_is_not_ready(hook, requests_mock, login_mock):
    requests_mock.post(STATUS_URL, json=status_body("3", ["3"]))
    requests_mock.post(LIST_URL, json=list_body({**LIST_ITEM, "download_link": ""}))
    with pytest.raises(DocumentNotReadyError, match="no download_link"):
        hook.download_document(GUID, io.BytesIO())


def test_download_of_a_voided_document_fails(hook, requests_mock, login_mock):
    requests_mock.post(LIST_URL, json=list_body(LIST_ITEM))  # listed as a draft: the status API decides
    requests_mock.post(STATUS_URL, json=status_body("2", ["1"]))
    with pytest.raises(DocumentFailedError, match="VOIDED"):
        hook.download_document(GUID, io.BytesIO())


# ------------------------------------------------------------------ test_connection
def test_test_connection_ok(hook, requests_mock, login_mock):
    listing = requests_mock.post(LIST_URL, json=LIST_OK)
    ok, message = hook.test_connection()
    assert ok is True
    assert message == "Connected to WeSignature: 1 sent document(s)"
    assert login_mock.call_count == 1
    assert_post(listing.last_request, LIST_URL, AUTH)


@pytest.mark.parametrize(
    "login_answer",
    [
        {"json": {"status": "401", "message": "Invalid credentials"}},
        {"status_code": 401, "json": {"status": "401", "message": "Invalid credentials"}},
    ],
)
def test_test_connection_bad_credentials(hook, requests_mock, login_answer):
    login = requests_mock.post(LOGIN_URL, **login_answer)
    listing = requests_mock.post(LIST_URL, json=LIST_OK)

    ok, message = hook.test_connection()

    assert ok is False
    assert "'wes'" in message and "Invalid credentials" in message
    assert PASSWORD not in message
    assert login.call_count == 1
    assert listing.call_count == 0


# ------------------------------------------------------------------ vendor extras
def test_login_extra_returns_only_the_user_id(hook, requests_mock, login_mock):
    assert hook.login() == {"user_id": USER_ID}
    assert hook.login() == {"user_id": USER_ID}
    assert login_mock.call_count == 1
    assert_post(login_mock.last_request, LOGIN_URL, {"email": EMAIL, "password": PASSWORD})


def test_login_extra_with_stored_keys_makes_no_call(keys_conn, make_hook, requests_mock):
    assert make_hook(keys_conn).login() == {"user_id": USER_ID}
    assert requests_mock.call_count == 0


def test_list_sent_documents_returns_raw_items(hook, requests_mock, login_mock):
    listing = requests_mock.post(LIST_URL, json=LIST_OK)
    assert hook.list_sent_documents(GUID) == [LIST_ITEM]
    assert_post(listing.last_request, LIST_URL, {**AUTH, "guid": GUID})


def test_get_status_raw_returns_the_answer(hook, requests_mock, login_mock):
    status = requests_mock.post(STATUS_URL, json=STATUS_OK)
    assert hook.get_status_raw(GUID) == STATUS_OK
    assert_post(status.last_request, STATUS_URL, {**AUTH, "guid": GUID})


def test_get_status_raw_needs_a_guid(hook, requests_mock):
    with pytest.raises(ESignValidationError):
        hook.get_status_raw("")
    assert requests_mock.call_count == 0


# ------------------------------------------------------------------ async
def _async_handler(seen, status_answers):
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/login_api"):
            return httpx.Response(200, json=LOGIN_OK)
        return status_answers.pop(0)

    return handler


async def test_aget_document_logs_in_and_reads_status(hook, monkeypatch):
    seen: list[httpx.Request] = []
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(_async_handler(seen, [httpx.Response(200, json=STATUS_OK)]))
    )
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)

    doc = await hook.aget_document(GUID)

    assert doc.status is DocumentStatus.PARTIALLY_SIGNED
    assert [(r.method, str(r.url)) for r in seen] == [("POST", LOGIN_URL), ("POST", STATUS_URL)]
    assert json.loads(seen[0].content) == {"email": EMAIL, "password": PASSWORD}
    assert json.loads(seen[1].content) == {**AUTH, "guid": GUID}
    assert all(r.headers["Accept"] == "application/json" for r in seen)
    assert all(r.headers["Content-Type"] == "application/json" for r in seen)
    await client.aclose()


async def test_aget_document_relogs_in_once_on_a_body_401(hook, monkeypatch):
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(200, json={"status": "401", "message": "Unauthorised"}),
        httpx.Response(200, json=STATUS_OK),
    ]
    client = httpx.AsyncClient(transport=httpx.MockTransport(_async_handler(seen, answers)))
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)

    doc = await hook.aget_document(GUID)

    assert doc.raw_status == "1"
    assert [r.url.path.rsplit("/", 1)[-1] for r in seen] == [
        "login_api",
        "documentstatusapi",
        "login_api",
        "documentstatusapi",
    ]
    await client.aclose()


def test_web_url_is_the_edit_link_of_the_send():
    from airflow_provider_esign.hooks.wesignature import WeSignatureHook
    from airflow_provider_esign.models import DocumentInfo, DocumentStatus

    document = DocumentInfo(
        "group-1",
        "wesignature",
        "x.pdf",
        DocumentStatus.DRAFT,
        "draft",
        raw={"edit_link": "https://app.example/edit/1", "signing_link": "https://app.example/sign/1"},
    )
    assert WeSignatureHook("unused").web_url(document) == "https://app.example/edit/1"
    bare = DocumentInfo("group-2", "wesignature", None, DocumentStatus.SENT, "1")
    assert WeSignatureHook("unused").web_url(bare) is None


def test_send_says_the_document_name_is_not_sent(hook, requests_mock, login_mock):
    """senddocumentapi has no title field: the document is named after its file, and the log says so."""
    requests_mock.post(SEND_URL, json=SEND_OK)
    hook._log = mock.Mock()
    hook.send_document(send_request(name="Supplier NDA"))
    message, *args = next(c.args for c in hook._log.warning.call_args_list if "no document name" in c.args[0])
    assert message % tuple(args) == (
        "WeSignature's send API takes no document name: the document will be titled after its file "
        "(contract.pdf), not 'Supplier NDA'"
    )
