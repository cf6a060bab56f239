"""The Contracts page at 10,000 tracked documents: server time of its JSON, vendor calls per view.

Setup: one real send batch (``benchmarks/dags/contracts_batch.py``, ``dag.test()`` against the sandbox)
gives a real DAG, DAG version, run, task instances and send records; its rows are cloned into 100 DAG
runs x 100 mapped send tasks (10,000 records, smoke: 2 x 100) in this run's SQLite metadata DB. The
sandbox account holds the documents they name: a history of finished ones (90% completed, 5% voided,
5% declined) and 3% still out for signature.

Both endpoints are served by Airflow's own API app (``airflow.api_fastapi.app.create_app``, the
provider's plugin mounted as in ``airflow api-server``), called in-process with an admin JWT:

* page JSON: ``GET /esign-contracts/api/documents`` for the default view, a status filter, a text
  search and a deep page (the median of each kind; the slowest kind is the figure). Target < 300 ms.
  Baseline: Airflow's task-instance list for the same DAG runs
  (``GET /api/v2/dags/contracts_bench/dagRuns/~/taskInstances?limit=50``), measured the same way.
* vendor calls per page view with a warm cache (after the first view's batch read finished), counted
  at the sandbox across all the measured views. Target 0. Baseline: the first (cold) view's one batch
  read of every document not known to be finished.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import statistics
import time
import uuid
from typing import Any

from benchmarks.common import REPO, Result, SandboxProcess, Sizes, StatsDelta, set_connections

DAG_FILE = REPO / "benchmarks" / "dags" / "contracts_batch.py"
DAG_ID = "contracts_bench"
PER_RUN = 100
PENDING_SHARE = 0.03
VIEWS = {
    "default": {},
    "status filter": {"status": "IN_FLIGHT"},
    "text search": {"q": "ada17"},
    "deep page": {"sort": "name"},  # the last page but one (set in run())
}


def _run_template_batch() -> None:
    from airflow.utils import db

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    db.resetdb()
    # dag.test() records the DAG through the DAGs-folder bundle: the file must be in that folder.
    folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    shutil.copy(DAG_FILE, folder)
    bag = DagBag(dag_folder=os.path.join(folder, DAG_FILE.name))
    run = bag.dags[DAG_ID].test()
    if run.state != "success":
        raise RuntimeError(f"the template batch failed: {run.state}")


def _seed(documents: list[tuple[str, str]], signer_of: dict[str, str]) -> int:
    """Clone the template run into ``len(documents) / PER_RUN`` runs of ``PER_RUN`` send records."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete, insert, select

    from airflow_provider_esign.contracts import CONTRACT_XCOM_KEY

    with create_session() as session:
        run_row = session.execute(select(DagRun.__table__).where(DagRun.dag_id == DAG_ID)).mappings().one()
        ti_row = (
            session.execute(select(TaskInstance.__table__).where(TaskInstance.map_index == 0))
            .mappings()
            .one()
        )
        xcom_row = (
            session.execute(
                select(XComModel.__table__).where(
                    XComModel.key == CONTRACT_XCOM_KEY, XComModel.map_index == 0
                )
            )
            .mappings()
            .one()
        )
        template = dict(xcom_row["value"]) if isinstance(xcom_row["value"], dict) else None
        if template is None:
            template = json.loads(xcom_row["value"])
        runs = (len(documents) + PER_RUN - 1) // PER_RUN
        for number in range(runs):
            run = {k: v for k, v in run_row.items() if k != "id"}
            run_id = f"bench__{number:04d}"
            run.update(run_id=run_id, logical_date=None)
            run_pk = session.execute(insert(DagRun.__table__).values(**run)).inserted_primary_key[0]
            tis, xcoms = [], []
            for index, (document_id, status) in enumerate(
                documents[number * PER_RUN : (number + 1) * PER_RUN]
            ):
                ti = dict(ti_row)
                # The id's Python type as this Airflow's column gives it (a UUID on 3.3, a str on 3.1).
                new_id = uuid.uuid4()
                ti.update(id=new_id if isinstance(ti_row["id"], uuid.UUID) else str(new_id))
                ti.update(run_id=run_id, map_index=index)
                tis.append(ti)
                value = copy.deepcopy(template)
                email = signer_of[document_id]
                value.update(
                    document_id=document_id,
                    name=f"Contract {number * PER_RUN + index} - {email.split('@')[0]}",
                    signers=[{"name": "Ada Lovelace", "email": email}],
                    status=status,
                )
                row = dict(xcom_row)
                row.update(dag_run_id=run_pk, run_id=run_id, map_index=index, value=value)
                xcoms.append(row)
            session.execute(insert(TaskInstance.__table__), tis)
            session.execute(insert(XComModel.__table__), xcoms)
        # The template's own records go: the page lists exactly the seeded documents.
        session.execute(
            delete(XComModel.__table__).where(
                XComModel.key == CONTRACT_XCOM_KEY, XComModel.run_id == run_row["run_id"]
            )
        )
        session.commit()
    return runs


def _timed(client: Any, url: str, headers: dict[str, str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    return times


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    from urllib.parse import urlencode

    client_ctl = sandbox.fresh(sign_delay=None, send_delay=0, pdf_delay=0)
    set_connections(sandbox.url, rate_limit_per_minute=0)
    _run_template_batch()

    # The documents the records name: a finished history, plus the ones still out for signature.
    total = sizes.contracts
    pending = max(1, int(total * PENDING_SHARE))
    template_ids = {d["id"] for d in client_ctl.documents("esignbase")}
    client_ctl.seed_history(total - pending, vendors=["esignbase"])
    signer_of: dict[str, str] = {}
    documents: list[tuple[str, str]] = []
    history = [d for d in client_ctl.documents("esignbase") if d["id"] not in template_ids]
    for number, doc in enumerate(history):
        documents.append((doc["id"], "SENT"))  # at send time every document was out for signature
        signer_of[doc["id"]] = f"ada{number}@example.com"
    for number in range(pending):
        email = f"pending{number}@example.com"
        doc = client_ctl.create_document(
            "esignbase", signers=[{"name": "Ada Lovelace", "email": email}], status="sent"
        )
        documents.append((doc["id"], "SENT"))
        signer_of[doc["id"]] = email
    runs = _seed(documents, signer_of)

    # A passwords file of our own: the simple auth manager would otherwise generate one and print it.
    passwords = os.path.join(workdir, "simple_auth_passwords.json")
    with open(passwords, "w") as handle:
        json.dump({"admin": uuid.uuid4().hex}, handle)
    os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = passwords

    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    app = create_app()
    http = TestClient(app)
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
    headers = {"Authorization": f"Bearer {token}"}
    page_url = "/esign-contracts/api/documents"

    # The first view starts the batch read of every document not known to be finished; wait for it.
    with StatsDelta(client_ctl, "esignbase") as cold:
        deadline = time.monotonic() + 600
        while True:
            body = http.get(page_url, headers=headers).json()
            connection = body["connections"][0]
            if not connection["refreshing"] and connection["age_seconds"] is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the first batch read did not finish: {connection}")
            time.sleep(0.5)
    if body["total"] != total:
        raise RuntimeError(f"the page lists {body['total']} documents, {total} were seeded")

    repeats = 5 if sizes.smoke else 15
    medians: dict[str, float] = {}
    views_params = {**VIEWS, "deep page": {"sort": "name", "page": str(max(1, total // 50 - 1))}}
    with StatsDelta(client_ctl, "esignbase") as warm:
        for kind, params in views_params.items():
            url = page_url + ("?" + urlencode(params) if params else "")
            medians[kind] = statistics.median(_timed(http, url, headers, repeats))
    views = repeats * len(VIEWS)
    baseline = statistics.median(
        _timed(http, f"/api/v2/dags/{DAG_ID}/dagRuns/~/taskInstances?limit=50", headers, repeats)
    )
    slowest = max(medians, key=lambda k: medians[k])
    size = f"{total:,} tracked documents"
    timing = ", ".join(f"{k} {v:.0f} ms" for k, v in medians.items())
    return [
        Result(
            figure=f"Contracts page JSON server time, {size}",
            value=round(medians[slowest], 1),
            unit="ms (median, slowest view kind)",
            baseline=round(baseline, 1),
            target="< 300 ms",
            passed=medians[slowest] < 300,
            baseline_label="Airflow's task-instance list, same runs",
            note=(
                f"{runs} DAG runs x up to {PER_RUN} mapped sends in SQLite; {repeats} views per kind, "
                f"in-process through Airflow's API app with an admin JWT: {timing}; the task-instance "
                "list is GET /api/v2/dags/contracts_bench/dagRuns/~/taskInstances?limit=50"
            ),
        ),
        Result(
            figure=f"Contracts page vendor calls per view, warm cache, {size}",
            value=warm.requests / views,
            unit="calls per view",
            baseline=cold.requests,
            target="0",
            passed=warm.requests == 0,
            baseline_label="the first view's one batch read",
            note=(
                f"{views} views (4 kinds, {repeats} each) within the refresh interval; the first view read "
                f"the {total:,} documents not known to be finished in {cold.requests} calls "
                f"({pending} stay open and are read again once per interval)"
            ),
        ),
    ]
