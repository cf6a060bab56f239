"""Vendor-neutral model of e-signature documents.

Plain dataclasses that serialise to JSON-native dicts (``to_dict`` / ``from_dict``), so they travel
through XCom and trigger events unchanged. Each vendor hook maps its wire format onto these types;
the raw vendor status and payload are always kept beside the normalized values.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class DocumentStatus(str, enum.Enum):
    """Normalized document status, the same for every vendor.

    The vendor mapping tables live in README ("Status mapping") and in each hook's ``STATUS_MAP``.
    """

    DRAFT = "DRAFT"
    """Created, not yet sent to any signer."""
    SENT = "SENT"
    """Out for signature; nobody has signed yet (as far as the vendor tells)."""
    PARTIALLY_SIGNED = "PARTIALLY_SIGNED"
    """Some signers have signed, not all."""
    SIGNED = "SIGNED"
    """Every signer has signed; the final PDF is not confirmed complete yet."""
    COMPLETED = "COMPLETED"
    """Signing is complete and the final PDF can be downloaded."""
    DECLINED = "DECLINED"
    """A signer declined (rejected) the document. Terminal failure."""
    VOIDED = "VOIDED"
    """Cancelled, removed or expired at the vendor. Terminal failure."""

    @property
    def is_failure(self) -> bool:
        """True for the terminal failure states (DECLINED, VOIDED)."""
        return self in (DocumentStatus.DECLINED, DocumentStatus.VOIDED)

    @property
    def is_terminal(self) -> bool:
        """True when the document will not change any more."""
        return self.is_failure or self is DocumentStatus.COMPLETED

    def reached(self, target: DocumentStatus) -> bool:
        """Whether this status is at or past ``target`` on the way to COMPLETED.

        Failure states never reach a non-failure target.
        """
        if target.is_failure or self.is_failure:
            return self is target
        return _PROGRESS.index(self) >= _PROGRESS.index(target)


_PROGRESS = [
    DocumentStatus.DRAFT,
    DocumentStatus.SENT,
    DocumentStatus.PARTIALLY_SIGNED,
    DocumentStatus.SIGNED,
    DocumentStatus.COMPLETED,
]


class SignerStatus(str, enum.Enum):
    """Normalized state of one signer."""

    PENDING = "PENDING"
    """Not yet notified, or the vendor does not report per-signer progress."""
    SENT = "SENT"
    VIEWED = "VIEWED"
    SIGNED = "SIGNED"
    DECLINED = "DECLINED"


class MissingSignerFieldError(TypeError):
    """A signer dict lacks a required field (``name`` or ``email``).

    :param field: The missing field.
    """

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"missing {field!r}: each signer needs a 'name' and an 'email'")


@dataclass(frozen=True)
class Signer:
    """A person asked to sign.

    :param name: Full name, as shown to the signer.
    :param email: Email address the signing request goes to.
    :param role: Template role (eSignBase ``role_name``; Legalesign ``witness``/``approver``). Optional.
    :param order: Position in the signing order (0-based). Optional; list order is used otherwise.
    :param first_name: Overrides the first name derived from ``name`` (vendors that need it split).
    :param last_name: Overrides the last name derived from ``name``.
    """

    name: str
    email: str
    role: str | None = None
    order: int | None = None
    first_name: str | None = None
    last_name: str | None = None

    def split_name(self) -> tuple[str, str]:
        """First and last name: the explicit ones, else ``name`` split at its last space."""
        if self.first_name or self.last_name:
            return (self.first_name or "").strip(), (self.last_name or "").strip()
        first, _, last = self.name.strip().rpartition(" ")
        if not first:  # a single word: nothing to split
            return last, ""
        return first.strip(), last.strip()

    @classmethod
    def coerce(cls, value: Signer | dict[str, Any]) -> Signer:
        """Build a signer from a dict such as a row of a CSV file or an XCom value.

        Accepts ``email_address`` as an alias of ``email`` and ``role_name`` of ``role``.

        :raises MissingSignerFieldError: ``name`` (and first/last name) or ``email`` is missing.
        :raises TypeError: not a dict, or a field this model does not know.
        """
        if isinstance(value, Signer):
            return value
        if not isinstance(value, dict):
            raise TypeError(f"a signer must be a dict or Signer, not {type(value).__name__}")
        data = dict(value)
        if "email" not in data and "email_address" in data:
            data["email"] = data.pop("email_address")
        if "role" not in data and "role_name" in data:
            data["role"] = data.pop("role_name")
        if "name" not in data and ("first_name" in data or "last_name" in data):
            data["name"] = f"{data.get('first_name') or ''} {data.get('last_name') or ''}".strip()
        allowed = {"name", "email", "role", "order", "first_name", "last_name"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise TypeError(f"unknown signer field(s) {unknown}; allowed: {sorted(allowed)}")
        for required in ("name", "email"):
            if data.get(required) is None:
                raise MissingSignerFieldError(required)
        order = data.get("order")
        if isinstance(order, str) and order.strip().lstrip("-").isdigit():
            data["order"] = int(order)
        return cls(**{key: data.get(key) for key in allowed if key in data})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class SignerInfo:
    """A signer as the vendor reports it back.

    :param email: Signer email.
    :param name: Signer name, when the vendor returns it.
    :param status: Normalized signer state.
    :param raw_status: The vendor's own value, unchanged.
    :param role: Template role, when known.
    :param order: Signing order, when known.
    :param signer_id: The vendor's id for the signer, when it has one.
    :param signed_at: ISO 8601 time the signer signed, when the vendor reports it.
    """

    email: str
    name: str | None = None
    status: SignerStatus = SignerStatus.PENDING
    raw_status: Any = None
    role: str | None = None
    order: int | None = None
    signer_id: str | None = None
    signed_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignerInfo:
        return cls(**{**data, "status": SignerStatus(data.get("status", "PENDING"))})


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the vendor reports it, normalized.

    :param document_id: The vendor's document id (opaque string).
    :param vendor: ``legalesign``, ``wesignature`` or ``esignbase``.
    :param name: Document name.
    :param status: Normalized status.
    :param raw_status: The vendor's status value, unchanged.
    :param signers: Signers with their normalized states.
    :param created_at: ISO 8601 creation time as the vendor gives it, if any.
    :param modified_at: ISO 8601 last-modified time, if any.
    :param completed_at: ISO 8601 completion time, if the vendor gives one.
    :param downloadable: Whether the final signed PDF can be downloaded now.
    :param metadata: Vendor-side references (Legalesign tags, eSignBase ``user_defined_metadata``).
    :param raw: The vendor's payload for this document, unchanged.
    """

    document_id: str
    vendor: str
    name: str | None
    status: DocumentStatus
    raw_status: Any
    signers: list[SignerInfo] = field(default_factory=list)
    created_at: str | None = None
    modified_at: str | None = None
    completed_at: str | None = None
    downloadable: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def signer(self, email: str) -> SignerInfo | None:
        """The signer with this email (case-insensitive), if present."""
        wanted = email.strip().lower()
        return next((s for s in self.signers if s.email.strip().lower() == wanted), None)

    def to_dict(self, *, include_raw: bool = True) -> dict[str, Any]:
        """JSON-native dict (for XCom and trigger events)."""
        data = asdict(self)
        data["status"] = self.status.value
        data["signers"] = [signer.to_dict() for signer in self.signers]
        if not include_raw:
            data.pop("raw")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentInfo:
        values = dict(data)
        values["status"] = DocumentStatus(values["status"])
        values["signers"] = [SignerInfo.from_dict(s) for s in values.get("signers", [])]
        values.setdefault("raw", {})
        return cls(**values)


@dataclass(frozen=True)
class ReminderResult:
    """What a reminder did.

    :param reminded: Ids of the signers reminded.
    :param reason: Why nobody was reminded (None when somebody was): e.g. every signer has signed, or
        nobody has been sent the document yet.
    """

    reminded: list[str]
    reason: str | None = None


def nobody_to_remind(signers: list[SignerInfo]) -> str:
    """Why none of ``signers`` is waiting to sign (no one is SENT or VIEWED), for logs and results."""
    if not signers:
        return "the document has no signers"
    unsent = sum(s.status is SignerStatus.PENDING for s in signers)
    signed = sum(s.status is SignerStatus.SIGNED for s in signers)
    if signed == len(signers):
        return f"every signer has signed ({signed} of {signed})"
    if unsent:
        return (
            f"nobody is waiting to sign yet: {unsent} signer(s) not sent the document yet (the vendor is "
            f"still sending it, or they sign in order after others), {signed} signed"
        )
    return f"no signer is waiting to sign ({signed} signed, the others declined)"


@dataclass(frozen=True)
class FormField:
    """A form field of a sent document and the value entered in it (by a signer or the sender).

    :param label: The field's label in the document.
    :param value: The value entered, as the vendor returns it (None when left empty).
    :param field_type: The vendor's field kind (Legalesign ``element_type``: ``text``, ``signature``,
        ``initials``, ``admin``, ...).
    :param signer: The vendor's reference to the signer the field belongs to, as given.
    :param signer_email: That signer's email, where the reference could be matched to a signer.
    :param raw: The vendor's payload for this field, unchanged.
    """

    label: str | None
    value: Any
    field_type: str | None = None
    signer: str | None = None
    signer_email: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, *, include_raw: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not include_raw:
            data.pop("raw")
        return data


@dataclass(frozen=True)
class SendRequest:
    """Everything needed to send one document for signature, vendor-neutral.

    Exactly one document source applies per vendor: eSignBase needs ``template_id`` (one signer per
    template role); Legalesign takes a ``template_id`` (an uploaded template PDF) or a ``file`` (local
    path or object-storage URL, uploaded first); WeSignature takes a public ``file`` URL.

    :param name: Document name.
    :param signers: Who signs, in order.
    :param template_id: Vendor template id.
    :param file: Local path, object-storage URL or public http(s) URL of the PDF.
    :param subject: Email subject for the signing request, where the vendor supports one.
    :param message: Email message for the signing request, where the vendor supports one.
    :param metadata: Your own string references, stored at the vendor where it can.
    :param expires_at: ISO 8601 expiry time, where the vendor supports one.
    :param vendor_options: Vendor-specific request fields (see each hook).
    """

    name: str
    signers: tuple[Signer, ...]
    template_id: str | None = None
    file: str | None = None
    subject: str | None = None
    message: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    expires_at: str | None = None
    vendor_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DownloadResult:
    """Outcome of a verified download.

    :param size: Bytes written.
    :param sha256: Hex SHA-256 of the bytes written.
    :param verified_against: What the bytes were checked against (``pdf-magic``, ``content-length``,
        ``vendor-sha256``).
    :param resumed: How many times the transfer resumed with a range request after a break.
    :param restarted: How many times the transfer restarted from zero after a break.
    :param document: The document as read while preparing the download, when the vendor needed a read.
    """

    size: int
    sha256: str
    verified_against: tuple[str, ...]
    resumed: int = 0
    restarted: int = 0
    document: DocumentInfo | None = None
