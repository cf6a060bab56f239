"""The provider info and the vendor registry: derived from the vendor declarations, complete, valid."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from airflow_provider_esign.get_provider_info import get_provider_info
from airflow_provider_esign.hooks import hook_class_for, registry
from airflow_provider_esign.hooks.settings import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_SECONDS,
    DEFAULT_READ_TIMEOUT,
)

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_esign"
INFO = get_provider_info()


def modules_in(folder: str) -> set[str]:
    """The modules of ``folder`` that define an operator, sensor or trigger (``base`` modules hold the
    shared base classes)."""
    from airflow.sdk import BaseOperator
    from airflow.triggers.base import BaseTrigger

    found = set()
    for path in (PACKAGE / folder).glob("*.py"):
        if path.stem in ("__init__", "base"):
            continue
        module = import_module(f"airflow_provider_esign.{folder}.{path.stem}")
        defined = [
            value
            for name, value in vars(module).items()
            if isinstance(value, type)
            and value.__module__ == module.__name__
            and not name.startswith("_")
            and issubclass(value, (BaseOperator, BaseTrigger))
            and value not in (BaseOperator, BaseTrigger)
            and "Base" not in name
        ]
        if defined:
            found.add(module.__name__)
    return found


def listed(section: str) -> set[str]:
    return {module for entry in INFO[section] for module in entry["python-modules"]}


@pytest.mark.parametrize("section", ["operators", "sensors", "triggers"])
def test_provider_info_lists_every_module_that_exists(section):
    assert listed(section) == modules_in(section)
    for module in listed(section):
        import_module(module)


def test_provider_info_lists_every_vendor_hook_and_connection_type():
    vendors = {path.parent.name for path in (PACKAGE / "hooks").glob("*/hook.py")}
    assert vendors == {"esignbase", "legalesign", "wesignature"}
    assert set(registry.conn_types()) == vendors
    assert {c["connection-type"] for c in INFO["connection-types"]} == vendors
    assert listed("hooks") == {f"airflow_provider_esign.hooks.{v}" for v in vendors} | {
        f"airflow_provider_esign.hooks.{v}.hook" for v in vendors
    }
    for entry in INFO["connection-types"]:
        module, _, name = entry["hook-class-name"].rpartition(".")
        hook = getattr(import_module(module), name)
        assert hook.conn_type == entry["connection-type"] == hook.vendor
        assert hook_class_for(entry["connection-type"]) is hook
        assert hook.hook_name == entry["hook-name"]
        assert hook.default_conn_name == f"{hook.conn_type}_default"


def test_provider_info_matches_airflows_schema():
    import jsonschema

    schema_path = Path(import_module("airflow").__file__).parent / "provider_info.schema.json"
    jsonschema.validate(INFO, json.loads(schema_path.read_text()))


def test_connection_forms_show_the_tuning_defaults_and_the_required_legalesign_group():
    forms = {c["connection-type"]: c for c in INFO["connection-types"]}
    for conn_type, form in forms.items():
        placeholders = form["ui-field-behaviour"]["placeholders"]
        assert placeholders["max_attempts"] == str(DEFAULT_MAX_ATTEMPTS) == "5"
        assert placeholders["max_retry_seconds"] == f"{DEFAULT_MAX_RETRY_SECONDS:g}" == "300"
        assert placeholders["timeout"] == f"{DEFAULT_READ_TIMEOUT:g}" == "60"
        rate = registry.vendor_info(conn_type).default_rate_limit_per_minute
        assert placeholders["rate_limit_per_minute"] == f"{rate:g}"
        assert set(form["conn-fields"]) >= {"rate_limit_per_minute", "max_attempts", "max_retry_seconds"}
    assert forms["legalesign"]["ui-field-behaviour"]["placeholders"]["rate_limit_per_minute"] == "100"
    assert forms["wesignature"]["ui-field-behaviour"]["placeholders"]["rate_limit_per_minute"] == "0"
    group = forms["legalesign"]["conn-fields"]["group"]["schema"]
    assert group["type"] == "string" and group["minLength"] == 1  # not nullable: required in the form
    optional = forms["legalesign"]["conn-fields"]["user"]["schema"]
    assert "null" in optional["type"]


def test_unknown_connection_type_names_the_known_ones():
    from airflow_provider_esign.exceptions import ESignValidationError

    with pytest.raises(ESignValidationError, match=r"\['esignbase', 'legalesign', 'wesignature'\]"):
        hook_class_for("docusign")


def test_provider_info_imports_neither_airflow_nor_a_hook():
    """Airflow calls get_provider_info while it configures itself: importing airflow there would be
    circular, so the vendor declarations are plain data."""
    code = (
        "import sys; from airflow_provider_esign.get_provider_info import get_provider_info; "
        "get_provider_info(); "
        "print([m for m in sys.modules if m == 'airflow' or m.startswith('airflow.') or m.endswith('.hook')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_one_version_source():
    from importlib.metadata import version

    from airflow_provider_esign import __version__

    assert INFO["versions"] == [__version__]
    assert version("airflow-provider-esign") == __version__
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "airflow_provider_esign.__version__" in pyproject


def test_package_is_typed_and_licensed():
    assert (PACKAGE / "py.typed").is_file()
    license_text = (PACKAGE.parent / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert 'license = "Apache-2.0"' in (PACKAGE.parent / "pyproject.toml").read_text()
