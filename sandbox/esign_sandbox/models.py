"""
Vendor-neutral document model and the lazily computed signing simulation.

No thread or timer exists per document: every read calls :meth:`Document.refresh` with the sandbox clock,
which materialises whatever events (sent, each signature, expiry) are due by then. Events are stored with
the time they were *due*, not the time they were observed, so the history does not depend on how often a
client polls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from esign_sandbox.pdf import PdfSource, build_pdf

VENDOR_LABELS = {"legalesign": "Legalesign", "wesignature": "WeSignature", "esignbase": "eSignBase"}


class InvalidTransition(Exception):
    """A control action that the document's current state does not allow."""


def iso_utc(timestamp: float) -> str:
    """:return: ``timestamp`` as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Signer:
    """
    One recipient.

    :param id: opaque id (a UUID for Legalesign signers).
    :param first_name: given name.
    :param last_name: family name.
    :param email: address the vendor would notify.
    :param order: 0-based position.
    :param role: vendor role (eSignBase ``form_role``, Legalesign ``role``).
    :param data: vendor-specific extras echoed in responses.
    """

    id: str
    first_name: str
    last_name: str
    email: str
    order: int
    role: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    signed_at: float | None = None
    declined_at: float | None = None

    @property
    def name(self) -> str:
        """:return: the full display name."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Document:
    """
    A document of any vendor, with its own snapshot of the timing configuration.

    :param vendor: ``legalesign``, ``wesignature`` or ``esignbase``.
    :param id: vendor id (UUID, or ``group-…`` guid for WeSignature).
    :param name: document name.
    :param created_at: sandbox time of creation.
    :param signers: recipients in signing order.
    :param send_delay: seconds until the document goes out.
    :param sign_delay: seconds between signatures; ``None`` waits for the control API.
    :param pdf_delay: seconds per post-signing processing step.
    :param expires_at: sandbox time at which an unfinished document is voided.
    :param pdf_size: exact final PDF size for large benchmark documents.
    :param data: vendor-specific fields (tags, options, metadata, template …).
    """

    vendor: str
    id: str
    name: str
    created_at: float
    signers: list[Signer]
    send_delay: float
    sign_delay: float | None
    pdf_delay: float
    expires_at: float | None = None
    pdf_size: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    sent_at: float | None = None
    voided_at: float | None = None
    void_reason: str | None = None
    archived: bool = False
    deleted: bool = False
    hook_done: bool = False
    seq: int = 0
    _pdf: PdfSource | None = field(default=None, repr=False)
    #: Encoded list items of a settled document (see :meth:`ListIndex.encoded`); cleared when it changes.
    cache: dict[Any, bytes] = field(default_factory=dict, repr=False, compare=False)

    # -- lifecycle -----------------------------------------------------------------------------------
    def refresh(self, now: float) -> None:
        """
        Materialise every automatic event due at or before ``now``.

        :param now: current sandbox time.
        """
        if self.deleted or self.voided_at is not None or self.declined_signer is not None:
            return
        if self.sent_at is None:
            due = self.created_at + self.send_delay
            if self.expires_at is not None and self.expires_at <= min(due, now):
                self.voided_at, self.void_reason = self.expires_at, "expired"
                return
            if due > now:
                return
            self.sent_at = due
        previous = self.sent_at
        for signer in self.signers:
            if signer.signed_at is not None:
                previous = signer.signed_at
                continue
            if self.sign_delay is None:
                break
            due = previous + self.sign_delay
            if due > now or (self.expires_at is not None and due >= self.expires_at):
                break
            signer.signed_at = due
            previous = due
        if self.all_signed_at is None and self.expires_at is not None and now >= self.expires_at:
            self.voided_at, self.void_reason = self.expires_at, "expired"

    @property
    def all_signed_at(self) -> float | None:
        """:return: when the last signature happened, or ``None`` while anyone has not signed."""
        times = [s.signed_at for s in self.signers]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)

    @property
    def declined_signer(self) -> Signer | None:
        """:return: the signer who declined, if any."""
        return next((s for s in self.signers if s.declined_at is not None), None)

    def stage_at(self, steps: int) -> float | None:
        """
        :param steps: number of post-signing processing steps.
        :return: when that many steps after the last signature are done, or ``None`` if not all signed.
        """
        signed = self.all_signed_at
        return None if signed is None else signed + steps * self.pdf_delay

    def stage_reached(self, steps: int, now: float) -> bool:
        """:return: whether ``steps`` post-signing steps are done at ``now``."""
        at = self.stage_at(steps)
        return at is not None and now >= at

    def active_since(self, index: int) -> float | None:
        """:return: when signer ``index`` became the one expected to sign next."""
        if self.sent_at is None:
            return None
        if index == 0:
            return self.sent_at
        return self.signers[index - 1].signed_at

    def signer_phase(self, index: int, now: float) -> str:
        """
        Vendor-neutral progress of one signer.

        :return: ``unsent``, ``sent``, ``opened``, ``viewed``, ``signed`` or ``declined``. ``opened`` and
            ``viewed`` are reached a third and two thirds of ``sign_delay`` after the signer's turn starts.
        """
        signer = self.signers[index]
        if signer.declined_at is not None:
            return "declined"
        if signer.signed_at is not None:
            return "signed"
        if self.sent_at is None:
            return "unsent"
        active = self.active_since(index)
        if active is None or not self.sign_delay or self.voided_at is not None or self.declined_signer:
            # A closed document's other signers no longer progress (and its list items stay settled).
            return "sent"
        fraction = (now - active) / self.sign_delay
        if fraction >= 2 / 3:
            return "viewed"
        if fraction >= 1 / 3:
            return "opened"
        return "sent"

    def modified_at(self, now: float, steps: int = 0) -> float:
        """
        :param now: current sandbox time.
        :param steps: post-signing steps the vendor reports as modifications.
        :return: the time of the latest event at or before ``now``.
        """
        times = [self.created_at, self.sent_at, self.voided_at]
        times += [s.signed_at for s in self.signers] + [s.declined_at for s in self.signers]
        times += [self.stage_at(i) for i in range(1, steps + 1)]
        return max(t for t in times if t is not None and t <= now)

    # -- control actions -------------------------------------------------------------------------------
    def _check_open(self, action: str) -> None:
        if self.deleted:
            raise InvalidTransition(f"cannot {action}: document was deleted")
        if self.voided_at is not None:
            raise InvalidTransition(f"cannot {action}: document is voided ({self.void_reason})")
        if self.declined_signer is not None:
            raise InvalidTransition(f"cannot {action}: document was declined")
        if self.all_signed_at is not None:
            raise InvalidTransition(f"cannot {action}: document is already fully signed")

    def _pick(self, email: str | None) -> list[Signer]:
        pending = [s for s in self.signers if s.signed_at is None]
        if email is None:
            return pending
        chosen = [s for s in pending if s.email.lower() == email.lower()]
        if not chosen:
            raise InvalidTransition(f"no unsigned signer with email {email!r}")
        return chosen

    def sign(self, now: float, email: str | None = None) -> None:
        """
        Sign now for one signer (by ``email``) or every remaining signer.

        :param now: current sandbox time.
        :param email: signer to sign for; ``None`` signs for all who have not signed.
        :raises InvalidTransition: when the document is closed or no such signer is pending.
        """
        self.refresh(now)
        self._check_open("sign")
        chosen = self._pick(email)
        if self.sent_at is None:
            self.sent_at = now
        for signer in chosen:
            signer.signed_at = now

    def decline(self, now: float, email: str | None = None, reason: str | None = None) -> None:
        """
        Decline now, by the given signer or the first one who has not signed.

        :param reason: the rejection reason the signer gives (Legalesign ``/signer/{id}/rejection/``).
        :raises InvalidTransition: when the document is closed or no such signer is pending.
        """
        self.refresh(now)
        self._check_open("decline")
        chosen = self._pick(email)
        if self.sent_at is None:
            self.sent_at = now
        chosen[0].declined_at = now
        chosen[0].data["reject_reason"] = reason or "Declined in the sandbox."

    def void(self, now: float, reason: str = "voided") -> None:
        """
        Void (cancel) the document now.

        :raises InvalidTransition: when the document is already closed or fully signed.
        """
        self.refresh(now)
        self._check_open("void")
        self.voided_at, self.void_reason = now, reason

    def expire(self, now: float) -> None:
        """
        Make the document expire now.

        :raises InvalidTransition: when the document is already closed or fully signed.
        """
        self.refresh(now)
        self._check_open("expire")
        self.expires_at = now
        self.voided_at, self.void_reason = now, "expired"

    def close_as_history(self, outcome: str, number: int, void_reason: str = "voided") -> float:
        """
        Make a seeded historical document final: sent at once, then ``completed``, ``declined`` or
        ``voided`` one to seven days after creation (varying with ``number``).

        :return: when it was closed.
        """
        self.sent_at = self.created_at + self.send_delay
        done = self.created_at + 86400 * (1 + number % 7)
        if outcome == "completed":
            for signer in self.signers:
                signer.signed_at = done
        elif outcome == "declined":
            self.signers[0].declined_at = done
            self.signers[0].data["reject_reason"] = "Terms not agreed."
        else:
            self.voided_at, self.void_reason = done, void_reason
        return done

    # -- final PDF ---------------------------------------------------------------------------------------
    def final_pdf(self) -> PdfSource:
        """
        The final signed PDF; the same bytes every time.

        :raises InvalidTransition: while not everyone has signed.
        """
        if self.all_signed_at is None:
            raise InvalidTransition("the document is not fully signed")
        if self._pdf is None:
            lines = [
                f"Vendor: {VENDOR_LABELS.get(self.vendor, self.vendor)}",
                f"Document id: {self.id}",
                f"Document name: {self.name}",
                f"Completed at: {iso_utc(self.all_signed_at)}",
                "",
                "Signers:",
            ]
            for signer in self.signers:
                assert signer.signed_at is not None
                lines.append(f"{signer.order + 1}. {signer.name} <{signer.email}>")
                lines.append(f"    signed at {iso_utc(signer.signed_at)}")
            lines += ["", "Generated by the airflow-provider-esign sandbox. Not a legal document."]
            seed = int.from_bytes(self.id.encode()[-8:].rjust(8, b"\0"), "big")
            self._pdf = build_pdf(self.name, lines, pad_to=self.pdf_size, pad_seed=seed)
        return self._pdf
