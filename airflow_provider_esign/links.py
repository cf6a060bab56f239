"""Operator extra link: open the document in the vendor's web app."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink

#: XCom key of the document's web URL, pushed by the send operator before anything waits.
DOCUMENT_URL_XCOM_KEY = "document_url"


class ESignDocumentLink(BaseOperatorLink):
    """Link to the sent document's page in the vendor's web app, where the vendor has one."""

    name = "E-Signature document"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.providers.common.compat.sdk import XCom

        return XCom.get_value(key=DOCUMENT_URL_XCOM_KEY, ti_key=ti_key) or ""
