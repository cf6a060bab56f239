"""Who may use the Contracts page: the bearer token, the header-only rule for actions, and the auth
manager's decisions (a fake auth manager records what it was asked)."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from airflow_provider_esign.contracts import auth


def request(headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""})


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer   abc ", "abc"),
        ("Bearer ", None),
        ("Basic abc", None),
        (None, None),
    ],
)
def test_the_bearer_token(header, token):
    assert auth.bearer_token(request({"Authorization": header} if header else {})) == token


async def test_an_action_without_the_authorization_header_is_401_even_with_the_cookie():
    with pytest.raises(HTTPException) as excinfo:
        await auth.current_user(request({"Cookie": "_token=from-a-cross-site-form"}), header_only=True)
    assert excinfo.value.status_code == 401
    assert excinfo.value.headers == {"WWW-Authenticate": "Bearer"}


class AuthManager:
    def __init__(self, allowed: set[tuple[str, str | None]]) -> None:
        self.allowed = allowed
        self.asked: list = []

    def is_authorized_dag(self, *, method, access_entity, details, user):
        self.asked.append((method, access_entity and access_entity.name, details and details.id, user))
        return (method, access_entity and access_entity.name) in self.allowed

    def get_authorized_dag_ids(self, *, user, method):
        return {"onboarding"}

    def generate_jwt(self, user, expiration_time_in_seconds):
        return f"jwt:{user}:{expiration_time_in_seconds}"


@pytest.fixture
def manager(monkeypatch):
    def use(*allowed):
        fake = AuthManager(set(allowed))
        monkeypatch.setattr(auth, "auth_manager", lambda: fake)
        return fake

    return use


def test_viewing_needs_task_instances_and_xcoms(manager):
    manager(("GET", "TASK_INSTANCE"), ("GET", "XCOM"))
    auth.require_view("ann")
    manager(("GET", "TASK_INSTANCE"))
    with pytest.raises(HTTPException) as excinfo:
        auth.require_view("ann")
    assert excinfo.value.status_code == 403


def test_acting_needs_edit_permission_on_the_dag_that_sent(manager):
    fake = manager(("PUT", None))
    assert auth.may_edit_dag("ann", "onboarding") is True
    assert fake.asked[-1] == ("PUT", None, "onboarding", "ann")
    manager()
    assert auth.may_edit_dag("ann", "onboarding") is False


def test_the_readable_dags_and_a_short_lived_action_token(manager):
    manager()
    assert auth.readable_dag_ids("ann") == {"onboarding"}
    assert auth.action_token("ann") == f"jwt:ann:{auth.ACTION_TOKEN_SECONDS}"
    assert auth.ACTION_TOKEN_SECONDS <= 3600


def test_user_name_never_fails():
    class Named:
        def get_name(self):
            return "Ann"

    assert auth.user_name(Named()) == "Ann"
    assert auth.user_name(object()) == "unknown"
