"""
The authorise → find → 404 preamble of every Legalesign endpoint, as FastAPI dependencies.

Legalesign authenticates every call with ``Authorization: ApiKey <username>:<secret>`` and answers 401 with
an empty body (Tastypie); an unknown id is a 404. A dependency raises :class:`Rejected` with that answer,
so route bodies only ever see an authorised request and an existing resource. Every router carries
``authorise`` as a router-level dependency, which FastAPI runs before the ``find_*`` ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request

from esign_sandbox.credentials import same_secret
from esign_sandbox.legalesign.models import VENDOR
from esign_sandbox.legalesign.responses import not_found, unauthorised
from esign_sandbox.models import Document
from esign_sandbox.responses import Rejected, json_response
from esign_sandbox.state import SandboxState


class Deps:
    """
    Dependencies bound to one sandbox state.

    :param state: the sandbox state.
    """

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.auth = Depends(self.authorise)
        self.document = Depends(self.find_document)
        #: ``GET /pdf/{id}/`` answers its 404 with a JSON error body.
        self.pdf_document = Depends(self.find_pdf_document)
        self.signer = Depends(self.find_signer)
        self.templatepdf = Depends(self.find_templatepdf)
        self.attachment = Depends(self.find_attachment)

    def authorise(self, request: Request) -> None:
        """:raises Rejected: 401 unless the ``ApiKey`` header matches."""
        config = self.state.config
        expected = f"ApiKey {config.legalesign_username}:{config.legalesign_secret}"
        if not same_secret(request.headers.get("authorization", ""), expected):
            raise Rejected(unauthorised())

    def _found(self, value: Any, missing: Callable[[], Any] = not_found) -> Any:
        if value is None:
            raise Rejected(missing())
        return value

    def find_document(self, doc_id: str) -> Document:
        """:return: the (refreshed) document ``doc_id``; 404 otherwise."""
        return self._found(self.state.get(VENDOR, doc_id))

    def find_pdf_document(self, doc_id: str) -> Document:
        """:return: the document, with a JSON 404 body when unknown."""
        return self._found(
            self.state.get(VENDOR, doc_id), lambda: json_response({"error": "Document not found."}, 404)
        )

    def find_signer(self, signer_id: str) -> tuple[Document, int]:
        """:return: ``(document, signer index)``; 404 otherwise."""
        return self._found(self.state.find_signer(VENDOR, signer_id))

    def find_templatepdf(self, pdf_id: str) -> dict[str, Any]:
        """:return: the template record; 404 otherwise."""
        return self._found(self.state.templatepdfs.get(pdf_id))

    def find_attachment(self, attachment_id: str) -> dict[str, Any]:
        """:return: the attachment record; 404 otherwise."""
        return self._found(self.state.attachments.get(attachment_id))
