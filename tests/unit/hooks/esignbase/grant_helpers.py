"""Shared pieces of the eSignBase Authorization Code tests: Redis, Fernet key, connection, consent clicks."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from typing import Any

import requests
from cryptography.fernet import Fernet

FERNET_KEY = Fernet.generate_key().decode()


def use_fernet_key(monkeypatch: Any, key: str = FERNET_KEY) -> None:
    """Airflow's Fernet key for the test. ``get_fernet`` caches its answer: the caller's fixture calls
    :func:`clear_fernet_cache` at teardown too, so later tests see no key again."""
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", key)
    clear_fernet_cache()


def clear_fernet_cache() -> None:
    """Forget the Fernet objects Airflow (Task SDK and core) built from an earlier key."""
    try:
        from airflow.sdk.crypto import get_fernet as sdk_get_fernet

        sdk_get_fernet.cache_clear()
    except ImportError:  # Task SDK < 1.2 has no crypto module
        pass
    from airflow.models import crypto

    if hasattr(crypto.get_fernet, "cache_clear"):
        crypto.get_fernet.cache_clear()
    else:  # Airflow 3.1 keeps it in a module global
        crypto._fernet = None  # type: ignore[attr-defined]


def grant_connection(sandbox_url: str, store_url: str, redirect_uri: str, **extra: Any) -> str:
    """The JSON of an authorization_code connection to the sandbox."""
    from esign_sandbox import credentials

    return json.dumps(
        {
            "conn_type": "esignbase",
            "host": sandbox_url.rstrip("/") + "/esignbase/",
            "login": credentials.ESIGNBASE_CLIENT_ID,
            "password": credentials.ESIGNBASE_CLIENT_SECRET,
            "extra": {
                "grant_type": "authorization_code",
                "refresh_token_store": store_url,
                "redirect_uri": redirect_uri,
                "scopes": "all",
                "sandbox": True,
                "rate_limit_per_minute": 0,
                **extra,
            },
        }
    )


def consent(authorize_url: str, decision: str = "approve") -> requests.Response:
    """What a user's browser does on the consent page, with plain HTTP: load it, press a button,
    follow the redirect to the loopback callback. Returns the callback's answer."""
    with requests.Session() as browser:
        page = browser.get(authorize_url, timeout=30)
        page.raise_for_status()
        ticket = re.search(r"name='consent_token' value='([^']+)'", page.text)
        assert ticket, page.text
        action = urllib.parse.urljoin(authorize_url, "/esignbase/oauth2/authorize")
        answer = browser.post(
            action,
            data={"consent_token": ticket.group(1), "decision": decision},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.text
        return browser.get(answer.headers["location"], timeout=30)


class AuthorizeRun:
    """The authorize command in a thread; ``url`` is the authorize URL it printed."""

    def __init__(self, conn_id: str, timeout: float = 60.0) -> None:
        from airflow_provider_esign import esignbase_auth

        self.lines: list[str] = []
        self.url_ready = threading.Event()
        self.error: BaseException | None = None
        self.generation: int | None = None

        def out(line: str) -> None:
            self.lines.append(line)
            if "oauth2/authorize?" in line:
                self.url_ready.set()

        def target() -> None:
            try:
                self.generation = esignbase_auth.authorize(conn_id, timeout=timeout, out=out)
            except BaseException as exc:  # handed to the test
                self.error = exc
            finally:
                self.url_ready.set()

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        assert self.url_ready.wait(30), "the command printed no URL"
        for line in "\n".join(self.lines).splitlines():
            if "oauth2/authorize?" in line:
                return line.strip()
        raise AssertionError(f"no authorize URL in {self.lines} (error: {self.error!r})")

    def join(self) -> None:
        self.thread.join(60)
        assert not self.thread.is_alive()
