"""Scheduled batch: one contract per CSV row, sent, waited for and stored, then a signing summary.

Run it against any vendor by choosing the connection (and, for your own account, the document
source) in the run's params::

    airflow dags test esign_batch_contracts -c '{"conn_id": "legalesign_default"}'

Document sources per connection type (edit ``DOCUMENT_SOURCES`` or pass ``template_id`` / ``file``):
eSignBase sends from a template, Legalesign uploads the PDF shipped beside this file, WeSignature
fetches a public URL.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

DATA = Path(__file__).parent / "data"
#: Default document source per connection id; the sandbox knows these, your account needs its own.
DOCUMENT_SOURCES = {
    "esignbase_default": {"template_id": "tpl-nda"},
    "legalesign_default": {"file": str(DATA / "sample_agreement.pdf")},
    "wesignature_default": {"file": "https://example.com/contracts/sample_agreement.pdf"},
}
POLL_SECONDS = float(os.environ.get("ESIGN_EXAMPLE_POLL_SECONDS", "60"))


def wait_kwargs(pair: tuple) -> dict:
    """A wait per sent document, named after its CSV row."""
    document_id, row = pair
    return {"document_id": document_id, "document_name": row["document_name"]}


def store_kwargs(pair: tuple) -> dict:
    """A store per signed document: named after its CSV row, in a file named after it too."""
    document, row = pair
    slug = re.sub(r"[^A-Za-z0-9]+", "-", row["document_name"]).strip("-").lower()
    return {
        "document_id": document["document_id"],
        "document_name": row["document_name"],
        "filename": f"{slug}-{{document_id}}.pdf",  # the id keeps two rows with one name apart
    }


@dag(
    schedule="0 7 * * 1-5",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "conn_id": Param(
            "esignbase_default",
            type="string",
            title="Connection",
            description="The e-signature connection; its type picks the vendor.",
            examples=sorted(DOCUMENT_SOURCES),
        ),
        "recipients_csv": Param(
            str(DATA / "contracts.csv"),
            type="string",
            title="Recipients CSV",
            description="One contract per row: contract, company, name, email.",
        ),
        "template_id": Param(
            None,
            type=["null", "string"],
            title="Template id",
            description="Overrides the connection's default document source (eSignBase / Legalesign).",
        ),
        "file": Param(
            None,
            type=["null", "string"],
            title="File",
            description="Overrides the default source: a PDF path (Legalesign) or public URL (WeSignature).",
        ),
        "destination": Param(
            os.environ.get("ESIGN_EXAMPLE_DESTINATION", "/tmp/esign/signed"),
            type="string",
            title="Destination",
            description="Folder or object-storage URL (s3://bucket/signed/) for the signed PDFs.",
        ),
    },
    tags=["esign", "example"],
)
def esign_batch_contracts():
    @task
    def read_recipients(params=None) -> list[dict]:
        """One send per CSV row, with the run's document source."""
        source = {key: params[key] for key in ("template_id", "file") if params.get(key)}
        source = source or DOCUMENT_SOURCES.get(params["conn_id"], {})
        with open(params["recipients_csv"], newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            {
                "document_name": f"{row['contract']} - {row['company']}",
                "signers": [{"name": row["name"], "email": row["email"]}],
                "metadata": {"company": row["company"]} if params["conn_id"].startswith("esignbase") else {},
                **source,
            }
            for row in rows
        ]

    recipients = read_recipients()
    send = SendDocumentOperator.partial(
        task_id="send",
        conn_id="{{ params.conn_id }}",
        max_active_tis_per_dagrun=4,  # with the connection's rate limit, keeps a batch under quota
    ).expand_kwargs(recipients)

    # Each wait and each store is named after its CSV row (in the UI's map index and, for the store,
    # the file name): some vendors keep no document name of their own (WeSignature names a document
    # after its file URL). The sends' ids and the rows line up by map index.
    wait = DocumentStatusSensor.partial(
        task_id="wait_signed",
        conn_id="{{ params.conn_id }}",
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=pendulum.duration(days=14).total_seconds(),
    ).expand_kwargs(send.output.zip(recipients).map(wait_kwargs))

    store = DownloadDocumentOperator.partial(
        task_id="store",
        conn_id="{{ params.conn_id }}",
        destination="{{ params.destination }}",
    ).expand_kwargs(wait.output.zip(recipients).map(store_kwargs))

    @task
    def summary(documents: list[dict], paths: list[str], rows: list[dict]) -> dict:
        """Log who signed what, and where the signed PDF is; names come from the CSV rows."""
        # Slices read each mapped list in one call; iterating would ask for one item past the end
        # and log a misleading "XCom not found ... offset=N".
        documents, paths, rows = documents[:], paths[:], rows[:]
        lines = [f"{'document':<40} {'signer':<22} {'email':<26} {'status':<10} stored at"]
        signed = 0
        for document, path, row in zip(documents, paths, rows, strict=True):
            names = {s["email"].lower(): s["name"] for s in row["signers"]}
            for signer in document["signers"]:
                name = signer["name"] or names.get(signer["email"].lower(), "")
                signed += signer["status"] == "SIGNED" or document["status"] in ("SIGNED", "COMPLETED")
                lines.append(
                    f"{row['document_name'][:40]:<40} {name[:22]:<22} "
                    f"{signer['email'][:26]:<26} {signer['status']:<10} {path}"
                )
        print("\n".join(lines))
        return {"sent": len(documents), "signatures": signed, "stored": len(paths)}

    summary(wait.output, store.output, recipients)


esign_batch_contracts()
