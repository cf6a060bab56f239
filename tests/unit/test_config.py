"""The ``[esign]`` configuration section and the private local state folder."""

from __future__ import annotations

import os
import stat

import pytest

from airflow_provider_esign.config import CONFIG, SECTION, config_value, default_state_dir, ensure_private_dir
from airflow_provider_esign.exceptions import RateLimitStorageError


def test_options_are_read_from_the_section_trimmed_and_empty_is_unset(monkeypatch):
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_STORAGE", "  redis://redis:6379/0 ")
    assert config_value("ratelimit_storage") == "redis://redis:6379/0"
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_STORAGE", "   ")
    assert config_value("ratelimit_storage") is None
    assert config_value("no_such_option") is None


def test_the_section_declares_every_option_with_a_default_and_a_description():
    options = CONFIG[SECTION]["options"]
    assert set(options) == {"ratelimit_storage", "ratelimit_dir"}
    for option in options.values():
        assert option["description"] and "default" in option and option["type"] == "string"


def test_the_default_folder_is_per_user():
    assert default_state_dir().endswith(f"airflow-esign-ratelimit-{os.geteuid()}")


def test_a_new_folder_is_created_private(tmp_path):
    folder = tmp_path / "state"
    ensure_private_dir(str(folder))
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0


def test_a_folder_others_may_write_to_is_refused_naming_the_rule(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o775)
    with pytest.raises(RateLimitStorageError, match="writable by group or others"):
        ensure_private_dir(str(folder))


def test_a_file_in_the_way_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(RateLimitStorageError, match="unusable: File exists"):
        ensure_private_dir(str(path))
