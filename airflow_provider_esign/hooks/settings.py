"""Connection settings: an Airflow connection reduced to what the hooks read, plus the tuning options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Defaults of the tuning options every connection accepts (also the connection form's placeholders).
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RETRY_SECONDS = 300.0
DEFAULT_BACKOFF_BASE = 1.0
DEFAULT_BACKOFF_MAX = 60.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
#: After an ambiguous create that may still be running at the vendor (timeout, reset, 502/504) and a
#: lookup that found nothing, wait this long and look again before sending a second time.
DEFAULT_CREATE_SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class ConnectionSettings:
    """An Airflow connection, reduced to what the hooks read.

    Its ``repr`` (and so ``str``, f-strings, tracebacks with locals) shows no password, no extra
    value and no user info in the base URL: only the extra's keys.
    """

    conn_id: str
    base_url: str
    login: str
    password: str = field(repr=False)
    extra: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"ConnectionSettings(conn_id={self.conn_id!r}, base_url={redact_url(self.base_url)!r}, "
            f"login={self.login!r}, password='***', extra_keys={sorted(self.extra)!r})"
        )


def redact_url(url: str) -> str:
    """``url`` without the user info (``https://user:secret@host/`` becomes ``https://***@host/``)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def build_settings(
    conn_id: str, conn: Any, extra: Mapping[str, Any] | None, default_host: str
) -> ConnectionSettings:
    """Settings from an Airflow connection.

    The base URL is a full URL in ``host`` (JSON form), or, in the URI form
    (``legalesign://user:secret@host:port/api%2Fv1?scheme=https``), host, port, ``schema`` as the
    path and the ``scheme`` extra (default https). An empty host means the vendor's default.

    :param conn_id: The connection id.
    :param conn: The Airflow connection (``host``, ``port``, ``schema``, ``login``, ``password``).
    :param extra: Its extra, already parsed.
    :param default_host: The vendor's default base URL.
    """
    values = dict(extra or {})
    host = (conn.host or "").strip()
    if not host:
        base = default_host
    elif "://" in host:
        base = host
    else:
        scheme = str(values.pop("scheme", "https")).strip() or "https"
        port = f":{conn.port}" if conn.port else ""
        path = (conn.schema or "").strip("/")
        base = f"{scheme}://{host}{port}" + (f"/{path}" if path else "")
    return ConnectionSettings(
        conn_id=conn_id,
        base_url=base.rstrip("/") + "/",
        login=conn.login or "",
        password=conn.password or "",
        extra=values,
    )


def resolve_option(
    overrides: Mapping[str, Any], settings: ConnectionSettings | None, name: str, default: Any
) -> Any:
    """A tuning option: the hook argument, else the connection extra, else ``default``."""
    override = overrides.get(name)
    if override is not None:
        return override
    value = settings.extra.get(name) if settings else None
    return default if value in (None, "") else value


def resolve_timeout(overrides: Mapping[str, Any], settings: ConnectionSettings | None) -> tuple[float, float]:
    """``(connect, read)`` timeouts from the ``timeout`` (a number or a pair) and ``connect_timeout``."""
    value = resolve_option(overrides, settings, "timeout", None)
    if isinstance(value, (list, tuple)):
        return float(value[0]), float(value[1])
    read = float(value) if value is not None else DEFAULT_READ_TIMEOUT
    return float(resolve_option(overrides, settings, "connect_timeout", DEFAULT_CONNECT_TIMEOUT)), read
