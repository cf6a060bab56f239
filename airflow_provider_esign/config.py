"""The provider's ``[esign]`` Airflow configuration section and the local state folder it names.

Declared in ``get_provider_info()["config"]`` (so ``airflow config get-value esign <key>`` knows it),
read through the Airflow SDK's ``conf``; every option also as ``AIRFLOW__ESIGN__<KEY>``. This module
imports Airflow only when an option is read: ``get_provider_info`` runs while Airflow configures itself.
"""

from __future__ import annotations

import os
import stat
import tempfile
from typing import Any

SECTION = "esign"

#: The provider's ``[esign]`` configuration section (``airflow config get-value esign <key>``; each
#: option also as ``AIRFLOW__ESIGN__<KEY>``), read by :mod:`airflow_provider_esign.ratelimit`.
CONFIG: dict[str, Any] = {
    SECTION: {
        "description": "Settings of the e-signature provider (airflow-provider-esign) that apply to "
        "every connection.",
        "options": {
            "ratelimit_storage": {
                "description": "Where client-side rate-limit schedules are kept when a connection's "
                "rate_limit_storage extra is empty: 'local' (a SQLite file per connection, shared by the "
                "processes of one host) or a Redis URL such as redis://redis:6379/0 (shared by every host).",
                "version_added": "0.1.0",
                "type": "string",
                "example": "redis://redis:6379/0",
                "default": "local",
            },
            "ratelimit_dir": {
                "description": "Folder of the local rate-limit schedules. Empty means a per-user folder "
                "in the system temp dir. The folder is created with mode 0700; one owned by another user "
                "or writable by group or others is refused.",
                "version_added": "0.1.0",
                "type": "string",
                "example": "/var/lib/airflow/esign-ratelimit",
                "default": "",
            },
        },
    }
}


def config_value(key: str) -> str | None:
    """An option of the provider's ``[esign]`` Airflow configuration section (None when unset)."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # pragma: no cover - Airflow without the SDK's configuration module
        from airflow.configuration import conf
    value = conf.get(SECTION, key, fallback=None)
    return str(value).strip() or None if value is not None else None


def default_state_dir() -> str:
    """The default local folder: per user (a shared, predictable /tmp name could be pre-created by
    another user to read or poison the schedules)."""
    user = os.geteuid() if hasattr(os, "geteuid") else os.getpid()
    return os.path.join(tempfile.gettempdir(), f"airflow-esign-ratelimit-{user}")


def ensure_private_dir(folder: str) -> None:
    """Create ``folder`` (mode 0700) or check an existing one: it must be a real folder owned by this
    user that nobody else may write to.

    :raises RateLimitStorageError: naming the folder and the rule it breaks.
    """
    from airflow_provider_esign.exceptions import RateLimitStorageError

    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise RateLimitStorageError(f"rate-limit folder {folder!r} unusable: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise RateLimitStorageError(f"rate-limit folder {folder!r} is not a folder (a link or a file)")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise RateLimitStorageError(
            f"rate-limit folder {folder!r} belongs to another user (uid {info.st_uid}); set "
            "[esign] ratelimit_dir to a folder of your own"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RateLimitStorageError(
            f"rate-limit folder {folder!r} is writable by group or others (mode "
            f"{stat.S_IMODE(info.st_mode):o}); make it 0700 or set [esign] ratelimit_dir elsewhere"
        )
