"""Commands for an eSignBase Authorization Code grant: get the first refresh token, revoke it, show it.

``python -m airflow_provider_esign.esignbase_auth authorize --conn-id esignbase_acme`` prints the
eSignBase authorize URL, listens on the connection's loopback redirect URI (extra ``redirect_uri``,
default ``http://127.0.0.1:8765/callback``, registered on the OAuth2 client), checks the returned
``state``, exchanges the code (with the same ``redirect_uri``, as https://esignbase.com/en/api_documentation
requires) and stores the refresh token in the connection's grant store. ``revoke`` sends the refresh
token to ``POST /oauth2/revoke`` and marks the stored grant revoked; ``status`` shows the grant without
its tokens. On Airflow 3.2+ the same commands are ``airflow esign esignbase-authorize|revoke|status``.

Nothing prints or logs a token or a code.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import secrets
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from airflow_provider_esign.exceptions import ESignError, ESignValidationError
from airflow_provider_esign.hooks.esignbase import grant_store, grants, wire

# Literal loopback addresses only: RFC 8252 §8.3 advises against ``localhost``, which may resolve to
# another interface (or be redefined), so the redirect could reach a listener that is not this command.
_LOOPBACK_HOSTS = ("127.0.0.1", "::1")


class AuthorizationFailed(ESignError):
    """The user denied access, the callback was forged, or the code exchange failed: nothing stored."""


def _settings(conn_id: str) -> Any:
    from airflow_provider_esign.hooks.esignbase.hook import ESignBaseHook

    settings = ESignBaseHook(conn_id).settings
    if grants.grant_type(settings) != grants.AUTHORIZATION_CODE:
        raise ESignValidationError(
            f"connection {conn_id!r} extra.grant_type", "must be authorization_code for this command"
        )
    return settings


def redirect_target(settings: Any) -> tuple[str, str, int, str]:
    """``(redirect_uri, host, port, path)``: a plain-http loopback URI (RFC 8252 §7.3), else an error."""
    uri = str(settings.extra.get("redirect_uri") or grants.DEFAULT_REDIRECT_URI)
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK_HOSTS or not parts.port:
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra.redirect_uri",
            "must be http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path> (a literal loopback address, "
            "not localhost: RFC 8252 §8.3, with a port) for the authorize command",
        )
    return uri, parts.hostname or "127.0.0.1", parts.port, parts.path or "/"


def authorize_url(settings: Any, redirect_uri: str, state: str) -> str:
    query = urllib.parse.urlencode(
        {
            "client_id": settings.login,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(wire.scopes(settings)),
            "state": state,
        },
        quote_via=urllib.parse.quote,
    )
    return urllib.parse.urljoin(settings.base_url, "oauth2/authorize") + "?" + query


class _IPv6Server(http.server.HTTPServer):
    address_family = socket.AF_INET6


class _Callback:
    """The one redirect the command waits for, captured by a loopback HTTP server."""

    def __init__(self, host: str, port: int, path: str, expected_state: str) -> None:
        self.path = path
        self.expected_state = expected_state
        self.result: dict[str, str] | None = None
        self.error: str | None = None
        self.refused = 0  # callbacks with a wrong state (ignored)
        self.done = threading.Event()
        callback = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, message = callback.handle(self.path)
                body = (
                    "<!doctype html><html><head><meta charset='utf-8'><title>eSignBase authorization</title>"
                    f"</head><body><h1 id='result'>{message}</h1></body></html>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: no access log
                return

        address = host.strip("[]")
        server_class = _IPv6Server if ":" in address else http.server.HTTPServer
        self.server = server_class((address, port), Handler)

    def handle(self, raw_path: str) -> tuple[int, str]:
        parts = urllib.parse.urlsplit(raw_path)
        if parts.path != self.path:
            return 404, "Not the eSignBase redirect URI."
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        if self.done.is_set():
            return 409, "This authorization already finished; start the command again."
        # As bytes: compare_digest raises TypeError on a str with non-ASCII characters.
        if not secrets.compare_digest(query.get("state", "").encode(), self.expected_state.encode()):
            # A forged or stale request (anyone who can reach the loopback port can send one): refused,
            # and the command keeps waiting for the real redirect, so a stranger cannot abort it.
            self.refused += 1
            return 400, "Authorization refused: state mismatch. Nothing was stored."
        if "error" in query:
            description = query.get("error_description", "")
            self.error = (
                f"eSignBase returned error={query['error']!r} {description}".strip() + "; nothing was stored"
            )
            self.done.set()
            return 400, "Authorization was not granted. Nothing was stored."
        if not query.get("code"):
            self.error = "the redirect carried no code; nothing was stored"
            self.done.set()
            return 400, "Authorization failed: no code."
        self.result = query
        self.done.set()
        return 200, "Authorization received. You can close this window."

    def serve(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="esignbase-callback", daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def exchange_code(settings: Any, code: str, redirect_uri: str) -> dict[str, Any]:
    """``POST /oauth2/token`` with ``grant_type=authorization_code`` and the exact ``redirect_uri``."""
    import requests

    response = requests.post(
        urllib.parse.urljoin(settings.base_url, "oauth2/token"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        headers={"Authorization": wire.basic_auth(settings), "Accept": "application/json"},
        timeout=(10, 60),
        allow_redirects=False,
    )
    body: Any = {}
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            body = response.json()
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise AuthorizationFailed(
            f"eSignBase answered the code exchange ({response.status_code}) with a body that is not a JSON "
            "object (RFC 6749 §5.1 requires one); nothing was stored"
        )
    if response.status_code != 200 or not body.get("refresh_token") or not body.get("access_token"):
        raise AuthorizationFailed(
            f"eSignBase refused the code exchange ({response.status_code} {body.get('error', '')}); "
            "nothing was stored"
        )
    return dict(body)


@contextlib.contextmanager
def _locked(grant: grants.Grant) -> Iterator[None]:
    """Hold the grant's refresh lock: no worker refreshes while the command replaces or revokes it."""
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + grant.lock_wait_seconds
    while (lease := grant.store.try_acquire(holder, int(grant.lease_seconds * 1000))) is None:
        if time.monotonic() > deadline:
            raise AuthorizationFailed("timed out waiting for the grant's refresh lock; nothing was changed")
        time.sleep(0.1)
    try:
        yield
    finally:
        lease.release()


def store_grant(settings: Any, tokens: dict[str, Any]) -> int:
    """Store a new grant (replacing any earlier one) under the grant's lock; returns its generation."""
    grant = grants.Grant.from_settings(settings)
    with _locked(grant):
        current = grant.store.read()
        generation = int(current["generation"]) if current else 0
        record = grant_store.new_record(
            grant.sealer,
            generation + 1,
            refresh_token=str(tokens["refresh_token"]),
            access_token=str(tokens["access_token"]),
            expires_in=float(tokens.get("expires_in") or wire.TOKEN_LIFETIME),
        )
        if not grant.store.write(record, generation):
            raise AuthorizationFailed("the grant changed while it was being stored; run the command again")
        return generation + 1


def authorize(
    conn_id: str,
    *,
    timeout: float = 300.0,
    out: Callable[[str], None] = print,
    open_browser: bool = False,
) -> int:
    """Run the whole authorization; returns the stored grant's generation.

    :raises AuthorizationFailed: denied, forged ``state``, timeout or a refused exchange (nothing stored).
    """
    settings = _settings(conn_id)
    grants.Grant.from_settings(settings)  # store URL and Fernet key checked before the user is involved
    redirect_uri, host, port, path = redirect_target(settings)
    state = secrets.token_urlsafe(32)
    callback = _Callback(host, port, path, state)
    callback.serve()
    try:
        url = authorize_url(settings, redirect_uri, state)
        out(f"Open this URL in a browser and approve access for connection {conn_id!r}:\n{url}")
        out(f"Waiting for the redirect to {redirect_uri} ...")
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        if not callback.done.wait(timeout):
            refused = (
                f" ({callback.refused} redirect(s) with a wrong state were refused: forged or stale "
                "requests, possible CSRF)"
                if callback.refused
                else ""
            )
            raise AuthorizationFailed(f"no redirect within {timeout:.0f}s{refused}; nothing was stored")
    finally:
        callback.close()
    if callback.error:
        raise AuthorizationFailed(callback.error)
    assert callback.result is not None
    tokens = exchange_code(settings, callback.result["code"], redirect_uri)
    generation = store_grant(settings, tokens)
    out(f"Stored the eSignBase grant for connection {conn_id!r} (generation {generation}).")
    return generation


def revoke(conn_id: str, *, out: Callable[[str], None] = print) -> None:
    """Revoke the stored refresh token at eSignBase and mark the stored grant revoked (under its lock)."""
    settings = _settings(conn_id)
    grant = grants.Grant.from_settings(settings)
    with _locked(grant):
        _revoke_locked(grant, settings, conn_id, out)


def _revoke_locked(grant: grants.Grant, settings: Any, conn_id: str, out: Callable[[str], None]) -> None:
    import requests

    record = grant.store.read()
    if record is None or "sealed" not in record:
        out(f"No stored grant for connection {conn_id!r}; nothing to revoke.")
        return
    tokens = grant.sealer.open(record["sealed"])
    url = urllib.parse.urljoin(settings.base_url, "oauth2/revoke")

    def revoke_token(name: str) -> None:
        response = requests.post(
            url,
            data={"token": tokens[name]},
            headers={"Authorization": wire.basic_auth(settings)},
            timeout=(10, 60),
            allow_redirects=False,
        )
        if response.status_code >= 400:
            raise AuthorizationFailed(
                f"eSignBase refused to revoke the {name.replace('_', ' ')} ({response.status_code})"
            )

    revoke_token("refresh_token")
    # Marked revoked as soon as the refresh token is dead, before anything else can fail: a revoked
    # grant left "active" would send every worker to eSignBase with a dead token.
    revoked = {k: v for k, v in record.items() if k != "sealed"}
    revoked.update(
        status="revoked", reason="revoked by the revoke command", generation=int(record["generation"]) + 1
    )
    if not grant.store.write(revoked, int(record["generation"])):
        raise AuthorizationFailed(
            "the refresh token was revoked at eSignBase, but the stored grant changed meanwhile and was "
            f"not marked revoked; run `status` and `revoke` again for connection {conn_id!r}"
        )
    revoke_token("access_token")
    out(f"Revoked the eSignBase grant of connection {conn_id!r}.")


def status(conn_id: str, *, out: Callable[[str], None] = print) -> dict[str, Any] | None:
    """Print the stored grant's state (never its tokens)."""
    settings = _settings(conn_id)
    record = grants.Grant.from_settings(settings).store.read()
    if record is None:
        out(f"No stored grant for connection {conn_id!r}.")
        return None
    shown = {k: record.get(k) for k in ("status", "reason", "generation", "updated_at", "access_expires_at")}
    out(" ".join(f"{k}={v}" for k, v in shown.items()))
    return shown


# ---------------------------------------------------------------------- command lines
def _run(args: argparse.Namespace) -> None:
    if args.command == "authorize":
        authorize(args.conn_id, timeout=args.timeout, open_browser=args.open_browser)
    elif args.command == "revoke":
        revoke(args.conn_id)
    else:
        status(args.conn_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_esign.esignbase_auth", description=__doc__
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("authorize", "revoke", "status"):
        command = sub.add_parser(name)
        command.add_argument("--conn-id", required=True)
        if name == "authorize":
            command.add_argument(
                "--timeout", type=float, default=300.0, help="seconds to wait for the redirect"
            )
            command.add_argument("--open-browser", action="store_true", help="also open the URL locally")
    args = parser.parse_args(argv)
    try:
        _run(args)
    except ESignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cli_authorize(args: argparse.Namespace) -> None:
    authorize(args.conn_id, timeout=args.timeout, open_browser=args.open_browser)


def cli_revoke(args: argparse.Namespace) -> None:
    revoke(args.conn_id)


def cli_status(args: argparse.Namespace) -> None:
    status(args.conn_id)


def get_cli_commands() -> list[Any]:
    """``airflow esign esignbase-authorize|esignbase-revoke|esignbase-status`` (the provider ``cli`` entry,
    read by Airflow 3.2+; older versions use ``python -m airflow_provider_esign.esignbase_auth``)."""
    from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand, lazy_load_command

    conn = Arg(
        ("--conn-id",), help="the eSignBase connection (extra grant_type: authorization_code)", required=True
    )
    timeout = Arg(("--timeout",), help="seconds to wait for the redirect", type=float, default=300.0)
    browser = Arg(("--open-browser",), help="also open the URL locally", action="store_true")
    here = __name__
    return [
        GroupCommand(
            name="esign",
            help="airflow-provider-esign commands",
            subcommands=(
                ActionCommand(
                    name="esignbase-authorize",
                    help="Get and store an eSignBase refresh token (Authorization Code grant)",
                    func=lazy_load_command(f"{here}.cli_authorize"),
                    args=(conn, timeout, browser),
                ),
                ActionCommand(
                    name="esignbase-revoke",
                    help="Revoke the stored eSignBase grant",
                    func=lazy_load_command(f"{here}.cli_revoke"),
                    args=(conn,),
                ),
                ActionCommand(
                    name="esignbase-status",
                    help="Show the stored eSignBase grant (no tokens)",
                    func=lazy_load_command(f"{here}.cli_status"),
                    args=(conn,),
                ),
            ),
        )
    ]


if __name__ == "__main__":
    sys.exit(main())
