"""Shared fixtures for the sandbox tests: one server per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import PDF_DELAY, SEND_DELAY, SIGN_DELAY, ESignBase, Legalesign, Receiver, WeSignature

from esign_sandbox.server import Sandbox


@pytest.fixture
def sb(esign_sandbox_clean: Sandbox) -> Sandbox:
    """The session sandbox, reset, with slow deterministic timing driven by ``advance_clock``."""
    esign_sandbox_clean.configure(send_delay=SEND_DELAY, sign_delay=SIGN_DELAY, pdf_delay=PDF_DELAY)
    return esign_sandbox_clean


@pytest.fixture
def legalesign(sb: Sandbox) -> Legalesign:
    return Legalesign(sb)


@pytest.fixture
def wesignature(sb: Sandbox) -> WeSignature:
    return WeSignature(sb)


@pytest.fixture
def esignbase(sb: Sandbox) -> ESignBase:
    return ESignBase(sb)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r
