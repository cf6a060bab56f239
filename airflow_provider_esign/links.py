"""Operator extra link: open the document in the vendor's web app, where the vendor has such a page."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink

#: XCom key of the document's web URL, pushed by the send operator once the document exists.
DOCUMENT_URL_XCOM_KEY = "document_url"
#: Attribute the send operator sets on itself while it runs: the URL, or "" when there is none.
DOCUMENT_URL_ATTRIBUTE = "esign_document_url"


class ESignDocumentLink(BaseOperatorLink):
    """Link to the sent document's page in the vendor's web app (WeSignature's ``edit_link``).

    Airflow 3 computes the link once, in the worker, right after the task ran (success or failure),
    and stores it for the UI; an empty link is served as ``null`` and the UI shows no button. The
    link therefore comes from the operator that just ran, not from an XCom lookup: a send that
    failed before a document existed has no URL, and looking one up would only log a misleading
    ``XCom not found key='document_url'`` error.
    """

    name = "E-Signature document"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return str(getattr(operator, DOCUMENT_URL_ATTRIBUTE, None) or "")
