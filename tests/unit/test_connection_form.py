"""The connection form as the Airflow UI builds it: ``GET /ui/connections/hook_meta`` (issue 19, item 3).

The Airflow 3 UI reads only this endpoint to draw a connection form: standard fields get a title and
a placeholder, extra fields a title, a description and a JSON schema (an extra field is marked required
when its schema type does not allow ``null``; it has no placeholder). These tests read the same data.
"""

from __future__ import annotations

import airflow
import pytest
from packaging.version import Version

# The UI's form metadata service (HookMetaService) changed shape after Airflow 3.1; the labels and
# required marks are ours and are checked on the newest Airflow.
pytestmark = pytest.mark.skipif(
    Version(airflow.__version__) < Version("3.2"), reason="Airflow 3.1's HookMetaService differs"
)

TUNING = ("rate_limit_per_minute", "max_attempts", "max_retry_seconds", "backoff_base", "backoff_max",
          "create_settle_seconds", "timeout", "rate_limit_storage")  # fmt: skip


@pytest.fixture(scope="module")
def forms() -> dict:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    return {meta.connection_type: meta.model_dump() for meta in HookMetaService.hook_meta_data()}


def ui_required(field: dict) -> bool:
    """The UI's rule (flexible form): required when the schema type is set and excludes ``null``."""
    kind = field["schema"].get("type")
    return bool(kind) and (not isinstance(kind, list) or "null" not in kind)


@pytest.mark.parametrize("conn_type", ["legalesign", "wesignature", "esignbase"])
def test_every_tuning_extra_shows_its_default_where_the_reader_looks(forms, conn_type):
    extras = forms[conn_type]["extra_fields"]
    for name in TUNING:
        title = extras[name]["schema"]["title"]
        assert "(default " in title, (conn_type, name, title)
        assert not ui_required(extras[name])  # all optional
    assert extras["max_attempts"]["schema"]["title"] == "Attempts per API call (default 5)"
    assert extras["rate_limit_storage"]["schema"]["title"] == "Rate-limit store (default local)"


@pytest.mark.parametrize(
    ("conn_type", "login", "password"),
    [
        ("legalesign", "API username (required)", "API secret (required)"),
        ("esignbase", "OAuth2 client id (required)", "Client secret (required)"),
    ],
)
def test_login_and_secret_are_marked_required_where_they_are(forms, conn_type, login, password):
    standard = forms[conn_type]["standard_fields"]
    assert standard["login"]["title"] == login
    assert standard["password"]["title"] == password
    assert standard["host"]["placeholder"].startswith("https://")
    assert standard["port"]["hidden"] is True


def test_wesignature_credentials_are_alternatives_so_none_is_marked_required(forms):
    form = forms["wesignature"]
    assert "required" not in (form["standard_fields"]["login"]["title"] or "")
    assert not ui_required(form["extra_fields"]["api_key"])


def test_the_legalesign_group_is_a_required_extra(forms):
    assert ui_required(forms["legalesign"]["extra_fields"]["group"])
