"""The Contracts page's routes with the auth layer replaced (real Airflow auth: tests/e2e): security
headers everywhere, the login page on 401, the action token in the page, validation and refusals as
JSON, actions only with the token in the Authorization header."""

from __future__ import annotations

import contextlib

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from airflow_provider_esign.contracts import app as app_module
from airflow_provider_esign.contracts import auth
from airflow_provider_esign.contracts.actions import ActionRefused
from airflow_provider_esign.contracts.app import SECURITY_HEADERS, create_app


class FakeServices:
    def __init__(self) -> None:
        self.performed: list = []
        self.actions = self
        self.pages = self

    def perform(self, action, conn_id, document_id, options, user, session):
        self.performed.append((action, conn_id, document_id, options, user))
        if document_id == "refused":
            raise ActionRefused(409, "The WeSignature API offers no way to cancel")
        return {"document_id": document_id, "action": action}

    def build(self, user, filters, dag_ids, session):
        return {"user": user, "sort": filters.sort, "dags": sorted(dag_ids)}


@pytest.fixture
def login(monkeypatch):
    """Who is logged in: a user name, or an HTTP status the auth layer answers with."""
    who: dict = {"user": "ann"}

    async def current_user(request, *, header_only=False):
        if header_only and auth.bearer_token(request) is None:
            raise HTTPException(401, "needs the Authorization header")
        if isinstance(who["user"], int):
            raise HTTPException(
                who["user"], "no", headers={"WWW-Authenticate": "Bearer"} if who["user"] == 401 else None
            )
        return who["user"]

    monkeypatch.setattr(auth, "current_user", current_user)
    monkeypatch.setattr(auth, "require_view", lambda user: None)
    monkeypatch.setattr(auth, "action_token", lambda user: f"jwt-for-{user}")
    monkeypatch.setattr(auth, "readable_dag_ids", lambda user: {"onboarding"})
    monkeypatch.setattr(
        auth, "auth_manager", lambda: type("M", (), {"get_url_login": lambda self: '/auth/login?next="x"'})()
    )
    monkeypatch.setattr(app_module, "_session", contextlib.nullcontext)
    return who


@pytest.fixture
def services():
    return FakeServices()


@pytest.fixture
def client(login, services):
    return TestClient(create_app(services))


def test_the_page_carries_the_action_token_and_the_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'content="jwt-for-ann"' in response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_without_a_login_the_page_links_to_airflows_login_escaped(client, login):
    login["user"] = 401
    response = client.get("/")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert 'href="/auth/login?next=&quot;x&quot;"' in response.text
    assert response.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]


def test_a_user_who_may_not_view_gets_the_forbidden_page(client, login):
    login["user"] = 403
    response = client.get("/")
    assert response.status_code == 403 and "jwt-for" not in response.text


def test_static_files_are_only_the_known_ones(client):
    assert client.get("/static/contracts.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/login.html").status_code == 404


def test_documents_are_built_for_the_user_and_bad_filters_name_the_field(client):
    assert client.get("/api/documents?sort=-name").json() == {
        "user": "ann",
        "sort": "name",
        "dags": ["onboarding"],
    }
    response = client.get("/api/documents?per_page=100000")
    assert response.status_code == 400 and response.json()["field"] == "per_page"


def test_an_action_needs_the_authorization_header_and_a_confirmed_body(client, services):
    assert client.post("/api/documents/esb/d-1/cancel", json={"confirm": True}).status_code == 401
    headers = {"Authorization": "Bearer jwt-for-ann"}
    assert client.post("/api/documents/esb/d-1/cancel", json={}, headers=headers).status_code == 400
    assert (
        client.post("/api/documents/esb/d-1/delete", json={"confirm": True}, headers=headers).status_code
        == 404
    )
    assert services.performed == []
    done = client.post(
        "/api/documents/esb/d-1/cancel", json={"confirm": True, "notify": True}, headers=headers
    )
    assert done.json() == {"document_id": "d-1", "action": "cancel"}
    assert services.performed == [("cancel", "esb", "d-1", {"notify": True}, "ann")]


def test_a_refused_action_is_its_status_and_detail(client):
    response = client.post(
        "/api/documents/wes/refused/cancel", json={"confirm": True}, headers={"Authorization": "Bearer t"}
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "The WeSignature API offers no way to cancel"}
