"""The per-vendor emulation registry, and that the shared sandbox modules stay free of vendor branches."""

from __future__ import annotations

import pathlib
import re

import pytest

from esign_sandbox.config import VENDORS, SandboxConfig
from esign_sandbox.emulation import VendorEmulation, emulation

SANDBOX = pathlib.Path(__file__).resolve().parents[2] / "sandbox" / "esign_sandbox"
_NAME = r"[\"'](legalesign|wesignature|esignbase)[\"']"
#: A test against a vendor name: ``vendor == "x"``, ``x != "esignbase"``, ``vendor in ("a", "b")``.
VENDOR_BRANCH = re.compile(
    rf"(==|!=) *{_NAME}|{_NAME} *(==|!=|in\b)|\b(vendor|conn_type) *(==|!=) *[\"']"
    r"|\b(vendor|conn_type) +(not +)?in +[(\[{] *[\"']"
)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_declares_its_emulation(vendor: str) -> None:
    found = emulation(vendor)
    assert isinstance(found, VendorEmulation)
    assert found.key == vendor
    assert emulation(vendor) is found


def test_unknown_vendor_has_no_emulation() -> None:
    with pytest.raises(ModuleNotFoundError):
        emulation("docusign")


def test_shared_modules_have_no_vendor_branches() -> None:
    # Vendor behaviour lives in the vendor's own package (esign_sandbox/<vendor>/), looked up through the registry.
    hits = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(SANDBOX.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if VENDOR_BRANCH.search(line)
    ]
    assert hits == []


def test_rate_limit_retry_after_rules_differ_per_vendor() -> None:
    config = SandboxConfig(legalesign_retry_after=7.0)
    # Legalesign documents no Retry-After: the configured value unless the limit asks for the wait.
    assert emulation("legalesign").retry_after({}, 3.0, config) == 7.0
    assert emulation("legalesign").retry_after({"retry_after": True}, 3.0, config) == 3.0
    for vendor in ("wesignature", "esignbase"):
        assert emulation(vendor).retry_after({}, 3.0, config) == 3.0
        assert emulation(vendor).retry_after({"retry_after": False}, 3.0, config) is None
