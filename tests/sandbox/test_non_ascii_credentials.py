"""A credential with non-ASCII characters is refused like any wrong one, never a 500 (the sandbox compares
secrets as bytes: ``compare_digest`` raises on a non-ASCII ``str``)."""

from __future__ import annotations

import json

import requests

from esign_sandbox import Sandbox


def test_wesignature_login_with_a_non_ascii_password_is_refused(sb: Sandbox) -> None:
    body = {"email": sb.config()["wesignature_email"], "password": "pässwörd"}
    response = requests.post(
        f"{sb.vendor_url('wesignature')}/login_api",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 401 and response.json() == {"status": "401", "message": "Unauthorised"}


def test_legalesign_with_a_non_ascii_api_key_is_401(sb: Sandbox) -> None:
    response = requests.get(
        f"{sb.vendor_url('legalesign')}/document/",
        headers={"Authorization": "ApiKey user:s\u00e9cret".encode("latin-1")},
        timeout=10,
    )
    assert response.status_code == 401
