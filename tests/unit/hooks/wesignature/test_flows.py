"""WeSignature's answers: an error code in a 200 body is the error it names (auth, bad request, server error), a stale stored key logs in once."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import (
    ESignAuthError,
    ESignBadRequestError,
    ESignServerError,
)
from airflow_provider_esign.hooks.wesignature import WeSignatureHook

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
