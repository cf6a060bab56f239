"""WeSignature exactly-once sends at batch speed: one pre-send baseline per account and window, shared by
the processes of a host (SQLite) or by hosts (Redis), and still never adopting another send's document.
"""

from __future__ import annotations

import multiprocessing

import pytest
import requests

from airflow_provider_esign.exceptions import ESignApiError, ESignBadRequestError
from airflow_provider_esign.hooks.wesignature import BASELINE_KEY, WeSignatureHook, wire
from airflow_provider_esign.hooks.wesignature import ledger as ledger_module
from airflow_provider_esign.hooks.wesignature import ledgers as ledgers_module
from airflow_provider_esign.models import SendRequest, Signer
from tests.reliability import _wesignature_send_worker as worker

# ------------------------------------------------------------------ in one process, scripted vendor
BASE = "https://wesig.invalid/apihandler/"
LIST_URL, SEND_URL = BASE + "getsentdocumentsapi", BASE + "senddocumentapi"
FILE = "https://files.example.com/a/contract.pdf"
EMAIL = "jack@demo-mail.com"


def item(guid: str, name: str = "contract.pdf", status: str = "draft") -> dict:
    return {"guid": guid, "document_name": name, "document_status": status, "SignerMails": [{"email": EMAIL}]}


def listing(*items: dict) -> dict:
    return {"status": "success", "data": list(items)}


def created(guid: str) -> dict:
    return {
        "status": "success",
        "data": {"guid": guid, "signature_type": "they-sign", "document_status": "draft"},
    }


def request(name: str = "contract.pdf") -> SendRequest:
    return SendRequest(name="C", signers=[Signer("Jack", EMAIL)], file=f"https://files.example.com/a/{name}")


@pytest.fixture
def hook(make_connection, clock):
    make_connection("wes", "wesignature", host=BASE, user_id="u1", api_key="k1")
    return WeSignatureHook("wes", sleep=clock.sleep, clock=clock, backoff_base=0.01, create_settle_seconds=0)


class WallClock:
    def __init__(self) -> None:
        self.now = 5_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall(monkeypatch):
    clock = WallClock()
    monkeypatch.setattr(ledger_module.time, "time", clock)
    return clock


def test_a_batch_of_keyed_sends_lists_the_account_once_per_window(hook, requests_mock, wall):
    lists = requests_mock.post(LIST_URL, json=listing(item("old-1"), item("old-2", name="other.pdf")))
    sends = requests_mock.post(SEND_URL, [{"json": created(f"new-{i}")} for i in range(6)])
    for i in range(5):
        wall.now += 1
        hook.send_document(request(f"c{i}.pdf"), idempotency_key=f"key-{i}", checkpoint={})
    assert (lists.call_count, sends.call_count) == (1, 5)  # before: one whole-account list per send

    wall.now += ledger_module.DEFAULT_WINDOW  # the window is over: the next send takes a new snapshot
    hook.send_document(request("c5.pdf"), idempotency_key="key-5", checkpoint={})
    assert lists.call_count == 2


def test_shared_baseline_is_the_same_as_a_per_send_one(hook, requests_mock, wall):
    requests_mock.post(LIST_URL, json=listing(item("old-1"), item("old-2", name="other.pdf"), item("old-3")))
    requests_mock.post(SEND_URL, [{"json": created("new-a")}, {"json": created("new-b")}])
    first, second = {}, {}
    hook.send_document(request(), idempotency_key="a", checkpoint=first)
    hook.send_document(request("other.pdf"), idempotency_key="b", checkpoint=second)
    assert first[BASELINE_KEY] == ["old-1", "old-3"]
    assert second[BASELINE_KEY] == ["old-2"]


def test_window_zero_keeps_the_per_send_baseline(make_connection, requests_mock, clock):
    make_connection("wes0", "wesignature", host=BASE, user_id="u1", api_key="k1", baseline_window_seconds=0)
    hook = WeSignatureHook("wes0", sleep=clock.sleep, clock=clock)
    lists = requests_mock.post(LIST_URL, json=listing())
    requests_mock.post(SEND_URL, [{"json": created("n1")}, {"json": created("n2")}])
    hook.send_document(request("x.pdf"), idempotency_key="a", checkpoint={})
    hook.send_document(request("y.pdf"), idempotency_key="b", checkpoint={})
    assert lists.call_count == 2


def test_document_created_by_another_keyed_send_after_the_snapshot_is_never_adopted(
    hook, requests_mock, wall
):
    # Send "b" (same file, same signers) created "doc-b" after the snapshot "a" shares.
    requests_mock.post(
        LIST_URL, [{"json": listing(item("old"))}, {"json": listing(item("old"), item("doc-b"))}]
    )
    sends = requests_mock.post(
        SEND_URL,
        [
            {"json": created("doc-b")},
            {"exc": requests.exceptions.ConnectionError},
            {"json": created("doc-a")},
        ],
    )
    hook.send_document(request(), idempotency_key="b", checkpoint={})
    checkpoint: dict = {}
    doc = hook.send_document(request(), idempotency_key="a", checkpoint=checkpoint)
    assert doc.document_id == "doc-a"  # not doc-b: "a"'s create reached nothing and was sent again
    assert sends.call_count == 3
    assert checkpoint[BASELINE_KEY] == ["doc-b", "old"]


def test_unclaimed_match_while_an_identical_send_is_open_is_not_adopted(hook, requests_mock, wall):
    requests_mock.post(
        LIST_URL, [{"json": listing(item("old"))}, {"json": listing(item("old"), item("doc-x"))}]
    )
    sends = requests_mock.post(SEND_URL, exc=requests.exceptions.ReadTimeout)
    # Another process's send with the same fingerprint has begun (its create may have made doc-x).
    hook.settings  # noqa: B018
    hook._ledger().begin("other", wire.fingerprint_keys(wire.fingerprint(request()))[0], ["old"], wall.now)
    with pytest.raises(ESignApiError, match="still in progress"):
        hook.send_document(request(), idempotency_key="mine", checkpoint={})
    assert sends.call_count == 1  # neither adopted nor sent again


def test_two_sends_never_adopt_the_same_document(hook, requests_mock, wall):
    requests_mock.post(LIST_URL, json=listing(item("old"), item("doc-1")))
    requests_mock.post(SEND_URL, json=created("unused"))
    # Both retried tries find the same new match against the same baseline; only the first gets it.
    first = hook.send_document(
        request(), idempotency_key="k1", checkpoint={BASELINE_KEY: ["old"]}, adopt_existing=True
    )
    assert first.document_id == "doc-1"
    second = hook.send_document(
        request(), idempotency_key="k2", checkpoint={BASELINE_KEY: ["old"]}, adopt_existing=True
    )
    assert second.document_id == "unused"  # doc-1 is k1's: k2 sends its own


# ------------------------------------------------------------------ across processes, on the sandbox
def in_processes(*calls: tuple) -> list:
    """Run each ``(function, *args)`` in its own spawned process, one after the other."""
    context = multiprocessing.get_context("spawn")
    out = []
    with context.Pool(1) as pool:
        for function, *args in calls:
            out.append(pool.apply_async(function, args).get(timeout=120))
    return out


def lists_and_creates(sandbox) -> tuple[int, int]:
    routes = sandbox.stats()["routes"]
    count = lambda part: sum(v for k, v in routes.items() if part in k)  # noqa: E731
    return count("getsentdocumentsapi"), count("senddocumentapi")


@pytest.mark.e2e
def test_processes_share_one_baseline_and_a_retry_adopts_only_its_own_document(sandbox):
    sandbox.create_document("wesignature", name="contract.pdf", signers=worker.SIGNERS, status="sent")
    sandbox.queue_fault("500", vendor="wesignature", path_contains="senddocumentapi")
    # Process 1 sends "a" (its create answers 500 first: it looks, finds nothing of its own, sends
    # again); process 2 sends "b", whose answer is dropped after the vendor committed it.
    first = in_processes((worker.send, "a"))[0]
    sandbox.queue_fault("drop_after_commit", vendor="wesignature", path_contains="senddocumentapi")
    second = in_processes((worker.send, "b"))[0]

    documents = [d for d in sandbox.documents("wesignature") if not d["deleted"]]
    assert len(documents) == 3  # the old one, a's and b's: no duplicate
    assert first != second and {first, second} < {d["id"] for d in documents}
    lists, creates = lists_and_creates(sandbox)
    # One shared baseline, and one look after each ambiguous create (before: one baseline per send too).
    assert lists == 3 and creates == 3


@pytest.mark.e2e
def test_retry_after_a_crash_adopts_its_own_document_not_an_older_identical_one(sandbox):
    sandbox.configure(list_order="newest_first")
    sandbox.create_document("wesignature", name="contract.pdf", signers=worker.SIGNERS, status="sent")
    older = in_processes((worker.send, "older"))[0]  # an identical send of another task, in progress
    lost = in_processes((worker.create_then_die, "crashed"))[0]
    # The retry has no checkpoint (no task state store): the ledger still holds the crashed try's baseline.
    adopted = in_processes((worker.send, "crashed", True))[0]
    assert adopted == lost != older
    assert len([d for d in sandbox.documents("wesignature") if not d["deleted"]]) == 3


@pytest.fixture(scope="module")
def redis_url():
    from tests.deployment.services import redis_server

    with redis_server() as server:
        yield server.url


@pytest.mark.e2e
def test_hosts_share_the_baseline_through_redis(sandbox, monkeypatch, redis_url, tmp_path):
    monkeypatch.setenv(
        "AIRFLOW__ESIGN__RATELIMIT_STORAGE", redis_url
    )  # every connection's shared state goes to this Redis
    ledgers_module.forget_ledgers()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    # Each "host" has its own local state folder: only Redis is shared.
    results = []
    for host, key in (("h1", "r1"), ("h2", "r2")):
        monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_DIR", str(tmp_path / host))
        results += in_processes((worker.send, key))
    lists, creates = lists_and_creates(sandbox)
    assert (lists, creates) == (1, 2)
    assert len(set(results)) == 2


def test_a_refused_create_closes_its_intent(hook, requests_mock, wall):
    requests_mock.post(LIST_URL, json=listing(item("old")))
    requests_mock.post(SEND_URL, json={"status": "400", "message": "Parameters missing"})
    with pytest.raises(ESignBadRequestError):
        hook.send_document(request(), idempotency_key="refused", checkpoint={})
    fps = wire.fingerprint_keys(wire.fingerprint(request()))
    assert hook._ledger().others(fps, "someone-else", wall.now) == (set(), 0)  # nothing left open


def test_the_snapshot_is_written_in_batches_while_the_list_streams_in(hook, requests_mock, wall, monkeypatch):
    """Memory stays at one batch of the account, not the account: a batch is staged as it fills."""
    monkeypatch.setattr(ledger_module.SnapshotWriter, "BATCH", 10)
    staged: list[int] = []
    original = ledger_module.SQLiteLedger.stage
    monkeypatch.setattr(
        ledger_module.SQLiteLedger,
        "stage",
        lambda self, token, rows: (staged.append(len(rows)), original(self, token, rows)),
    )
    requests_mock.post(
        LIST_URL, json=listing(*[item(f"old-{i}", name=f"n{i}.pdf") for i in range(34)], item("mine"))
    )
    requests_mock.post(SEND_URL, json=created("new"))
    checkpoint: dict = {}
    hook.send_document(request(), idempotency_key="k", checkpoint=checkpoint)
    assert staged == [10, 10, 10, 5]
    assert checkpoint[BASELINE_KEY] == ["mine"]
    fps = wire.fingerprint_keys(wire.fingerprint(request("n3.pdf")))
    assert hook._ledger().baseline(fps, wall.now, 60) == ["old-3"]  # the whole account was published


# ------------------------------------------------------------------ the local ledger's writes
def test_a_keyed_send_writes_its_intent_and_its_claim_in_one_statement_each(hook, requests_mock, wall):
    """Per-send ledger cost: each write is one SQLite statement (its own atomic transaction), without
    BEGIN/COMMIT round trips; only the shared snapshot is written in a transaction."""
    requests_mock.post(LIST_URL, json=listing(item("old")))
    requests_mock.post(SEND_URL, json=created("new-1"))
    hook.send_document(request(), idempotency_key="warm", checkpoint={})  # takes the window's snapshot
    statements: list[str] = []
    hook._ledger()._conn.set_trace_callback(statements.append)
    try:
        requests_mock.post(SEND_URL, json=created("new-2"))
        hook.send_document(request("other.pdf"), idempotency_key="k", checkpoint={})
    finally:
        hook._ledger()._conn.set_trace_callback(None)
    writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 2, statements  # the intent, then the claim
    # Two reads: the window's snapshot (its stamp and this fingerprint's guids in one statement, so
    # they cannot come from two snapshots) and the other sends' claims.
    assert len(statements) == 4, statements
    assert not any(s.strip().upper().startswith(("BEGIN", "COMMIT")) for s in statements)
    assert hook._ledger().owned("k") == "new-2"


def test_a_hook_looks_its_ledger_up_once(hook, requests_mock, wall, monkeypatch):
    """The intent and the claim of a send, and the sends after it on the same hook, use the ledger the
    hook looked up first (no lookup per step)."""
    from airflow_provider_esign.hooks.wesignature import hook as hook_module

    lookups: list[str] = []
    real = hook_module.open_ledger

    def counting(account, storage, folder):
        lookups.append(account)
        return real(account, storage, folder)

    monkeypatch.setattr(hook_module, "open_ledger", counting)
    requests_mock.post(LIST_URL, json=listing(item("old")))
    requests_mock.post(SEND_URL, json=created("new-1"))
    hook.send_document(request(), idempotency_key="k1", checkpoint={})
    requests_mock.post(SEND_URL, json=created("new-2"))
    hook.send_document(request("other.pdf"), idempotency_key="k2", checkpoint={})
    assert len(lookups) == 1
    assert hook._ledger().owned("k1") == "new-1" and hook._ledger().owned("k2") == "new-2"
    # A forked child (another process id) looks its ledger up again: connections are not shared.
    monkeypatch.setattr(hook_module.os, "getpid", lambda: -1)
    assert hook._ledger().owned("k2") == "new-2"
    assert len(lookups) == 2


def test_a_guid_is_claimed_by_one_key_across_ledger_connections(tmp_path):
    """Two processes' connections to one ledger file: the first claim wins, atomically; the holder may
    claim again; the loser's intent stays unclaimed."""
    path = str(tmp_path / "ledger.sqlite3")
    one, two = ledger_module.SQLiteLedger(path), ledger_module.SQLiteLedger(path)
    two.begin("k2", "fp", ["old"], 10.0)
    assert one.claim("k1", "fp", "g", 11.0) is True
    assert two.claim("k2", "fp", "g", 12.0) is False
    assert one.claim("k1", "fp", "g", 13.0) is True  # its own claim again: no conflict
    assert two.owned("k2") is None and two.recorded_baseline("k2") == ["old"]
    assert two.others(["fp"], "k2", 14.0) == ({"g"}, 0)
    assert one.others(["fp"], "k1", 14.0) == (set(), 1)  # k2 is still open


def test_a_broken_ledger_after_the_create_does_not_fail_the_send(hook, requests_mock, wall, capfd):
    """The document exists once the create answered: a ledger write failing then (a locked or broken
    file) is reported, and the send returns its document instead of failing with it."""
    requests_mock.post(LIST_URL, json=listing(item("old")))
    requests_mock.post(SEND_URL, json=created("new"))
    hook.send_document(request(), idempotency_key="warm", checkpoint={})
    ledger = hook._ledger()

    class ClaimFails:
        """The ledger's SQLite connection, failing the claim's write."""

        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *args):
            if "guid = excluded.guid" in sql:
                raise ledger_module.sqlite3.OperationalError("database is locked")
            return self.conn.execute(sql, *args)

    real, ledger._conn = ledger._conn, ClaimFails(ledger._conn)
    try:
        requests_mock.post(SEND_URL, json=created("new-2"))
        doc = hook.send_document(request("other.pdf"), idempotency_key="k", checkpoint={})
    finally:
        ledger._conn = real
    assert doc.document_id == "new-2"
    logs = capfd.readouterr()
    assert "Could not record document new-2" in logs.out + logs.err
