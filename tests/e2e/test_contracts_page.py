"""The Contracts page's app with FastAPI's test client: real DAG runs, the real sandbox, Airflow's auth.

Two DAG runs send 3 Legalesign and 2 eSignBase documents (``tests/dags/esign_contracts_page.py``) into
the session's metadata DB; the app reads them back from Airflow's XCom table and the sandbox. Users
are Airflow JWTs from the simple auth manager (roles viewer / user / none) plus one user restricted to
one DAG, through a small subclass that scopes per DAG the way a real auth manager can.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from airflow_provider_esign.contracts.app import Services, create_app
from airflow_provider_esign.contracts.status import StatusCache
from tests.dags.esign_contracts_page import XSS_NAME
from tests.e2e.conftest import (
    airflow_31_fernet_workaround,
    clear_contract_records,
    leave_task_context,
    run_dag,
)

try:
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
except ImportError:  # pragma: no cover
    SimpleAuthManager = object  # type: ignore[misc,assignment]

REFRESH = 60.0
LEGAL, BASE = "contracts_legalesign", "contracts_esignbase"


class ScopedAuthManager(SimpleAuthManager):  # type: ignore[misc,valid-type]
    """The simple auth manager, except that ``clerk`` may only read and edit the Legalesign DAG."""

    def is_authorized_dag(self, *, method, user, access_entity=None, details=None):
        if user.username == "clerk" and details is not None and details.id not in (None, LEGAL):
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def env(esign_sandbox, airflow_db):
    """Both DAGs run once against the sandbox (which does not sign on its own), tokens for each user."""
    esign_sandbox.reset(config=True)
    esign_sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in esign_sandbox.airflow_connections(rate_limit_per_minute=0).items():
            mp.setenv(name, value)
        airflow_31_fernet_workaround(mp)
        mp.setenv("AIRFLOW__CORE__AUTH_MANAGER", f"{__name__}.ScopedAuthManager")
        mp.setenv(
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "contracts-page-test-secret-0123456789-0123456789-0123456789-0123",
        )
        from airflow.api_fastapi.app import init_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        manager = init_auth_manager()
        assert isinstance(manager, ScopedAuthManager)
        clear_contract_records()
        for dag_id in (LEGAL, BASE):
            assert run_dag(dag_id).state == "success"
        leave_task_context()
        tokens = {
            name: manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role))
            for name, role in [("viewer", "viewer"), ("editor", "user"), ("nobody", None), ("clerk", "user")]
        }
        yield esign_sandbox, tokens


@pytest.fixture
def page(env):
    """A fresh app (empty status cache, injected clocks) per test."""
    sandbox, tokens = env
    clock = Clock()
    cache = StatusCache(refresh_seconds=REFRESH, wait_seconds=60, clock=clock)
    client = TestClient(create_app(Services(cache=cache)))
    return client, sandbox, tokens, cache, clock


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def vendor_calls(sandbox, since: int, vendor: str | None = None) -> list[dict]:
    return [r for r in sandbox.requests(vendor=vendor, since_seq=since) if "token" not in r["path"]]


def last_seq(sandbox) -> int:
    entries = sandbox.requests(limit=1)
    return entries[-1]["seq"] if entries else 0


def rows(client, token, **params) -> dict:
    response = client.get("/api/documents", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def by_name(data: dict) -> dict[str, dict]:
    return {row["name"]: row for row in data["rows"]}


# ------------------------------------------------------------------------------------------ auth
ROUTES = ["/", "/api/documents", "/api/token", "/static/contracts.js", "/static/contracts.css"]
ACTION = "/api/documents/legalesign_default/{}/cancel"


def test_anonymous_requests_get_401_on_every_route(page):
    client, sandbox, _, _, _ = page
    since = last_seq(sandbox)
    for route in ROUTES:
        response = client.get(route)
        assert response.status_code == 401, route
        assert response.headers["www-authenticate"] == "Bearer"
    html = client.get("/")
    assert html.headers["content-type"].startswith("text/html") and "Log in to Airflow" in html.text
    assert client.post(ACTION.format("x"), json={"confirm": True}).status_code == 401
    assert vendor_calls(sandbox, since) == []


def test_a_user_without_read_access_gets_403_on_every_route(page):
    client, sandbox, tokens, _, _ = page
    since = last_seq(sandbox)
    for route in ROUTES:
        assert client.get(route, headers=bearer(tokens["nobody"])).status_code == 403, route
        assert client.get(route, cookies={"_token": tokens["nobody"]}).status_code == 403, route
    response = client.post(ACTION.format("x"), json={"confirm": True}, headers=bearer(tokens["nobody"]))
    assert response.status_code == 403
    assert vendor_calls(sandbox, since) == []


def test_an_expired_token_is_401(page):
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    client = page[0]
    user = SimpleAuthManagerUser(username="editor", role="user")
    expired = get_auth_manager().generate_jwt(user, expiration_time_in_seconds=-60)
    assert client.get("/api/documents", headers=bearer(expired)).status_code == 401
    assert client.get("/", cookies={"_token": expired}).status_code == 401


def test_an_invalid_token_is_refused(page):
    client, _, tokens, _, _ = page
    forged = tokens["editor"][:-4] + ("AAAA" if not tokens["editor"].endswith("AAAA") else "BBBB")
    assert client.get("/api/documents", headers=bearer(forged)).status_code in (401, 403)
    assert client.get("/", cookies={"_token": forged}).status_code in (401, 403)


@pytest.mark.parametrize("how", ["header", "cookie"])
def test_a_viewer_sees_every_document_with_the_token_in_header_or_cookie(page, how):
    client, _, tokens, _, _ = page
    if how == "header":
        response = client.get("/api/documents", headers=bearer(tokens["viewer"]))
    else:
        response = client.get("/api/documents", cookies={"_token": tokens["viewer"]})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["total"] == 5 and data["counts"]["in_flight"] == 5
    docs = by_name(data)
    assert set(docs) == {"MSA - Acme", XSS_NAME, "NDA - Initech", "NDA - Umbrella", "NDA - Hooli"}
    acme = docs["MSA - Acme"]
    assert acme["conn_id"] == "legalesign_default" and acme["dag_id"] == LEGAL and acme["task_id"] == "send"
    assert acme["status"] == "SENT" and acme["status_source"] == "vendor"
    assert [(s["email"], s["signed"]) for s in acme["signers"]] == [
        ("ada@acme.example", False),
        ("alan@acme.example", False),
    ]
    assert acme["expires_at"] == "2027-03-31T00:00:00+00:00"
    assert (
        acme["links"]["run"] == f"/dags/{LEGAL}/runs/{acme['run_id'].replace(':', '%3A').replace('+', '%2B')}"
    )
    assert acme["links"]["task"].endswith(f"/tasks/send/mapped/{acme['map_index']}")
    # A viewer may look, not act.
    assert all(row["actions"] == {"remind": False, "cancel": False, "allowed": False} for row in data["rows"])
    page_html = client.get("/", headers=bearer(tokens["viewer"]))
    assert page_html.status_code == 200 and 'name="esign-action-token"' in page_html.text


def test_rows_are_limited_to_the_dags_the_user_may_read(page):
    client, _, tokens, _, _ = page
    data = rows(client, tokens["clerk"])
    assert {row["dag_id"] for row in data["rows"]} == {LEGAL}
    assert data["total"] == 3 and data["counts"]["total"] == 3
    assert [c["conn_id"] for c in data["connections"]] == ["legalesign_default"]


def test_an_editor_may_act_where_the_vendor_allows(page):
    client, _, tokens, _, _ = page
    docs = by_name(rows(client, tokens["editor"]))
    assert docs["MSA - Acme"]["actions"] == {"remind": True, "cancel": True, "allowed": True}
    # eSignBase's API has no reminders; it deletes (cancels) documents.
    assert docs["NDA - Hooli"]["actions"] == {"remind": False, "cancel": True, "allowed": True}


# ------------------------------------------------------------------------------------------ filters
def test_filters_sorting_and_paging(page):
    client, sandbox, tokens, _, clock = page
    token = tokens["viewer"]
    assert {r["conn_id"] for r in rows(client, token, conn_id="esignbase_default")["rows"]} == {
        "esignbase_default"
    }
    assert set(by_name(rows(client, token, q="ACME.example"))) == {"MSA - Acme"}  # signer email, any case
    assert set(by_name(rows(client, token, q="nda -"))) == {"NDA - Initech", "NDA - Umbrella", "NDA - Hooli"}
    assert set(by_name(rows(client, token, q="100%_"))) == set()  # wildcards are literal
    assert rows(client, token, older_than_days="1")["total"] == 0
    assert rows(client, token, older_than_days="0")["total"] == 5
    names = [r["name"] for r in rows(client, token, sort="name")["rows"]]
    assert names == sorted(names, key=str.lower)
    first, second = (
        rows(client, token, sort="name", per_page="2"),
        rows(client, token, sort="name", per_page="2", page="2"),
    )
    assert first["total"] == second["total"] == 5
    assert [r["name"] for r in first["rows"] + second["rows"]] == names[:4]

    # Status comes from the vendor: sign one document at the sandbox, read again after the interval.
    hooli = by_name(rows(client, token))["NDA - Hooli"]
    sandbox.sign("esignbase", hooli["document_id"])
    assert rows(client, token, status="COMPLETED")["total"] == 0  # within the interval: last known state
    clock.now += REFRESH
    done = rows(client, token, status="COMPLETED")
    assert [r["name"] for r in done["rows"]] == ["NDA - Hooli"] and done["rows"][0]["signers"][0]["signed"]
    assert done["counts"] == {"in_flight": 4, "signed_today": 1, "failed_this_week": 0, "total": 5}
    assert rows(client, token, status="in_flight")["total"] == 4
    # A status filter beside filters the database answers.
    assert [r["name"] for r in rows(client, token, status="COMPLETED", q="HOOLI")["rows"]] == ["NDA - Hooli"]
    assert rows(client, token, status="COMPLETED", conn_id="legalesign_default")["total"] == 0
    legal = [r["name"] for r in rows(client, token, conn_id="legalesign_default", sort="-name")["rows"]]
    assert legal == sorted(legal, key=str.lower, reverse=True) and len(legal) == 3
    by_status = [r["status"] for r in rows(client, token, sort="-status")["rows"]]
    assert by_status[0] == "COMPLETED" and set(by_status[1:]) == {"SENT"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "ALMOST"}, "status"),
        ({"sort": "colour"}, "sort"),
        ({"per_page": "5000"}, "per_page"),
        ({"older_than_days": "soon"}, "older_than_days"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(page, params, field):
    client, _, tokens, _, _ = page
    response = client.get("/api/documents", params=params, headers=bearer(tokens["viewer"]))
    assert response.status_code == 400
    assert response.json()["field"] == field and field in response.json()["detail"]


# ------------------------------------------------------------------------------------------ escaping
def test_vendor_strings_are_data_never_markup(page):
    client, _, tokens, _, _ = page
    data = client.get("/api/documents", params={"q": "onerror"}, headers=bearer(tokens["viewer"]))
    assert data.headers["content-type"] == "application/json"
    assert data.headers["x-content-type-options"] == "nosniff"
    assert [r["name"] for r in data.json()["rows"]] == [XSS_NAME]  # returned as the string it is
    html = client.get("/", headers=bearer(tokens["viewer"]))
    assert "onerror" not in html.text and "<img" not in html.text  # the HTML never holds vendor data
    csp = html.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp  # an injected handler could not run
    script = client.get("/static/contracts.js", headers=bearer(tokens["viewer"])).text
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "textContent" in script


def test_only_http_links_are_kept():
    from airflow_provider_esign.contracts.view import safe_url

    assert safe_url("https://app.wesignature.example/doc/1") == "https://app.wesignature.example/doc/1"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,<b>x</b>") is None
    assert safe_url("//evil.example/x") is None


# ------------------------------------------------------------------------------------------ cost
def test_page_views_within_the_interval_cost_one_batch_read_per_connection(page):
    client, sandbox, tokens, cache, clock = page
    since = last_seq(sandbox)
    rows(client, tokens["viewer"])
    first = {v: len(vendor_calls(sandbox, since, v)) for v in ("legalesign", "esignbase")}
    assert first["legalesign"] >= 1 and first["esignbase"] >= 1
    assert cache.reads("legalesign_default") == cache.reads("esignbase_default") == 1
    warm = last_seq(sandbox)
    for view in range(10):  # other users, filters, pages, the page itself: all from the cache
        rows(client, tokens["viewer" if view % 2 else "editor"], page=str(1 + view % 2), per_page="2")
        client.get("/", cookies={"_token": tokens["viewer"]})
    assert vendor_calls(sandbox, warm) == []
    assert cache.reads("legalesign_default") == cache.reads("esignbase_default") == 1
    clock.now += REFRESH  # the interval passed: one more batch read per connection
    rows(client, tokens["viewer"])
    rows(client, tokens["viewer"])
    assert cache.reads("legalesign_default") == cache.reads("esignbase_default") == 2
    again = {v: len(vendor_calls(sandbox, warm, v)) for v in ("legalesign", "esignbase")}
    assert again == first  # the same batch read, not one call per row or per view


def test_a_vendor_that_is_down_shows_the_last_known_state_with_its_age(page):
    client, sandbox, tokens, _, clock = page
    before = by_name(rows(client, tokens["viewer"]))
    sandbox.set_faults(1.0, kinds=["503"], vendors=["legalesign"])
    try:
        clock.now += REFRESH + 30
        data = rows(client, tokens["viewer"])
    finally:
        sandbox.clear_faults()
    legal = next(c for c in data["connections"] if c["conn_id"] == "legalesign_default")
    assert legal["error"] and legal["age_seconds"] >= REFRESH + 30
    fresh = next(c for c in data["connections"] if c["conn_id"] == "esignbase_default")
    assert fresh["error"] is None and fresh["age_seconds"] == 0
    after = by_name(data)
    assert after["MSA - Acme"]["status"] == before["MSA - Acme"]["status"] == "SENT"
    assert after["MSA - Acme"]["status_source"] == "vendor"


# ------------------------------------------------------------------------------------------ actions
def audit_events(event: str) -> list:
    from airflow.models.log import Log
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows_ = session.scalars(select(Log).where(Log.event == event)).all()
        return [(r.owner, r.dag_id, r.task_id, r.run_id, json.loads(r.extra)) for r in rows_]


def test_an_editor_reminds_the_signers_and_it_is_audited(page):
    client, sandbox, tokens, _, _ = page
    acme = by_name(rows(client, tokens["editor"]))["MSA - Acme"]
    since = last_seq(sandbox)
    response = client.post(
        f"/api/documents/legalesign_default/{acme['document_id']}/remind",
        json={"confirm": True},
        headers=bearer(tokens["editor"]),
    )
    assert response.status_code == 200, response.text
    assert response.json()["reminded"] == 2
    reminders = [r for r in vendor_calls(sandbox, since, "legalesign") if "send-reminder" in r["path"]]
    assert len(reminders) == 2
    owner, dag_id, task_id, run_id, extra = audit_events("esign_contracts_remind")[-1]
    assert (owner, dag_id, task_id, run_id) == ("editor", LEGAL, "send", acme["run_id"])
    assert extra["document_id"] == acme["document_id"] and extra["conn_id"] == "legalesign_default"


def test_refused_cancels_change_nothing_at_the_vendor(page):
    client, sandbox, tokens, _, _ = page
    docs = by_name(rows(client, tokens["editor"]))
    umbrella = docs["NDA - Umbrella"]["document_id"]
    url = f"/api/documents/esignbase_default/{umbrella}/cancel"
    audited = len(audit_events("esign_contracts_cancel"))
    since = last_seq(sandbox)
    # The session cookie alone is not enough for a change (a cross-site form would send it).
    assert client.post(url, json={"confirm": True}, cookies={"_token": tokens["editor"]}).status_code == 401
    # A viewer may not cancel; a user who may not edit (nor read) the sending DAG neither.
    assert client.post(url, json={"confirm": True}, headers=bearer(tokens["viewer"])).status_code == 403
    assert client.post(url, json={"confirm": True}, headers=bearer(tokens["clerk"])).status_code == 403
    # No confirmation, no action; an unknown document is not looked up at the vendor.
    assert client.post(url, json={}, headers=bearer(tokens["editor"])).status_code == 400
    missing = client.post(
        "/api/documents/esignbase_default/not-sent-by-airflow/cancel",
        json={"confirm": True},
        headers=bearer(tokens["editor"]),
    )
    assert missing.status_code == 404
    # eSignBase has no reminder API: refused before any call.
    remind = url.replace("/cancel", "/remind")
    assert client.post(remind, json={"confirm": True}, headers=bearer(tokens["editor"])).status_code == 409
    assert vendor_calls(sandbox, since) == []
    assert sandbox.document("esignbase", umbrella)["status"] == "SENT"
    assert len(audit_events("esign_contracts_cancel")) == audited


def test_an_editor_cancels_and_the_row_shows_it(page):
    client, sandbox, tokens, _, _ = page
    initech = by_name(rows(client, tokens["editor"]))["NDA - Initech"]["document_id"]
    response = client.post(
        f"/api/documents/legalesign_default/{initech}/cancel",
        json={"confirm": True},
        headers=bearer(tokens["editor"]),
    )
    assert response.status_code == 200, response.text
    assert sandbox.document("legalesign", initech)["status"] == 40  # Legalesign: void
    row = by_name(rows(client, tokens["viewer"]))["NDA - Initech"]
    assert row["status"] == "VOIDED" and row["actions"]["cancel"] is False
    assert audit_events("esign_contracts_cancel")[-1][0] == "editor"


def test_an_action_on_a_connection_that_cannot_be_used_is_audited_as_failed(page, monkeypatch):
    """The connection was deleted (or broken) after the send: a clear 502, audited as a failure, no call."""
    _, sandbox, tokens, _, _ = page
    acme = by_name(rows(page[0], tokens["editor"]))["MSA - Acme"]["document_id"]
    monkeypatch.delenv("AIRFLOW_CONN_LEGALESIGN_DEFAULT", raising=False)

    def no_connection(conn_id):
        raise RuntimeError(f"The conn_id `{conn_id}` isn't defined")

    client = TestClient(create_app(Services(cache=page[3], get_hook=no_connection)))
    since = last_seq(sandbox)
    response = client.post(
        f"/api/documents/legalesign_default/{acme}/remind",
        json={"confirm": True},
        headers=bearer(tokens["editor"]),
    )
    assert response.status_code == 502 and "legalesign_default" in response.json()["detail"]
    assert audit_events("esign_contracts_remind_failed")[-1][4]["document_id"] == acme
    assert vendor_calls(sandbox, since) == []
