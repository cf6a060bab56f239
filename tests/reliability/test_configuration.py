"""The provider's configuration: the local rate-limit folder is private (per user, 0700, foreign or
writable folders refused), and the ``[esign]`` section (``airflow config get-value``) replaces the raw
environment variables."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from airflow_provider_esign.config import default_state_dir, ensure_private_dir
from airflow_provider_esign.ratelimit import RateLimiter, RateLimitStorageError


# ------------------------------------------------------------------------------ rate-limit folder
def test_the_default_rate_limit_folder_is_per_user_and_private(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    folder = default_state_dir()
    assert str(os.geteuid()) in os.path.basename(folder)

    ensure_private_dir(folder)

    assert stat.S_IMODE(os.stat(folder).st_mode) & 0o077 == 0


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_rate_limit_folder_others_may_write_to_is_refused(tmp_path, clock, mode):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(mode)
    limiter = RateLimiter("k", 60, state_dir=str(folder), clock=clock)
    with pytest.raises(RateLimitStorageError, match="writable by group or others"):
        limiter.reserve()


def test_a_rate_limit_folder_that_is_a_link_is_refused(tmp_path, clock):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(RateLimitStorageError, match="not a folder"):
        RateLimiter("k", 60, state_dir=str(tmp_path / "link"), clock=clock).reserve()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_rate_limit_folder_of_another_user_is_refused(tmp_path, clock):
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    with pytest.raises(RateLimitStorageError, match="belongs to another user"):
        RateLimiter("k", 60, state_dir=str(folder), clock=clock).reserve()


# ------------------------------------------------------------------------------ [esign] config
def test_airflow_config_get_value_knows_the_esign_section():
    """The section is declared in get_provider_info's "config": the CLI shows its default."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__ESIGN__")}
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    result = subprocess.run(
        [airflow, "config", "get-value", "esign", "ratelimit_storage"],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "local"  # after any log line of unit-test mode


def test_the_environment_form_sets_the_storage_default(monkeypatch):
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_STORAGE", "redis://redis.test:6379/2")
    assert RateLimiter("k", 60).storage == "redis://redis.test:6379/2"
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_DIR", "/srv/esign-rl")
    assert RateLimiter("k", 60).path.startswith("/srv/esign-rl/")
