"""
All mutable sandbox state.

Every endpoint is an ``async def`` running on the server's single event loop, so the state is only ever
touched from that loop and needs no locking.
"""

from __future__ import annotations

import collections
import hashlib
import random
import secrets
import uuid
from typing import Any

from esign_sandbox.clock import Clock
from esign_sandbox.config import VENDORS, SandboxConfig
from esign_sandbox.emulation import emulation
from esign_sandbox.faults import FaultEngine, RateLimiter
from esign_sandbox.index import ListIndex
from esign_sandbox.journal import Journal
from esign_sandbox.models import Document

#: Outcomes of seeded historical documents and their shares.
HISTORY_OUTCOMES = (("completed", 0.90), ("voided", 0.05), ("declined", 0.05))


class Stats:
    """Request accounting exposed by ``GET /_sandbox/stats``."""

    def __init__(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.routes: collections.Counter[str] = collections.Counter()
        self.status_codes: collections.Counter[str] = collections.Counter()
        self.status_by_vendor: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.aborted: collections.Counter[str] = collections.Counter()
        self.clients: set[tuple[str, int]] = set()
        self.throttled = 0
        self.token_requests = 0
        self.wesignature_logins = 0
        self.wesignature_login_attempts = 0

    def record_request(self, vendor: str, route: str, client: Any) -> None:
        """Count one vendor request and the client connection it came on."""
        self.requests[vendor] += 1
        self.routes[f"{vendor} {route}"] += 1
        if client:
            self.clients.add((str(client[0]), int(client[1])))

    def record_status(self, vendor: str, status: int) -> None:
        """Count one response status."""
        self.status_codes[str(status)] += 1
        self.status_by_vendor[vendor][str(status)] += 1
        if status == 429:
            self.throttled += 1

    def to_dict(self) -> dict[str, Any]:
        """:return: a JSON-serialisable snapshot."""
        return {
            "requests": dict(self.requests),
            "total_requests": sum(self.requests.values()),
            "routes": dict(self.routes),
            "status_codes": dict(self.status_codes),
            "status_codes_by_vendor": {v: dict(c) for v, c in self.status_by_vendor.items()},
            "throttled": self.throttled,
            "aborted_connections": dict(self.aborted),
            "token_requests": self.token_requests,
            "wesignature_logins": self.wesignature_logins,
            "wesignature_login_attempts": self.wesignature_login_attempts,
            "distinct_connections": len(self.clients),
        }


class SandboxState:
    """
    Documents, tokens, counters and configuration of one sandbox server.

    :param config: initial configuration; ``reset(config=True)`` returns to it.
    :param clock: the sandbox clock.
    :param seed: seed for ids and per-document choices, so runs are reproducible; ``None`` (the default)
        draws a fresh random seed at start and at every reset, so ids never repeat across sandbox runs
        (a restarted sandbox must not hand out the ids of documents an earlier run already stored).
    """

    def __init__(self, config: SandboxConfig, clock: Clock, seed: int | None = None) -> None:
        self.initial_config = config.copy()
        self.config = config.copy()
        self.clock = clock
        self.fixed_seed = seed
        self.seed = 0
        self.faults = FaultEngine()
        self.rate_limiter = RateLimiter()
        self._clear()

    def _clear(self) -> None:
        self.seed = self.fixed_seed if self.fixed_seed is not None else secrets.randbits(64)
        self.rng = random.Random(self.seed)
        self.documents: dict[str, dict[str, Document]] = {vendor: {} for vendor in VENDORS}
        self.templatepdfs: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.webhook_subscriptions: list[dict[str, Any]] = []
        self.signers: dict[tuple[str, str], tuple[Document, int]] = {}
        self.indexes: dict[str, ListIndex] = {}
        self.journal = Journal(self.config.journal_size)
        self.tokens: dict[str, dict[str, Any]] = {}
        self.esignbase_grants: dict[str, Any] = {}  # the Authorization Code grant (esignbase/oauth.py)
        self.redirects: dict[str, tuple[str, float]] = {}
        self.credits = self.config.esignbase_initial_credits
        self.stats = Stats()
        self.webhook_deliveries: list[dict[str, Any]] = []
        self.webhook_configured_at: float | None = self.now() if self.config.webhook_url else None
        self.hooks_pending: set[str] = set()
        self.legalesign_events_pending: set[str] = set()
        self.sequence = 0
        self.faults.reset()
        self.rate_limiter.reset()

    def reset(self, config: bool = False) -> None:
        """
        Clear every document, token, counter and queued fault; rewind the clock.

        :param config: also restore the configuration the server started with.
        """
        if config:
            self.config = self.initial_config.copy()
        self.clock.reset()
        self._clear()

    def now(self) -> float:
        """:return: the sandbox time."""
        return self.clock.now()

    def configure(self, changes: dict[str, Any]) -> SandboxConfig:
        """
        Apply configuration changes.

        :param changes: field -> value, validated by :meth:`SandboxConfig.updated`.
        :raises ValueError: for unknown fields or invalid values.
        """
        new = self.config.updated(changes)
        if new.webhook_url != self.config.webhook_url:
            # The hook only fires for documents completing while it is switched on.
            self.webhook_configured_at = self.now() if new.webhook_url else None
        if "faults" in changes:
            self.faults.counter = 0
        if new.journal_size != self.config.journal_size:
            self.journal.resize(new.journal_size)
        self.config = new
        return new

    def next_sequence(self) -> int:
        """:return: a strictly increasing integer (numeric ids, creation order)."""
        self.sequence += 1
        return self.sequence

    def new_uuid(self) -> str:
        """:return: a UUID4 drawn from the seeded generator."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_hex(self, length: int) -> str:
        """:return: ``length`` lowercase hex characters from the seeded generator."""
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))

    def choice(self, salt: str, ratio: float) -> bool:
        """
        A seeded, per-object yes/no decision that does not depend on request order.

        :param salt: identifies the object (e.g. ``"redirect:<doc id>"``).
        :param ratio: probability of ``True``.
        """
        digest = hashlib.blake2b(f"{self.seed}:{salt}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < ratio

    def add(self, document: Document) -> Document:
        """Store a new document."""
        document.seq = self.next_sequence()
        self.documents[document.vendor][document.id] = document
        for index, signer in enumerate(document.signers):
            self.signers[(document.vendor, signer.id)] = (document, index)
        emulation(document.vendor).on_add(self, document)
        self.index(document.vendor).add(document)
        return document

    def index(self, vendor: str) -> ListIndex:
        """:return: the vendor's list index (created on first use from the vendor's ``index_spec``)."""
        found = self.indexes.get(vendor)
        if found is None:
            found = self.indexes[vendor] = ListIndex(emulation(vendor).index_spec)
        return found

    def touch(self, document: Document) -> None:
        """Tell the list index that an action changed ``document`` (void, archive, delete)."""
        self.index(document.vendor).touch(document)

    def find_signer(self, vendor: str, signer_id: str) -> tuple[Document, int] | None:
        """:return: ``(document, signer index)`` for a signer id of a non-deleted document, or ``None``."""
        found = self.signers.get((vendor, signer_id))
        if found is None or found[0].deleted:
            return None
        found[0].refresh(self.now())
        return found

    def seed_history(self, count: int, vendors: list[str] | tuple[str, ...], years: float) -> dict[str, int]:
        """
        Add ``count`` final historical documents per vendor, created over the past ``years``: 90% completed,
        5% voided, 5% declined (seeded, so the same arguments give the same account).

        :param count: documents per vendor.
        :param vendors: vendors to seed.
        :param years: how far back the oldest document was created.
        :return: vendor -> documents added.
        """
        now = self.now()
        span = years * 365.25 * 86400
        rng = random.Random(f"{self.seed}:history:{self.sequence}")
        result: dict[str, int] = {}
        for vendor in vendors:
            history_document = emulation(vendor).history_document
            times = sorted(now - span + rng.random() * (span - 86400) for _ in range(count))
            docs = []
            for number, created in enumerate(times, start=1):
                draw, outcome = rng.random(), "completed"
                for name, share in HISTORY_OUTCOMES:
                    if draw < share:
                        outcome = name
                        break
                    draw -= share
                doc = history_document(self, created, outcome, number)
                doc.seq = self.next_sequence()
                self.documents[vendor][doc.id] = doc
                for index, signer in enumerate(doc.signers):
                    self.signers[(vendor, signer.id)] = (doc, index)
                docs.append(doc)
            self.index(vendor).bulk_settle(docs, now)
            result[vendor] = len(docs)
        return result

    def get(self, vendor: str, doc_id: str, *, include_deleted: bool = False) -> Document | None:
        """
        :return: the refreshed document, or ``None`` when unknown (or deleted, unless asked for).
        """
        document = self.documents[vendor].get(doc_id)
        if document is None or (document.deleted and not include_deleted):
            return None
        document.refresh(self.now())
        return document

    def all(self, vendor: str, *, include_deleted: bool = False) -> list[Document]:
        """:return: the vendor's documents in creation order, refreshed."""
        now = self.now()
        result = []
        for document in self.documents[vendor].values():
            if document.deleted and not include_deleted:
                continue
            document.refresh(now)
            result.append(document)
        return result
