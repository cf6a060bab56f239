"""Sandbox ids are unique per run unless a seed is asked for (issue 19, item 1).

A restarted sandbox that hands out the ids of the previous run makes a stored PDF collide with the
new document of the same id, and a webhook for a new contract look like a duplicate.
"""

from __future__ import annotations

from esign_sandbox.__main__ import build_parser
from esign_sandbox.config import VENDORS, SandboxConfig
from esign_sandbox.server import Sandbox

CONFIG = SandboxConfig(sign_delay=0, send_delay=0, pdf_delay=0)
SIGNERS = [{"name": "Ada Lovelace", "email": "ada@example.com"}]


def first_ids(seed: int | None) -> list[str]:
    """The first document id per vendor of a freshly started sandbox."""
    with Sandbox(seed=seed, config=CONFIG) as sandbox:
        return [sandbox.create_document(vendor, signers=SIGNERS)["id"] for vendor in VENDORS]


def test_two_default_starts_hand_out_different_ids() -> None:
    first, second = first_ids(None), first_ids(None)
    assert len(first) == 3
    assert not set(first) & set(second)


def test_the_same_seed_hands_out_the_same_ids() -> None:
    assert first_ids(11) == first_ids(11)
    assert first_ids(11) != first_ids(12)


def test_a_reset_without_a_seed_does_not_repeat_ids() -> None:
    with Sandbox(config=CONFIG) as sandbox:
        before = sandbox.create_document("esignbase", signers=SIGNERS)["id"]
        sandbox.reset()
        assert sandbox.create_document("esignbase", signers=SIGNERS)["id"] != before


def test_a_reset_with_a_seed_repeats_them() -> None:
    with Sandbox(seed=5, config=CONFIG) as sandbox:
        before = sandbox.create_document("esignbase", signers=SIGNERS)["id"]
        sandbox.reset()
        assert sandbox.create_document("esignbase", signers=SIGNERS)["id"] == before


def test_the_command_line_defaults_to_random_ids() -> None:
    assert build_parser().parse_args([]).seed is None
    assert build_parser().parse_args(["--seed", "3"]).seed == 3
