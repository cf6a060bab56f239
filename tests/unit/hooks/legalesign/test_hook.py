"""Unit tests of the Legalesign hook: wire format (URLs, headers, bodies) and response parsing.

Payloads follow the examples of the vendor reference (https://apidocs.legalesign.com/docs/rest-v1/);
no test talks to a vendor host.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from airflow_provider_esign.exceptions import (
    DocumentNotReadyError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignIntegrityError,
    ESignServerError,
    ESignValidationError,
)
from airflow_provider_esign.hooks import hook_class_for
from airflow_provider_esign.hooks.legalesign import LegalesignHook, id_from_uri
from airflow_provider_esign.models import DocumentStatus, SendRequest, Signer, SignerStatus

CONN = "legalesign_test"
HOST = "https://legalesign.test/api/v1"
API = HOST + "/"
AUTH = "ApiKey user:secret"
DOC_ID = "d0d0d0d0-1111-2222-3333-444455556666"
TEMPLATE_ID = "6c0b3d9e-2f4a-4b1c-9a7e-1d2c3b4a5f6e"
SIGNER_0 = "s0s0s0s0-s0s0-s0s0-s0s0-s0s0s0s0s0s0"
SIGNER_1 = "s1s1s1s1-s1s1-s1s1-s1s1-s1s1s1s1s1s1"
TAG = "airflow:dag_supplier_run_2025_01_01"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"

# GET /document/{id}/, as in the reference (https://apidocs.legalesign.com/docs/rest-v1/)
DOCUMENT = {
    "uuid": DOC_ID,
    "resource_uri": f"/api/v1/document/{DOC_ID}/",
    "name": "Supplier agreement 2025-001",
    "group": "/api/v1/group/acme-dev/",
    "user": "/api/v1/user/u0u0u0u0-u0u0-u0u0-u0u0-u0u0u0u0u0u0/",
    "templatepdf": f"/api/v1/templatepdf/{TEMPLATE_ID}/",
    "template": None,
    "text": "",
    "status": 10,
    "archived": False,
    "auto_archive": False,
    "append_pdf": True,
    "append_history": True,
    "do_email": True,
    "download_final": False,
    "hash_value": None,
    "has_fields": True,
    "signature_type": 4,
    "signers_in_order": True,
    "sign_time": None,
    "cc_emails": None,
    "redirect": "",
    "tag": TAG,
    "tag1": "",
    "tag2": "",
    "created": "2025-01-01T09:00:00",
    "modified": "2025-01-01T09:05:12",
    "signers": [
        [f"/api/v1/signer/{SIGNER_0}/", "Joe", "Biggins", "joe.biggins@example.com", "", True, 20, 0],
        [f"/api/v1/signer/{SIGNER_1}/", "Betty", "MacLean", "betty.maclean@example.com", "", True, 4, 1],
    ],
    "signer_objects": [
        {
            "uuid": SIGNER_0,
            "resource_uri": f"/api/v1/signer/{SIGNER_0}/",
            "firstname": "Joe",
            "lastname": "Biggins",
            "email": "joe.biggins@example.com",
            "order": 0,
            "role": "signer",
            "tel": "",
            "status": 20,
        }
    ],
}
# GET /status/{id}/, as in the reference
STATUS = {
    "archived": False,
    "download_final": True,
    "status": 30,
    "resource_uri": f"/api/v1/document/{DOC_ID}/",
    "tag": TAG,
    "tag1": "",
    "tag2": "",
}
# GET /document/ with nosigners=1: one list item, as in the reference
LIST_ITEM = {
    "uuid": DOC_ID,
    "resource_uri": f"/api/v1/document/{DOC_ID}/",
    "name": "Supplier agreement 2025-001",
    "group": "/api/v1/group/acme-dev/",
    "user": "/api/v1/user/u0u0u0u0-u0u0-u0u0-u0u0-u0u0u0u0u0u0/",
    "templatepdf": f"/api/v1/templatepdf/{TEMPLATE_ID}/",
    "template": None,
    "text": None,
    "status": 30,
    "archived": False,
    "auto_archive": False,
    "do_email": True,
    "download_final": True,
    "signers_in_order": 1,
    "return_signer_links": False,
    "cc_emails": None,
    "pdftext": None,
    "redirect": "",
    "tag": TAG,
    "tag1": "",
    "tag2": "",
    "created": "2025-01-01T09:00:00",
    "modified": "2025-01-02T11:42:03",
}


@pytest.fixture
def hook(make_connection, clock):
    make_connection(CONN, "legalesign", host=HOST, login="user", password="secret", group="acme-dev")
    return LegalesignHook(CONN, sleep=clock.sleep, clock=clock)


def doc(**changes):
    data = copy.deepcopy(DOCUMENT)
    data.update(changes)
    return data


def item(uuid, **changes):
    return {**LIST_ITEM, "uuid": uuid, "resource_uri": f"/api/v1/document/{uuid}/", **changes}


def envelope(objects, next_url=None, total=None):
    meta = {
        "limit": 100,
        "offset": 0,
        "total_count": total or len(objects),
        "next": next_url,
        "previous": None,
    }
    return {"meta": meta, "objects": objects}


def send_request(**changes) -> SendRequest:
    values = {
        "name": "Supplier agreement 2025-001",
        "signers": (
            Signer(name="Joe Biggins", email="joe.biggins@example.com"),
            Signer(name="Betty MacLean", email="betty.maclean@example.com"),
        ),
        "template_id": TEMPLATE_ID,
    }
    values.update(changes)
    return SendRequest(**values)


def path_of(req) -> str:
    parts = urlsplit(req.url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def query_of(req) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(req.url).query).items()}


def assert_call(req, method, url, *, query=None, body=None):
    """Method, URL, query, auth/accept headers and (for JSON calls) content type and body."""
    assert req.method == method
    assert path_of(req) == url
    assert query_of(req) == (query or {})
    assert req.headers["Authorization"] == AUTH
    assert req.headers["Accept"] == "application/json"
    if body is None:
        assert req.body is None
    else:
        assert req.headers["Content-Type"] == "application/json"
        assert req.json() == body


# ----------------------------------------------------------------------------------- class and connection
def test_class_attributes_and_registry():
    assert LegalesignHook.conn_type == "legalesign"
    assert LegalesignHook.default_conn_name == "legalesign_default"
    assert LegalesignHook.hook_name == "Legalesign"
    assert LegalesignHook.vendor == "legalesign"
    assert LegalesignHook.default_host == "https://eu-api.legalesign.com/api/v1"
    assert LegalesignHook.default_rate_limit_per_minute == 100
    assert LegalesignHook.supports_reminders is True
    assert LegalesignHook.reauthenticate_on_401 is False
    assert hook_class_for("legalesign") is LegalesignHook


def test_default_host_when_connection_has_none(make_connection, requests_mock, clock):
    make_connection("legalesign_nohost", "legalesign", login="user", password="secret")
    requests_mock.get(f"https://eu-api.legalesign.com/api/v1/document/{DOC_ID}/", json=DOCUMENT)
    hook = LegalesignHook("legalesign_nohost", sleep=clock.sleep, clock=clock)
    assert hook.get_document(DOC_ID).document_id == DOC_ID
    assert requests_mock.last_request.headers["Authorization"] == AUTH


@pytest.mark.parametrize(
    ("extra", "login", "field"),
    [
        ({"group": "Acme-Dev"}, "user", "connection 'legalesign_bad' extra.group"),
        ({"group": "/api/v1/group/acme-dev/"}, "user", "connection 'legalesign_bad' extra.group"),
        ({"group": "acme-dev", "user": "u0u0"}, "user", "connection 'legalesign_bad' extra.user"),
        ({"group": "acme-dev"}, "", "connection 'legalesign_bad'"),
    ],
)
def test_bad_connection_rejected_before_any_call(make_connection, requests_mock, clock, extra, login, field):
    make_connection("legalesign_bad", "legalesign", host=HOST, login=login, password="secret", **extra)
    hook = LegalesignHook("legalesign_bad", sleep=clock.sleep, clock=clock)
    with pytest.raises(ESignValidationError) as err:
        hook.get_document(DOC_ID)
    assert err.value.field == field
    assert requests_mock.call_count == 0


def test_lowercase_hint_in_group_error(make_connection, requests_mock, clock):
    make_connection(
        "legalesign_bad", "legalesign", host=HOST, login="user", password="secret", group="Acme-Dev"
    )
    with pytest.raises(ESignValidationError, match="lowercase: 'acme-dev'"):
        LegalesignHook("legalesign_bad", sleep=clock.sleep, clock=clock).get_document(DOC_ID)


def test_auth_header_masked_once(hook, requests_mock, monkeypatch):
    masked = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda value, name=None: masked.append(value))
    requests_mock.get(API + f"document/{DOC_ID}/", json=DOCUMENT)
    hook.get_document(DOC_ID)
    hook.get_document(DOC_ID)
    assert masked.count(AUTH) == 1  # the connection fetch masks the password itself


# ----------------------------------------------------------------------------------- get_document and parsing
def test_get_document_parses_spec_example(hook, requests_mock):
    requests_mock.get(API + f"document/{DOC_ID}/", json=DOCUMENT)
    info = hook.get_document(DOC_ID)

    assert requests_mock.call_count == 1
    assert_call(requests_mock.last_request, "GET", API + f"document/{DOC_ID}/")
    assert "Content-Type" not in requests_mock.last_request.headers
    assert info.document_id == DOC_ID
    assert info.vendor == "legalesign"
    assert info.name == "Supplier agreement 2025-001"
    assert info.status is DocumentStatus.SENT
    assert info.raw_status == 10
    assert info.downloadable is False
    assert info.created_at == "2025-01-01T09:00:00"
    assert info.modified_at == "2025-01-01T09:05:12"
    assert info.metadata == {"tag": TAG}  # empty tag1/tag2 dropped
    # signer_objects preferred over the arrays (which hold a second signer here)
    assert len(info.signers) == 1
    signer = info.signers[0]
    assert (signer.signer_id, signer.email, signer.name) == (
        SIGNER_0,
        "joe.biggins@example.com",
        "Joe Biggins",
    )
    assert (signer.status, signer.raw_status, signer.role, signer.order) == (
        SignerStatus.VIEWED,
        20,
        "signer",
        0,
    )
    assert info.raw == DOCUMENT


def test_signer_arrays_coerced_when_no_signer_objects(hook):
    raw = doc(
        signer_objects=None,
        status="10",
        signers=[
            [
                f"/api/v1/signers/{SIGNER_0}/",
                "Joe",
                "Biggins",
                "joe.biggins@example.com",
                "",
                "true",
                "40",
                "0",
            ],
            [
                f"/api/v1/signers/{SIGNER_1}/",
                "Betty",
                "MacLean",
                "betty.maclean@example.com",
                "",
                "1",
                "4",
                "1",
            ],
        ],
    )
    info = hook.parse_document(raw)
    assert [s.signer_id for s in info.signers] == [SIGNER_0, SIGNER_1]
    assert [s.raw_status for s in info.signers] == [40, 4]
    assert [s.status for s in info.signers] == [SignerStatus.SIGNED, SignerStatus.PENDING]
    assert [s.order for s in info.signers] == [0, 1]
    assert info.signers[1].name == "Betty MacLean"
    assert info.status is DocumentStatus.PARTIALLY_SIGNED
    assert info.raw_status == 10


def test_list_item_without_signers(hook):
    info = hook.parse_document(LIST_ITEM)
    assert info.signers == []
    assert info.status is DocumentStatus.COMPLETED
    assert info.downloadable is True
    assert info.modified_at == "2025-01-02T11:42:03"


@pytest.mark.parametrize(
    ("status", "signer_codes", "download_final", "expected"),
    [
        (10, [4, 5], False, DocumentStatus.DRAFT),
        (10, [4], False, DocumentStatus.DRAFT),
        (10, [10, 4], False, DocumentStatus.SENT),
        (10, [15, 20, 30, 35, 39], False, DocumentStatus.SENT),
        (10, [40, 10], False, DocumentStatus.PARTIALLY_SIGNED),
        (10, [50, 4], False, DocumentStatus.PARTIALLY_SIGNED),
        (10, [], False, DocumentStatus.SENT),  # list item fetched with nosigners
        (20, [40, 30], False, DocumentStatus.PARTIALLY_SIGNED),
        (30, [40, 40], False, DocumentStatus.SIGNED),
        (30, [40, 50], True, DocumentStatus.COMPLETED),
        (40, [10], False, DocumentStatus.VOIDED),
        (50, [60], False, DocumentStatus.DECLINED),
        (50, [], False, DocumentStatus.DECLINED),
        (10, [40, 60], False, DocumentStatus.DECLINED),
        (20, [60, 10], False, DocumentStatus.DECLINED),
        (99, [10], False, DocumentStatus.SENT),  # unknown: in progress
    ],
)
def test_document_status_mapping(hook, status, signer_codes, download_final, expected):
    signers = [
        [f"/api/v1/signer/s{i}/", "A", "B", f"a{i}@example.com", "", False, code, i]
        for i, code in enumerate(signer_codes)
    ]
    info = hook.parse_document(
        doc(status=status, signer_objects=None, signers=signers, download_final=download_final)
    )
    assert info.status is expected
    assert info.downloadable is (status == 30 and download_final)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (4, SignerStatus.PENDING),
        (5, SignerStatus.PENDING),
        (10, SignerStatus.SENT),
        (15, SignerStatus.VIEWED),
        (20, SignerStatus.VIEWED),
        (30, SignerStatus.VIEWED),
        (35, SignerStatus.VIEWED),
        (39, SignerStatus.VIEWED),
        (40, SignerStatus.SIGNED),
        (50, SignerStatus.SIGNED),
        (60, SignerStatus.DECLINED),
    ],
)
def test_signer_status_mapping(hook, code, expected):
    raw = doc(signer_objects=[{"uuid": "x", "email": "a@example.com", "status": code, "order": 0}])
    assert hook.parse_document(raw).signers[0].status is expected


@pytest.mark.parametrize(
    "location",
    [
        f"https://eu-api.legalesign.com/api/v1/document/{DOC_ID}/",
        f"/api/v1/document/{DOC_ID}/",
        f"/api/v1/document/{DOC_ID}",
        f"api/v1/document/{DOC_ID}/?x=1",
    ],
)
def test_id_from_uri(location):
    assert id_from_uri(location) == DOC_ID


# ----------------------------------------------------------------------------------- listing
def test_list_documents_follows_next_across_three_pages(hook, requests_mock):
    base = API + "document/"
    requests_mock.get(
        base + "?offset=0",
        json=envelope(
            [item("a"), item("b")], "/api/v1/document/?group=acme-dev&limit=2&nosigners=1&offset=2", 5
        ),
    )
    requests_mock.get(
        base + "?offset=2",
        json=envelope(
            [item("c"), item("d")], "/api/v1/document/?group=acme-dev&limit=2&nosigners=1&offset=4", 5
        ),
    )
    requests_mock.get(base + "?offset=4", json=envelope([item("e", status=40)], None, 5))

    docs = list(hook.list_documents(page_size=2, nosigners=True))

    assert [d.document_id for d in docs] == ["a", "b", "c", "d", "e"]
    assert docs[-1].status is DocumentStatus.VOIDED
    history = requests_mock.request_history
    assert len(history) == 3
    assert_call(
        history[0], "GET", base, query={"group": "acme-dev", "limit": "2", "offset": "0", "nosigners": "1"}
    )
    # the relative `next` is joined once: no doubled /api/v1/
    assert (
        history[1].url
        == "https://legalesign.test/api/v1/document/?group=acme-dev&limit=2&nosigners=1&offset=2"
    )
    assert (
        history[2].url
        == "https://legalesign.test/api/v1/document/?group=acme-dev&limit=2&nosigners=1&offset=4"
    )
    assert all(r.headers["Authorization"] == AUTH for r in history)


def test_list_next_rerooted_on_a_proxied_base_url(make_connection, requests_mock, clock):
    make_connection(
        "legalesign_proxy",
        "legalesign",
        host="https://proxy.test/legalesign/api/v1",
        login="user",
        password="secret",
        group="acme-dev",
    )
    hook = LegalesignHook("legalesign_proxy", sleep=clock.sleep, clock=clock)
    base = "https://proxy.test/legalesign/api/v1/document/"
    requests_mock.get(
        base + "?offset=0", json=envelope([item("a")], "/api/v1/document/?group=acme-dev&offset=1")
    )
    # an absolute `next` on another host is re-rooted: the key never leaves the configured host
    requests_mock.get(
        base + "?offset=1",
        json=envelope([item("b")], "https://elsewhere.test/api/v1/document/?group=acme-dev&offset=2"),
    )
    requests_mock.get(base + "?offset=2", json=envelope([item("c")]))

    assert [d.document_id for d in hook.list_documents()] == ["a", "b", "c"]
    urls = [r.url for r in requests_mock.request_history]
    assert urls[1] == base + "?group=acme-dev&offset=1"
    assert urls[2] == base + "?group=acme-dev&offset=2"


def test_list_filters_are_encoded(hook, requests_mock):
    requests_mock.get(API + "document/", json=envelope([]))
    list(
        hook.list_documents(
            group="other-team",
            status=30,
            email="joe.biggins@example.com",
            created_gt=datetime(2025, 1, 1, 10, 0, tzinfo=timezone.utc),
            modified_gt="2025-01-02T03:04:05",
            archived=True,
            page_size=500,
        )
    )
    assert_call(
        requests_mock.last_request,
        "GET",
        API + "document/",
        query={
            "group": "other-team",
            "limit": "100",
            "offset": "0",
            "status": "30",
            "email": "joe.biggins@example.com",
            "created_gt": "2025-01-01T10:00:00",
            "modified_gt": "2025-01-02T03:04:05",
            "archived": "true",
        },
    )


def test_list_group_falls_back_to_uri_after_a_400(hook, requests_mock):
    requests_mock.get(API + "document/?group=acme-dev", status_code=400, json={"group": ["Invalid group"]})
    requests_mock.get(API + "document/?group=/api/v1/group/acme-dev/", json=envelope([item("a")]))

    assert [d.document_id for d in hook.list_documents()] == ["a"]
    assert [query_of(r)["group"] for r in requests_mock.request_history] == [
        "acme-dev",
        "/api/v1/group/acme-dev/",
    ]
    # remembered: the next listing goes straight to the URI form
    list(hook.list_documents())
    assert requests_mock.call_count == 3
    assert query_of(requests_mock.last_request)["group"] == "/api/v1/group/acme-dev/"


def test_list_400_with_both_group_forms_raises(hook, requests_mock):
    requests_mock.get(API + "document/", status_code=400, json={"document": {"status": ["Not a number"]}})
    with pytest.raises(ESignBadRequestError, match=r"document\.status: Not a number"):
        list(hook.list_documents())
    assert requests_mock.call_count == 2


def test_list_rejects_unknown_filter_and_missing_group(make_connection, hook, requests_mock, clock):
    with pytest.raises(ESignValidationError) as err:
        list(hook.list_documents(colour="red"))
    assert err.value.field == "filters['colour']"
    with pytest.raises(ESignValidationError) as err:
        list(hook.list_documents(modified_gt="yesterday"))
    assert err.value.field == "filters['modified_gt']"
    make_connection("legalesign_nogroup", "legalesign", host=HOST, login="user", password="secret")
    with pytest.raises(ESignValidationError) as err:
        list(LegalesignHook("legalesign_nogroup", sleep=clock.sleep, clock=clock).list_documents())
    assert err.value.field == "connection 'legalesign_nogroup' extra.group"
    assert requests_mock.call_count == 0


# ----------------------------------------------------------------------------------- sending
def test_send_from_template_posts_one_document(hook, requests_mock):
    requests_mock.post(
        API + "document/",
        status_code=201,
        headers={"Location": f"https://legalesign.test/api/v1/document/{DOC_ID}/"},
    )
    request = send_request(
        subject="Please sign",
        message="#Supplier",
        expires_at="2099-01-01T00:00:00Z",
        metadata={"tag": TAG},
        vendor_options={"signers_in_order": True, "pdftext": {"Contract ref": "SUP-2025-001"}},
    )

    info = hook.send_document(request, idempotency_key="dag1:send:run1")

    assert requests_mock.call_count == 1  # no upload, no GET after the create
    signer_extra = {"subject": "Please sign", "message": "#Supplier", "expires": "2099-01-01T00:00:00+00:00"}
    assert_call(
        requests_mock.last_request,
        "POST",
        API + "document/",
        body={
            "group": "/api/v1/group/acme-dev/",
            "name": "Supplier agreement 2025-001",
            "templatepdf": f"/api/v1/templatepdf/{TEMPLATE_ID}/",
            "signers": [
                {"firstname": "Joe", "lastname": "Biggins", "email": "joe.biggins@example.com", "order": 0}
                | signer_extra,
                {
                    "firstname": "Betty",
                    "lastname": "MacLean",
                    "email": "betty.maclean@example.com",
                    "order": 1,
                }
                | signer_extra,
            ],
            "do_email": True,
            "signature_type": 4,
            "signers_in_order": True,
            "pdftext": {"Contract ref": "SUP-2025-001"},
            "tag": TAG,
            "tag2": "dag1:send:run1",
        },
    )
    assert info.document_id == DOC_ID
    assert info.status is DocumentStatus.SENT
    assert info.metadata == {"tag": TAG, "tag2": "dag1:send:run1"}
    assert [(s.email, s.order, s.status) for s in info.signers] == [
        ("joe.biggins@example.com", 0, SignerStatus.PENDING),
        ("betty.maclean@example.com", 1, SignerStatus.PENDING),
    ]


@pytest.mark.parametrize(
    "location", [f"https://eu-api.legalesign.com/api/v1/document/{DOC_ID}/", f"/api/v1/document/{DOC_ID}/"]
)
def test_send_reads_id_from_absolute_or_relative_location(hook, requests_mock, location):
    requests_mock.post(API + "document/", status_code=201, headers={"Location": location})
    assert hook.send_document(send_request()).document_id == DOC_ID


def test_send_options_user_and_template_uri(make_connection, requests_mock, clock):
    make_connection(
        "legalesign_user",
        "legalesign",
        host=HOST,
        login="user",
        password="secret",
        group="acme-dev",
        user="/api/v1/user/conn-user/",
    )
    hook = LegalesignHook("legalesign_user", sleep=clock.sleep, clock=clock)
    requests_mock.post(
        API + "document/", status_code=201, headers={"Location": f"/api/v1/document/{DOC_ID}/"}
    )

    hook.send_document(send_request(template_id=f"/api/v1/templatepdf/{TEMPLATE_ID}/"))
    body = requests_mock.last_request.json()
    assert body["user"] == "/api/v1/user/conn-user/"
    assert body["templatepdf"] == f"/api/v1/templatepdf/{TEMPLATE_ID}/"
    assert "text" not in body
    assert "template" not in body

    hook.send_document(
        send_request(vendor_options={"do_email": False, "signature_type": 1, "user": "/api/v1/user/other/"})
    )
    body = requests_mock.last_request.json()
    assert (body["do_email"], body["signature_type"], body["user"]) == (False, 1, "/api/v1/user/other/")


def test_send_orders_signers_by_explicit_order(hook, requests_mock):
    requests_mock.post(
        API + "document/", status_code=201, headers={"Location": f"/api/v1/document/{DOC_ID}/"}
    )
    hook.send_document(
        send_request(
            signers=(
                Signer(name="Joe Biggins", email="joe.biggins@example.com", order=1),
                Signer(name="Betty MacLean", email="betty.maclean@example.com", order=0, role="approver"),
            )
        )
    )
    signers = requests_mock.last_request.json()["signers"]
    assert [(s["email"], s["order"], s.get("role")) for s in signers] == [
        ("betty.maclean@example.com", 0, "approver"),
        ("joe.biggins@example.com", 1, None),
    ]


def test_send_keeps_signer_links_from_the_body(hook, requests_mock):
    links = {"signer_1": "https://app1.legalesign.com/esign/abc"}
    requests_mock.post(
        API + "document/", status_code=201, headers={"Location": f"/api/v1/document/{DOC_ID}/"}, json=links
    )
    info = hook.send_document(send_request(vendor_options={"return_signer_links": True}))
    assert requests_mock.last_request.json()["return_signer_links"] is True
    assert info.raw["signer_links"] == links


def test_send_201_without_location_is_an_error_and_not_resent(hook, requests_mock):
    requests_mock.post(API + "document/", status_code=201)
    with pytest.raises(ESignApiError, match="no Location header") as err:
        hook.send_document(send_request(), idempotency_key="k1")
    assert not isinstance(err.value, (ESignServerError, ESignBadRequestError))
    assert requests_mock.call_count == 1


@pytest.mark.parametrize("as_url", [False, True])
@pytest.mark.parametrize(
    "upload_location", [f"/api/v1/templatepdf/{TEMPLATE_ID}/", f"{API}templatepdf/{TEMPLATE_ID}/"]
)
def test_send_local_file_uploads_first(hook, requests_mock, tmp_path, as_url, upload_location):
    content = PDF + bytes(range(256)) * 4000  # ~1 MB: several read chunks
    path = tmp_path / "contract.pdf"
    path.write_bytes(content)
    requests_mock.post(API + "templatepdf/", status_code=201, headers={"Location": upload_location})
    requests_mock.post(
        API + "document/", status_code=201, headers={"Location": f"/api/v1/document/{DOC_ID}/"}
    )

    file = path.as_uri() if as_url else str(path)
    info = hook.send_document(
        send_request(template_id=None, file=file, vendor_options={"process_tags": True})
    )

    upload, create = requests_mock.request_history
    assert_call(
        upload,
        "POST",
        API + "templatepdf/",
        body={
            "group": "/api/v1/group/acme-dev/",
            "pdf_file": base64.b64encode(content).decode(),
            "title": "Supplier agreement 2025-001",
            "process_tags": True,
        },
    )
    assert create.json()["templatepdf"] == f"/api/v1/templatepdf/{TEMPLATE_ID}/"
    assert "process_tags" not in create.json()
    assert info.document_id == DOC_ID


def test_send_object_storage_url_is_read_with_object_storage_path(hook, requests_mock, monkeypatch):
    opened = []

    class FakePath:
        def __init__(self, url):
            opened.append(url)

        def open(self, mode):
            assert mode == "rb"
            return io.BytesIO(PDF)

    monkeypatch.setattr("airflow.sdk.ObjectStoragePath", FakePath)
    requests_mock.post(
        API + "templatepdf/", status_code=201, headers={"Location": f"/api/v1/templatepdf/{TEMPLATE_ID}/"}
    )
    requests_mock.post(
        API + "document/", status_code=201, headers={"Location": f"/api/v1/document/{DOC_ID}/"}
    )

    hook.send_document(send_request(template_id=None, file="s3://aws_default@bucket/key.pdf"))

    assert opened == ["s3://aws_default@bucket/key.pdf"]
    assert requests_mock.request_history[0].json()["pdf_file"] == base64.b64encode(PDF).decode()


@pytest.mark.parametrize(
    ("content", "rule"), [(b"<html>not a pdf</html>", "not a PDF"), (None, "does not exist")]
)
def test_send_bad_local_file_fails_before_any_call(hook, requests_mock, tmp_path, content, rule):
    path = tmp_path / "contract.pdf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ESignValidationError, match=rule) as err:
        hook.send_document(send_request(template_id=None, file=str(path)))
    assert err.value.field == "file"
    assert requests_mock.call_count == 0


JOE = Signer(name="Joe Biggins", email="joe.biggins@example.com")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "x" * 61}, "name"),
        ({"name": "  "}, "name"),
        ({"signers": ()}, "signers"),
        ({"signers": (Signer(name="Joe", email="joe@example.com"),)}, "signers[0].last_name"),
        ({"signers": (JOE, Signer(name="B@tty MacLean", email="b@example.com"))}, "signers[1].first_name"),
        ({"signers": (Signer(name="Joe Biggins", email="j" * 64 + "@example.com"),)}, "signers[0].email"),
        ({"signers": (Signer(name="Joe Biggins", email="joe@example.com", role="cc"),)}, "signers[0].role"),
        (
            {
                "signers": (
                    Signer(name="Joe Biggins", email="j@example.com", order=0),
                    Signer(name="B M", email="b@example.com"),
                )
            },
            "signers",
        ),
        ({"file": "/tmp/contract.pdf"}, "template_id/file"),
        ({"template_id": "/api/v1/template/abc/"}, "template_id"),
        ({"vendor_options": {"text": "<p>hi</p>"}}, "vendor_options['text']"),
        ({"vendor_options": {"template": "/api/v1/template/abc/"}}, "vendor_options['template']"),
        ({"vendor_options": {"do_email": "yes"}}, "vendor_options['do_email']"),
        ({"vendor_options": {"signature_type": 2}}, "vendor_options['signature_type']"),
        ({"vendor_options": {"redirect": "http://example.com"}}, "vendor_options['redirect']"),
        ({"vendor_options": {"reminders": "weekly"}}, "vendor_options['reminders']"),
        ({"vendor_options": {"user": "someone"}}, "vendor_options['user']"),
        ({"vendor_options": {"tag1": "a<b"}}, "vendor_options['tag1']"),
        ({"vendor_options": {"process_tags": True}}, "vendor_options['process_tags']"),
        ({"metadata": {"tag2": "mine"}}, "metadata['tag2']"),
        ({"metadata": {"ref": "x"}}, "metadata['ref']"),
        ({"metadata": {"tag": "a<b"}}, "metadata['tag']"),
        ({"metadata": {"tag": "a"}, "vendor_options": {"tag": "b"}}, "metadata['tag']"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"subject": "s" * 151}, "subject"),
        ({"message": "Please sign this today"}, "message"),
    ],
)
def test_send_validation_errors_make_no_call(hook, requests_mock, changes, field):
    with pytest.raises(ESignValidationError) as err:
        hook.send_document(send_request(**changes), idempotency_key="k1")
    assert err.value.field == field
    assert requests_mock.call_count == 0


def test_tag2_is_reserved_for_the_idempotency_key(hook, requests_mock):
    with pytest.raises(ESignValidationError, match="reserved for the provider's idempotency key"):
        hook.send_document(send_request(metadata={"tag2": "mine"}))
    assert requests_mock.call_count == 0


def test_free_text_message_error_explains_templates(hook, requests_mock):
    with pytest.raises(ESignValidationError, match="#TemplateName"):
        hook.send_document(send_request(message="Hello"))
    requests_mock.post(
        API + "document/", status_code=201, headers={"Location": f"/api/v1/document/{DOC_ID}/"}
    )
    hook.send_document(send_request(message="default"))
    assert {s["message"] for s in requests_mock.last_request.json()["signers"]} == {"default"}


def test_send_requires_group(make_connection, requests_mock, clock):
    make_connection("legalesign_nogroup", "legalesign", host=HOST, login="user", password="secret")
    hook = LegalesignHook("legalesign_nogroup", sleep=clock.sleep, clock=clock)
    with pytest.raises(ESignValidationError) as err:
        hook.send_document(send_request())
    assert err.value.field == "connection 'legalesign_nogroup' extra.group"
    assert requests_mock.call_count == 0


def test_idempotency_key_must_fit_tag2(hook, requests_mock):
    with pytest.raises(ESignValidationError) as err:
        hook.send_document(send_request(), idempotency_key="run<1>")
    assert err.value.field == "idempotency_key"
    assert requests_mock.call_count == 0


# ----------------------------------------------------------------------------------- errors and retries
def test_400_field_errors_name_the_field(hook, requests_mock):
    requests_mock.post(
        API + "document/", status_code=400, json={"document": {"name": ["This field is required."]}}
    )
    with pytest.raises(ESignBadRequestError) as err:
        hook.send_document(send_request())
    assert err.value.vendor_message == "document.name: This field is required."
    assert "document.name: This field is required." in str(err.value)
    assert requests_mock.call_count == 1


def test_400_on_user_is_a_configuration_error(hook, requests_mock):
    requests_mock.post(
        API + "document/", status_code=400, json={"document": {"user": ["Invalid resource URI"]}}
    )
    with pytest.raises(ESignBadRequestError, match=r"extra\.user") as err:
        hook.send_document(send_request(vendor_options={"user": "/api/v1/user/nobody/"}))
    assert err.value.vendor_message == "document.user: Invalid resource URI"


def test_401_fails_fast_naming_the_connection(hook, requests_mock, clock):
    requests_mock.get(API + f"document/{DOC_ID}/", status_code=401, text="Unauthorized")
    with pytest.raises(ESignAuthError) as err:
        hook.get_document(DOC_ID)
    assert err.value.conn_id == CONN
    assert repr(CONN) in str(err.value)
    assert requests_mock.call_count == 1
    assert clock.sleeps == []


def test_401_on_send_includes_the_body_and_sandbox_hint(hook, requests_mock):
    requests_mock.post(API + "document/", status_code=401, text="Recipient not allowed in sandbox")
    with pytest.raises(ESignAuthError) as err:
        hook.send_document(send_request(), idempotency_key="k1")
    assert "Recipient not allowed in sandbox" in str(err.value)
    assert "sandbox's preset addresses" in str(err.value)
    assert requests_mock.call_count == 1


@pytest.mark.parametrize(("headers", "wait"), [({"Retry-After": "7"}, 7.0), ({}, 60.0)])
def test_429_is_retried_honouring_retry_after(hook, requests_mock, clock, headers, wait):
    requests_mock.get(
        API + f"document/{DOC_ID}/", [{"status_code": 429, "headers": headers}, {"json": DOCUMENT}]
    )
    assert hook.get_document(DOC_ID).document_id == DOC_ID
    assert requests_mock.call_count == 2
    assert clock.sleeps == [wait]


def test_500_on_get_is_retried(hook, requests_mock, clock):
    requests_mock.get(API + f"document/{DOC_ID}/", [{"status_code": 500, "text": "oops"}, {"json": DOCUMENT}])
    assert hook.get_document(DOC_ID).name == "Supplier agreement 2025-001"
    assert requests_mock.call_count == 2
    assert len(clock.sleeps) == 1


def test_500_on_create_with_key_reconciles_and_adopts(hook, requests_mock, clock):
    requests_mock.post(API + "document/", status_code=500, text="oops")
    requests_mock.get(
        API + "document/",
        json=envelope([item("other", tag2="another-key"), item(DOC_ID, status=10, tag2="dag1:send:run1")]),
    )
    checkpoint = {"first_attempt_at": "2025-01-01T09:00:00+00:00"}

    info = hook.send_document(send_request(), idempotency_key="dag1:send:run1", checkpoint=checkpoint)

    assert info.document_id == DOC_ID
    assert info.metadata["tag2"] == "dag1:send:run1"
    methods = [r.method for r in requests_mock.request_history]
    assert methods == ["POST", "GET"]  # the create is not blindly resent
    assert_call(
        requests_mock.last_request,
        "GET",
        API + "document/",
        query={
            "group": "acme-dev",
            "limit": "100",
            "offset": "0",
            "archived": "all",
            "created_gt": "2024-12-31T09:00:00",  # a day of margin: the vendor's time zone is unknown
        },
    )
    assert checkpoint["first_attempt_at"] == "2025-01-01T09:00:00+00:00"


def test_500_on_create_without_key_raises(hook, requests_mock):
    requests_mock.post(API + "document/", status_code=500, text="oops")
    with pytest.raises(ESignServerError):
        hook.send_document(send_request())
    assert [r.method for r in requests_mock.request_history] == ["POST"]


def test_reconciliation_records_first_attempt_and_resends_only_when_not_found(hook, requests_mock):
    requests_mock.post(
        API + "document/",
        [{"status_code": 502}, {"status_code": 201, "headers": {"Location": f"/api/v1/document/{DOC_ID}/"}}],
    )
    requests_mock.get(API + "document/", json=envelope([item("other", tag2="another-key")]))
    checkpoint: dict = {}

    info = hook.send_document(send_request(), idempotency_key="k1", checkpoint=checkpoint)

    assert info.document_id == DOC_ID
    # A 502 may still be running behind the gateway: a second lookup after the settle time.
    assert [r.method for r in requests_mock.request_history] == ["POST", "GET", "GET", "POST"]
    first = datetime.fromisoformat(checkpoint["first_attempt_at"])
    assert first.tzinfo is not None
    expected = (first - timedelta(days=1)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    assert query_of(requests_mock.request_history[1])["created_gt"] == expected


def test_adopt_existing_scans_all_pages_without_a_bound(hook, requests_mock):
    requests_mock.get(
        API + "document/?offset=0", json=envelope([item("a")], "/api/v1/document/?group=acme-dev&offset=100")
    )
    requests_mock.get(API + "document/?offset=100", json=envelope([item(DOC_ID, tag2="k1")]))

    info = hook.send_document(send_request(), idempotency_key="k1", adopt_existing=True)

    assert info.document_id == DOC_ID
    assert [r.method for r in requests_mock.request_history] == ["GET", "GET"]
    assert "created_gt" not in query_of(requests_mock.request_history[0])
    assert query_of(requests_mock.request_history[0])["archived"] == "all"


# ----------------------------------------------------------------------------------- cancel
@pytest.mark.parametrize(("notify", "query"), [(False, {}), (True, {"email": "1"})])
def test_cancel_voids_with_delete(hook, requests_mock, notify, query):
    requests_mock.delete(API + f"document/{DOC_ID}/", status_code=204)
    hook.cancel_document(DOC_ID, notify=notify)
    assert_call(requests_mock.last_request, "DELETE", API + f"document/{DOC_ID}/", query=query)


# ----------------------------------------------------------------------------------- download
def ready_document(hash_value):
    return doc(status=30, download_final=True, hash_value=hash_value)


@pytest.mark.parametrize(
    "hash_value",
    [
        hashlib.sha256(PDF).hexdigest(),
        hashlib.sha256(PDF).hexdigest().upper(),
        base64.b64encode(hashlib.sha256(PDF).digest()).decode(),
    ],
)
def test_download_verifies_the_hash(hook, requests_mock, hash_value):
    requests_mock.get(API + f"document/{DOC_ID}/", json=ready_document(hash_value))
    requests_mock.get(API + f"pdf/{DOC_ID}/", content=PDF, headers={"Content-Type": "application/pdf"})
    out = io.BytesIO()

    result = hook.download_document(DOC_ID, out)

    assert out.getvalue() == PDF
    assert result.size == len(PDF)
    assert result.sha256 == hashlib.sha256(PDF).hexdigest()
    assert "vendor-sha256" in result.verified_against
    pdf_request = requests_mock.last_request
    assert pdf_request.url == API + f"pdf/{DOC_ID}/"
    assert pdf_request.headers["Authorization"] == AUTH
    assert pdf_request.headers["Accept"] == "application/pdf"


def test_download_hash_mismatch_fails(hook, requests_mock):
    requests_mock.get(API + f"document/{DOC_ID}/", json=ready_document(hashlib.sha256(b"other").hexdigest()))
    requests_mock.get(API + f"pdf/{DOC_ID}/", content=PDF, headers={"Content-Type": "application/pdf"})
    with pytest.raises(ESignIntegrityError, match="SHA-256 mismatch"):
        hook.download_document(DOC_ID, io.BytesIO())


def test_download_redirect_drops_the_authorization_header(hook, requests_mock):
    target = "https://files.cdn.test/signed/abc.pdf?sig=xyz"
    requests_mock.get(API + f"document/{DOC_ID}/", json=ready_document(hashlib.sha256(PDF).hexdigest()))
    requests_mock.get(API + f"pdf/{DOC_ID}/", status_code=302, headers={"Location": target})
    requests_mock.get(target, content=PDF, headers={"Content-Type": "application/pdf"})
    out = io.BytesIO()

    hook.download_document(DOC_ID, out)

    assert out.getvalue() == PDF
    pdf_request, redirected = requests_mock.request_history[-2:]
    assert pdf_request.headers["Authorization"] == AUTH
    assert redirected.url == target
    assert "Authorization" not in redirected.headers


@pytest.mark.parametrize("status", [201, 202])
def test_download_not_ready_status(hook, requests_mock, status):
    requests_mock.get(API + f"document/{DOC_ID}/", json=ready_document(None))
    requests_mock.get(API + f"pdf/{DOC_ID}/", status_code=status, text="Being de-archived")
    with pytest.raises(DocumentNotReadyError, match=str(status)):
        hook.download_document(DOC_ID, io.BytesIO())
    assert requests_mock.call_count == 2


def test_download_non_pdf_body_is_not_ready(hook, requests_mock):
    requests_mock.get(API + f"document/{DOC_ID}/", json=ready_document(None))
    requests_mock.get(
        API + f"pdf/{DOC_ID}/", text="<html>processing</html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(DocumentNotReadyError):
        hook.download_document(DOC_ID, io.BytesIO())


@pytest.mark.parametrize(("status", "download_final"), [(30, False), (10, True), (40, False)])
def test_download_refused_until_downloadable(hook, requests_mock, status, download_final):
    requests_mock.get(API + f"document/{DOC_ID}/", json=doc(status=status, download_final=download_final))
    with pytest.raises(DocumentNotReadyError, match=f"status {status}"):
        hook.download_document(DOC_ID, io.BytesIO())
    assert requests_mock.call_count == 1


# ----------------------------------------------------------------------------------- test_connection
def test_test_connection_ok(hook, requests_mock):
    groups = [{"slug": "acme-dev", "name": "Acme Dev", "resource_uri": "/api/v1/group/acme-dev/"}]
    requests_mock.get(API + "group/", json=envelope(groups, total=1))
    ok, message = hook.test_connection()
    assert ok is True
    assert "acme-dev" in message
    assert_call(requests_mock.last_request, "GET", API + "group/", query={"limit": "100"})


def test_test_connection_bad_credentials(hook, requests_mock):
    requests_mock.get(API + "group/", status_code=401, text="Unauthorized")
    ok, message = hook.test_connection()
    assert ok is False
    assert repr(CONN) in message
    assert "HTTP 401" in message
    assert requests_mock.call_count == 1


def test_test_connection_group_not_visible(hook, requests_mock):
    requests_mock.get(API + "group/", json=envelope([{"slug": "other-team"}], total=1))
    ok, message = hook.test_connection()
    assert ok is False
    assert "extra.group" in message
    assert "other-team" in message


# ----------------------------------------------------------------------------------- template PDFs
def test_upload_template_pdf_from_bytes(hook, requests_mock):
    requests_mock.post(
        API + "templatepdf/", status_code=201, headers={"Location": f"{API}templatepdf/{TEMPLATE_ID}/"}
    )
    assert hook.upload_template_pdf(PDF, title="NDA", process_tags=True) == TEMPLATE_ID
    assert_call(
        requests_mock.last_request,
        "POST",
        API + "templatepdf/",
        body={
            "group": "/api/v1/group/acme-dev/",
            "pdf_file": base64.b64encode(PDF).decode(),
            "title": "NDA",
            "process_tags": True,
        },
    )


def test_upload_template_pdf_from_path_titles_it_by_file_name(hook, requests_mock, tmp_path):
    path = tmp_path / "nda.pdf"
    path.write_bytes(PDF)
    requests_mock.post(
        API + "templatepdf/", status_code=201, headers={"Location": f"/api/v1/templatepdf/{TEMPLATE_ID}/"}
    )
    assert hook.upload_template_pdf(path) == TEMPLATE_ID
    body = requests_mock.last_request.json()
    assert body == {
        "group": "/api/v1/group/acme-dev/",
        "pdf_file": base64.b64encode(PDF).decode(),
        "title": "nda.pdf",
    }


def test_upload_template_pdf_errors(hook, requests_mock):
    with pytest.raises(ESignValidationError) as err:
        hook.upload_template_pdf(b"GIF89a")
    assert err.value.field == "path_or_bytes"
    assert requests_mock.call_count == 0
    requests_mock.post(API + "templatepdf/", status_code=201)
    with pytest.raises(ESignApiError, match="no Location header"):
        hook.upload_template_pdf(PDF)


def test_get_template_pdf(hook, requests_mock):
    template = {"uuid": TEMPLATE_ID, "title": "NDA", "valid": True, "page_count": 2}
    requests_mock.get(API + f"templatepdf/{TEMPLATE_ID}/", json=template)
    assert hook.get_template_pdf(TEMPLATE_ID) == template
    assert_call(requests_mock.last_request, "GET", API + f"templatepdf/{TEMPLATE_ID}/")


def test_list_template_pdfs_follows_pages(hook, requests_mock):
    requests_mock.get(
        API + "templatepdf/?offset=0",
        json=envelope(
            [{"uuid": "t1"}], "/api/v1/templatepdf/?group=acme-dev&archive=false&limit=100&offset=100"
        ),
    )
    requests_mock.get(API + "templatepdf/?offset=100", json=envelope([{"uuid": "t2"}]))
    assert [t["uuid"] for t in hook.list_template_pdfs(archived=False)] == ["t1", "t2"]
    first, second = requests_mock.request_history
    assert_call(
        first,
        "GET",
        API + "templatepdf/",
        query={"limit": "100", "offset": "0", "group": "acme-dev", "archive": "false"},
    )
    assert second.url == API + "templatepdf/?group=acme-dev&archive=false&limit=100&offset=100"


@pytest.mark.parametrize("wrap", [False, True])
def test_get_template_pdf_fields(hook, requests_mock, wrap):
    fields = [{"element_type": "admin", "label": "Contract ref", "uuid": "f1", "signer": 0, "page": 1}]
    requests_mock.get(API + f"templatepdf/{TEMPLATE_ID}/fields/", json=envelope(fields) if wrap else fields)
    assert hook.get_template_pdf_fields(TEMPLATE_ID) == fields
    assert_call(requests_mock.last_request, "GET", API + f"templatepdf/{TEMPLATE_ID}/fields/")


# ----------------------------------------------------------------------------------- documents and signers
def test_get_status_reads_a_document_status(hook, requests_mock):
    requests_mock.get(API + f"status/{DOC_ID}/", json=STATUS)
    info = hook.get_status(DOC_ID)
    assert_call(requests_mock.last_request, "GET", API + f"status/{DOC_ID}/")
    assert info.document_id == DOC_ID
    assert info.status is DocumentStatus.COMPLETED
    assert info.downloadable is True
    assert info.metadata == {"tag": TAG}


def reminder_document():
    return doc(
        signer_objects=[
            {"uuid": "signed", "email": "a@example.com", "status": 40, "order": 0},
            {"uuid": "sent", "email": "b@example.com", "status": 10, "order": 1},
            {"uuid": "visited", "email": "c@example.com", "status": 20, "order": 2},
            {"uuid": "unsent", "email": "d@example.com", "status": 4, "order": 3},
        ]
    )


def test_send_reminder_to_every_waiting_signer(hook, requests_mock):
    requests_mock.get(API + f"document/{DOC_ID}/", json=reminder_document())
    requests_mock.post(API + "signer/sent/send-reminder/", status_code=200)
    requests_mock.post(API + "signer/visited/send-reminder/", status_code=200)

    assert hook.send_reminder(DOC_ID, text="Please sign") == ["sent", "visited"]

    get, first, second = requests_mock.request_history
    assert_call(get, "GET", API + f"document/{DOC_ID}/")
    assert_call(first, "POST", API + "signer/sent/send-reminder/", body={"text": "Please sign"})
    assert_call(second, "POST", API + "signer/visited/send-reminder/", body={"text": "Please sign"})


def test_send_reminder_to_one_signer(hook, requests_mock):
    requests_mock.get(API + f"document/{DOC_ID}/", json=reminder_document())
    requests_mock.post(API + "signer/visited/send-reminder/", status_code=200)
    assert hook.send_reminder(DOC_ID, signer_email="C@example.com") == ["visited"]
    assert_call(requests_mock.last_request, "POST", API + "signer/visited/send-reminder/", body={"text": ""})
    assert requests_mock.call_count == 2


def test_send_reminder_401_means_not_sent(hook, requests_mock, clock):
    requests_mock.get(API + f"document/{DOC_ID}/", json=reminder_document())
    requests_mock.post(API + "signer/sent/send-reminder/", status_code=401, text="failed")
    with pytest.raises(ESignBadRequestError, match="failed to send the reminder") as err:
        hook.send_reminder(DOC_ID, signer_email="b@example.com")
    assert not isinstance(err.value, ESignAuthError)
    assert requests_mock.call_count == 2
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("statuses", "reason"),
    [
        ([40, 40], "every signer has signed (2 of 2)"),
        ([40, 4, 4], "nobody is waiting to sign yet: 2 signer(s) not sent the document yet"),
        ([4], "nobody is waiting to sign yet: 1 signer(s) not sent the document yet"),
    ],
)
def test_a_reminder_that_reaches_nobody_says_why(hook, requests_mock, statuses, reason):
    signers = [
        {"uuid": f"s{i}", "email": f"s{i}@example.com", "status": status, "order": i}
        for i, status in enumerate(statuses)
    ]
    requests_mock.get(API + f"document/{DOC_ID}/", json=doc(signer_objects=signers))
    result = hook.remind_signers(DOC_ID)
    assert result.reminded == [] and result.reason is not None and result.reason.startswith(reason)
    assert requests_mock.call_count == 1  # the read only: no reminder call
    assert hook.send_reminder(DOC_ID) == []


@pytest.mark.parametrize(
    ("email", "rule"),
    [("a@example.com", "SIGNED"), ("d@example.com", "PENDING"), ("x@example.com", "not a signer")],
)
def test_send_reminder_refuses_signers_not_waiting(hook, requests_mock, email, rule):
    requests_mock.get(API + f"document/{DOC_ID}/", json=reminder_document())
    with pytest.raises(ESignValidationError, match=rule) as err:
        hook.send_reminder(DOC_ID, signer_email=email)
    assert err.value.field == "signer_email"
    assert requests_mock.call_count == 1


def test_get_signer_rejection_reason(hook, requests_mock):
    requests_mock.get(API + f"signer/{SIGNER_0}/rejection/", json={"status": 60, "reason": "Wrong address"})
    assert hook.get_signer_rejection_reason(SIGNER_0) == "Wrong address"
    assert_call(requests_mock.last_request, "GET", API + f"signer/{SIGNER_0}/rejection/")


def test_download_audit_log(hook, requests_mock):
    requests_mock.get(
        API + f"document/{DOC_ID}/auditlog/", content=PDF, headers={"Content-Type": "application/pdf"}
    )
    out = io.BytesIO()
    result = hook.download_audit_log(DOC_ID, out)
    assert out.getvalue() == PDF
    assert result.sha256 == hashlib.sha256(PDF).hexdigest()
    assert requests_mock.last_request.headers["Authorization"] == AUTH
    assert requests_mock.last_request.headers["Accept"] == "application/pdf"
    requests_mock.get(
        API + f"document/{DOC_ID}/auditlog/", text="not a pdf", headers={"Content-Type": "text/plain"}
    )
    with pytest.raises(ESignIntegrityError):
        hook.download_audit_log(DOC_ID, io.BytesIO())


def test_delete_document_permanently(hook, requests_mock):
    requests_mock.delete(API + f"document/{DOC_ID}/delete/", status_code=204)
    hook.delete_document_permanently(DOC_ID)
    assert_call(requests_mock.last_request, "DELETE", API + f"document/{DOC_ID}/delete/")
    requests_mock.delete(API + f"document/{DOC_ID}/delete/", status_code=200, text="")
    with pytest.raises(ESignBadRequestError, match="did not delete"):
        hook.delete_document_permanently(DOC_ID)


# ----------------------------------------------------------------------------------- groups and webhooks
def test_list_groups(hook, requests_mock):
    requests_mock.get(
        API + "group/?offset=0", json=envelope([{"slug": "acme-dev"}], "/api/v1/group/?limit=100&offset=100")
    )
    requests_mock.get(API + "group/?offset=100", json=envelope([{"slug": "acme-prod"}]))
    assert [g["slug"] for g in hook.list_groups()] == ["acme-dev", "acme-prod"]
    assert_call(
        requests_mock.request_history[0], "GET", API + "group/", query={"limit": "100", "offset": "0"}
    )
    assert requests_mock.request_history[1].url == API + "group/?limit=100&offset=100"


def test_subscribe_webhook(hook, requests_mock):
    requests_mock.post(API + "subscribe/", status_code=201, headers={"Location": "/api/v1/unsubscribe/42/"})
    location = hook.subscribe_webhook(
        "https://hooks.example.com/legalesign", event_filter="document.finalPdfCreated", group="acme-dev"
    )
    assert location == "/api/v1/unsubscribe/42/"
    assert_call(
        requests_mock.last_request,
        "POST",
        API + "subscribe/",
        body={
            "url": "https://hooks.example.com/legalesign",
            "eventFilter": "document.finalPdfCreated",
            "group": "/api/v1/group/acme-dev/",
            "notify": "realtime",
        },
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "ftp://x"}, "url"),
        ({"url": "https://x", "notify": "hourly"}, "notify"),
        ({"url": "https://x", "event_filter": "document.signed"}, "event_filter"),
        ({"url": "https://x", "group": "Acme"}, "group"),
    ],
)
def test_subscribe_webhook_validation(hook, requests_mock, kwargs, field):
    with pytest.raises(ESignValidationError) as err:
        hook.subscribe_webhook(**kwargs)
    assert err.value.field == field
    assert requests_mock.call_count == 0


def test_unsubscribe_webhook(hook, requests_mock):
    requests_mock.post(API + "unsubscribe/", status_code=200)
    hook.unsubscribe_webhook("https://hooks.example.com/legalesign")
    assert_call(
        requests_mock.last_request,
        "POST",
        API + "unsubscribe/",
        body={"url": "https://hooks.example.com/legalesign", "eventFilter": ""},
    )


def test_list_webhooks(hook, requests_mock):
    hooks = [
        {
            "active": True,
            "notify_when": 10,
            "url": "https://hooks.example.com/x",
            "group_id": 1,
            "event_filter": "",
        }
    ]
    requests_mock.get(API + "notifications/", json=hooks)
    assert hook.list_webhooks() == hooks
    assert_call(requests_mock.last_request, "GET", API + "notifications/")


# ----------------------------------------------------------------------------------- async
async def test_aget_document_over_httpx(hook, monkeypatch):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=doc(status=30, download_final=True))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)
    try:
        info = await hook.aget_document(DOC_ID)
    finally:
        await client.aclose()

    assert info.status is DocumentStatus.COMPLETED
    assert info.downloadable is True
    assert len(seen) == 1
    assert seen[0].method == "GET"
    assert str(seen[0].url) == API + f"document/{DOC_ID}/"
    assert seen[0].headers["Authorization"] == AUTH
    assert seen[0].headers["Accept"] == "application/json"
    assert json.loads(seen[0].content or b"null") is None
