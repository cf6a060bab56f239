"""Batch reads cost O(pending) at any account size, and hidden ids end as failures (requests-mock)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from airflow_provider_esign.hooks.batch import GONE, NEWEST_FIRST, OLDEST_FIRST, detect_order, timestamp
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.models import DocumentInfo, DocumentStatus

BASE = "https://esignbase.test"
LEGALESIGN = "https://legalesign.test/api/v1"
EPOCH = datetime(2021, 1, 1, tzinfo=timezone.utc)


class Account:
    """An eSignBase account of ``size`` documents (the last ``size`` created newest), served in ``order``."""

    def __init__(self, size: int, order: str) -> None:
        self.docs = [
            {
                "id": f"d{i}",
                "name": f"doc {i}",
                "status": "COMPLETED" if i < size - 1000 else "SENT",
                "ctime": (EPOCH + timedelta(minutes=i)).isoformat(),
                "recipients": [],
            }
            for i in range(size)
        ]
        self.order = order
        self.deleted: set[str] = set()
        self.list_calls = 0
        self.read_calls = 0

    def visible(self) -> list[dict]:
        docs = [d for d in self.docs if d["id"] not in self.deleted]
        return docs if self.order == OLDEST_FIRST else docs[::-1]

    def page(self, request, context):
        self.list_calls += 1
        query = parse_qs(urlparse(request.url).query)
        limit, offset = int(query["limit"][0]), int(query["offset"][0])
        docs = self.visible()
        return {"documents": docs[offset : offset + limit], "count": len(docs)}

    def read(self, request, context):
        self.read_calls += 1
        document_id = request.path.rsplit("/", 1)[-1]
        if document_id in self.deleted:
            context.status_code = 404
            return {"message": "not found"}
        return next(d for d in self.docs if d["id"] == document_id)

    def mock(self, requests_mock) -> Account:
        requests_mock.get(f"{BASE}/api/documents", json=self.page)
        requests_mock.get(re.compile(rf"{BASE}/api/document/[^/]+$"), json=self.read)
        return self

    @property
    def newest(self) -> list[str]:
        return [d["id"] for d in self.docs[::-1]]


@pytest.fixture
def hook(make_connection, clock, requests_mock):
    make_connection(
        "esignbase_default",
        "esignbase",
        host=BASE,
        login="client-id",
        password="client-secret-value",
        scopes="all",
    )
    requests_mock.post(f"{BASE}/oauth2/token", json={"access_token": "token"})
    return ESignBaseHook(sleep=clock.sleep, clock=clock)


@pytest.mark.parametrize("order", [NEWEST_FIRST, OLDEST_FIRST])
@pytest.mark.parametrize(
    ("size", "tracked", "limit"), [(10_000, 100, 2), (50_000, 100, 2), (50_000, 1000, 11)]
)
def test_batch_costs_what_the_batch_spans_not_the_account(hook, requests_mock, order, size, tracked, limit):
    account = Account(size, order).mock(requests_mock)
    ids = account.newest[:tracked]
    found = hook.get_documents(ids)
    assert set(found) == set(ids)
    assert account.list_calls + account.read_calls <= limit
    assert account.read_calls == 0


@pytest.mark.parametrize("order", [NEWEST_FIRST, OLDEST_FIRST])
def test_a_deleted_tracked_document_is_read_in_the_same_poll_and_reported_voided(hook, requests_mock, order):
    account = Account(5_000, order).mock(requests_mock)
    ids = account.newest[:100]
    account.deleted.add(ids[40])
    found = hook.get_documents(ids)
    assert found[ids[40]].status is DocumentStatus.VOIDED
    assert found[ids[40]].raw_status == GONE
    assert all(found[i].status is DocumentStatus.SENT for i in ids if i != ids[40])
    assert account.read_calls == 1
    assert account.list_calls <= 3


def test_one_pending_document_costs_one_read(hook, requests_mock):
    account = Account(50_000, NEWEST_FIRST).mock(requests_mock)
    found = hook.get_documents([account.newest[5]])
    assert found[account.newest[5]].status is DocumentStatus.SENT
    assert (account.list_calls, account.read_calls) == (0, 1)


def test_pending_documents_far_from_the_newest_end_are_read_one_by_one(hook, requests_mock):
    """Stragglers from weeks ago: walking to them would cost hundreds of pages."""
    account = Account(50_000, NEWEST_FIRST).mock(requests_mock)
    ids = [account.newest[20_000], account.newest[30_000], account.newest[40_000]]
    found = hook.get_documents(ids)
    assert set(found) == set(ids)
    assert account.list_calls + account.read_calls <= len(ids) + 1


def test_the_method_and_its_cost_are_logged(hook, requests_mock, caplog, capsys):
    """Oldest page (order and total), newest page, one page past the batch, then the deleted id."""
    account = Account(1_000, OLDEST_FIRST).mock(requests_mock)
    account.deleted.add(account.newest[0])
    with caplog.at_level("INFO"):
        hook.get_documents(account.newest[:50])
    expected = "list walk (oldest_first) + per-document reads: 4 call(s) (3 list page(s), 1 document read(s))"
    assert expected in caplog.text + capsys.readouterr().out


def test_async_batch_read_uses_the_same_plan(hook, requests_mock, monkeypatch):
    """The async driver walks the same pages and turns a 404 into VOIDED (flows run by the sync pipeline)."""
    account = Account(2_000, OLDEST_FIRST).mock(requests_mock)
    account.deleted.add("d1999")

    async def arun(flow):
        return hook.run_flow(flow)

    monkeypatch.setattr(hook, "arun_flow", arun)
    found = asyncio.run(hook.aget_documents(["d1999", "d1998", "d1990"]))
    assert found["d1999"].status is DocumentStatus.VOIDED
    assert found["d1998"].status is DocumentStatus.SENT
    assert (account.list_calls, account.read_calls) == (3, 1)  # oldest page, newest page, one past


class TestOrderDetection:
    def docs(self, *times):
        return [
            DocumentInfo(f"d{i}", "x", None, DocumentStatus.SENT, "s", created_at=t)
            for i, t in enumerate(times)
        ]

    def test_from_creation_times(self):
        assert detect_order(self.docs("2025-01-02T00:00:00", "2025-01-01T00:00:00")) == NEWEST_FIRST
        assert detect_order(self.docs("2025-01-01T00:00:00Z", "2025-01-01T00:00:01+00:00")) == OLDEST_FIRST
        assert detect_order(self.docs("2025-01-01T00:00:00", None, "2025-01-01T00:00:00")) == "unknown"
        assert detect_order(self.docs("not a time")) == "unknown"

    def test_timestamps_naive_read_as_utc(self):
        assert timestamp("2025-01-01T00:00:00") == timestamp("2025-01-01T00:00:00+00:00")
        assert timestamp(1735689600) == 1735689600.0
        assert timestamp("") is None


@pytest.fixture
def lhook(make_connection, clock):
    make_connection(
        "legalesign_default",
        "legalesign",
        host=LEGALESIGN,
        login="api-user",
        password="secret-api-key",
        group="acme",
    )
    return LegalesignHook(sleep=clock.sleep, clock=clock)


class TestLegalesign:
    def test_batch_list_includes_archived_documents_and_reads_from_an_offset(self, lhook, requests_mock):
        docs = [
            {
                "uuid": f"u{i}",
                "status": 40 if i == 149 else 10,
                "archived": i == 149,
                "created": (EPOCH + timedelta(minutes=i)).isoformat(),
            }
            for i in range(150)
        ]

        def page(request, context):
            query = parse_qs(urlparse(request.url).query)
            offset, limit = int(query["offset"][0]), int(query["limit"][0])
            return {
                "meta": {"total_count": 150, "next": "/api/v1/document/?offset=x"},
                "objects": docs[offset : offset + limit],
            }

        listing = requests_mock.get(f"{LEGALESIGN}/document/", json=page)
        found = lhook.get_documents(["u149", "u148"])
        assert found["u149"].status is DocumentStatus.VOIDED
        assert found["u148"].status is DocumentStatus.SENT
        queries = [parse_qs(r.query) for r in listing.request_history]
        assert all(q["archived"] == ["all"] for q in queries)
        assert [q["offset"] for q in queries] == [["0"], ["100"]]


class LegalesignAccount:
    """A Legalesign group of ``size`` documents, newest first; the newest ``open_`` are out for signing.

    Its clock is the test's clock shifted to the vendor's epoch: ``change`` stamps ``modified`` with it.
    """

    def __init__(self, size: int, open_: int, clock) -> None:
        self.clock = clock
        self.offset = (EPOCH + timedelta(days=1500)).timestamp() - clock()  # vendor minus our clock
        self.docs = [
            {
                "uuid": f"u{i}",
                "status": 10 if i >= size - open_ else 30,
                "download_final": True,
                "archived": False,
                "created": (EPOCH + timedelta(minutes=i)).isoformat(),
                "modified": (EPOCH + timedelta(minutes=i, seconds=30)).isoformat(),
            }
            for i in range(size)
        ]
        self.queries: list[dict] = []
        self.during_walk = None  # called once, while the second page of a poll is served

    def change(self, index: int, status: int) -> None:
        self.docs[index]["status"] = status
        self.docs[index]["download_final"] = status == 30  # signed, and the final PDF is ready
        now = datetime.fromtimestamp(self.clock() + self.offset, timezone.utc)
        self.docs[index]["modified"] = now.isoformat()

    def page(self, request, context):
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.queries.append(query)
        offset, limit = int(query.get("offset", 0)), int(query["limit"])
        if offset and self.during_walk:
            self.during_walk, during_walk = None, self.during_walk
            during_walk()
        docs = self.docs[::-1]
        if "modified_gt" in query:
            since = timestamp(query["modified_gt"])
            docs = [d for d in docs if timestamp(d["modified"]) > since]
        following = urlencode({**query, "offset": offset + limit})
        return {
            "meta": {
                "total_count": len(docs),
                "next": f"/api/v1/document/?{following}" if offset + limit < len(docs) else None,
            },
            "objects": docs[offset : offset + limit],
        }


class TestLegalesignChangesOnly:
    """After the first poll, a Legalesign batch asks only for documents changed since (modified_gt)."""

    @staticmethod
    def tracker(ids, clock):
        from airflow_provider_esign.conditions import BatchTracker, WaitCondition

        return BatchTracker(WaitCondition.of("COMPLETED"), ids, clock=clock)

    def test_later_polls_cost_one_call_whatever_the_batch_size(self, lhook, requests_mock, clock):
        account = LegalesignAccount(20_000, open_=1_000, clock=clock)
        requests_mock.get(f"{LEGALESIGN}/document/", json=account.page)
        tracker = self.tracker([f"u{i}" for i in range(19_000, 20_000)], clock)
        first = tracker.read(lhook)
        assert len(first.pending) == 1_000 and len(account.queries) <= 11
        assert all("modified_gt" not in q for q in account.queries)
        clock.now += 60
        account.change(19_500, 30)
        account.change(19_501, 40)  # voided: a failure
        account.queries.clear()
        second = tracker.read(lhook)
        assert len(account.queries) == 1 and "modified_gt" in account.queries[0]
        assert account.queries[0]["archived"] == "all"  # a voided document is archived
        assert second.done == ["u19500"] and list(second.failed) == ["u19501"]
        assert len(second.pending) == 998
        assert second.documents["u19999"]["status"] == "SENT"  # unchanged: the last answer stands

    def test_a_change_made_while_the_previous_poll_walked_the_list_is_seen(self, lhook, requests_mock, clock):
        account = LegalesignAccount(1_000, open_=300, clock=clock)
        requests_mock.get(f"{LEGALESIGN}/document/", json=account.page)
        account.change(998, 10)  # touched just now: the vendor's clock is known to the second
        account.during_walk = lambda: account.change(999, 30)  # its page was already read
        tracker = self.tracker([f"u{i}" for i in range(700, 1_000)], clock)
        assert "u999" in tracker.read(lhook).pending
        clock.now += 120  # two poll intervals later: a window from this poll's start would miss it
        account.queries.clear()
        progress = tracker.read(lhook)
        assert "modified_gt" in account.queries[0]
        assert progress.done == ["u999"]

    def test_every_tenth_poll_reads_every_pending_id(self, lhook, requests_mock, clock):
        """A permanent delete changes nothing a change list shows: the full read finds it."""
        account = LegalesignAccount(500, open_=200, clock=clock)
        requests_mock.get(f"{LEGALESIGN}/document/", json=account.page)
        requests_mock.get(re.compile(rf"{LEGALESIGN}/document/u\d+/$"), status_code=404, json={})
        tracker = self.tracker([f"u{i}" for i in range(300, 500)], clock)
        tracker.read(lhook)
        del account.docs[350]  # u350 is deleted for good
        kinds = []
        for _ in range(tracker.FULL_READ_EVERY):
            clock.now += 60
            account.queries.clear()
            progress = tracker.read(lhook)
            kinds.append("changes" if any("modified_gt" in q for q in account.queries) else "full")
        assert kinds == ["changes"] * (tracker.FULL_READ_EVERY - 1) + ["full"]
        assert list(progress.failed) == ["u350"]  # 404 on its own read: VOIDED, never pending


class TestBoundedLookup:
    """A retried eSignBase send finds (or rules out) its earlier attempt in at most 3 calls."""

    KEY = "af-0123456789abcdef"

    def send(self, hook, requests_mock, account, first_attempt):
        from airflow_provider_esign.models import SendRequest, Signer

        requests_mock.get(f"{BASE}/api/template/tpl-1", json={"id": "tpl-1", "form_role_names": ["signee_1"]})
        created = requests_mock.post(
            f"{BASE}/api/document", json={"document_id": "new-doc", "status": "DRAFT"}
        )
        request = SendRequest(
            name="Contract",
            signers=(Signer(name="A B", email="a@example.com", role="signee_1"),),
            template_id="tpl-1",
        )
        checkpoint = {"first_attempt_at": first_attempt.isoformat()}
        document = hook.send_document(
            request, idempotency_key=self.KEY, checkpoint=checkpoint, adopt_existing=True
        )
        return document, created.call_count

    @pytest.mark.parametrize("order", [NEWEST_FIRST, OLDEST_FIRST])
    @pytest.mark.parametrize("size", [1_000, 50_000])
    def test_the_earlier_attempt_is_adopted(self, hook, requests_mock, order, size):
        account = Account(size, order)
        account.docs[-3]["user_defined_metadata"] = {"airflow_idempotency_key": self.KEY}
        account.mock(requests_mock)
        run_start = EPOCH + timedelta(minutes=size - 5)
        document, creates = self.send(hook, requests_mock, account, run_start)
        assert document.document_id == f"d{size - 3}"
        assert creates == 0
        assert account.list_calls <= 3

    @pytest.mark.parametrize("order", [NEWEST_FIRST, OLDEST_FIRST])
    def test_no_earlier_attempt_is_ruled_out_without_walking_the_account(self, hook, requests_mock, order):
        account = Account(50_000, order).mock(requests_mock)
        document, creates = self.send(hook, requests_mock, account, EPOCH + timedelta(minutes=50_000 + 90))
        assert document.document_id == "new-doc"
        assert creates == 1
        assert account.list_calls <= 3

    def test_without_a_bound_the_whole_list_is_searched(self, hook, requests_mock):
        """No first-attempt time known (a direct hook call): correctness over cost."""
        account = Account(1_000, OLDEST_FIRST)
        account.docs[0]["user_defined_metadata"] = {"airflow_idempotency_key": self.KEY}
        account.mock(requests_mock)
        found = hook.run_flow(hook.find_sent_flow(None, self.KEY, {}))
        assert found.document_id == "d0"


class TestWatcherBound:
    """The eSignBase watcher reads the list's newest end only, down to what can still complete."""

    @staticmethod
    def polls(hook, monkeypatch, trigger=None):
        """A function running one watcher poll (sync HTTP under requests-mock) from a cursor."""
        from airflow_provider_esign.triggers.events import DocumentCompletedEventTrigger

        async def arun(flow):
            return hook.run_flow(flow)

        monkeypatch.setattr(hook, "arun_flow", arun)
        trigger = trigger or DocumentCompletedEventTrigger(conn_id="esignbase_default")
        return lambda cursor: asyncio.run(trigger.poll(hook, cursor))

    @staticmethod
    def complete(account, index: int, minutes: int) -> None:
        account.docs[index]["status"] = "COMPLETED"
        account.docs[index]["completed_date"] = (EPOCH + timedelta(days=5 * 365, minutes=minutes)).isoformat()

    @pytest.mark.parametrize("order", [NEWEST_FIRST, OLDEST_FIRST])
    def test_by_default_a_poll_reads_down_to_the_oldest_open_document(
        self, hook, requests_mock, monkeypatch, order
    ):
        account = Account(50_000, order).mock(requests_mock)  # the newest 1,000 are open (SENT)
        poll = self.polls(hook, monkeypatch)
        baseline, announced = poll(None)
        # This mock sends no Date header, so the baseline cannot start from the vendor's time: after that
        # one probe it reads the account once (tests/e2e/test_watcher_scale.py covers the Date path).
        assert announced == [] and account.list_calls == 1 + 500
        assert baseline.horizon == timestamp(account.docs[49_000]["ctime"])
        self.complete(account, 49_000, 1)  # the oldest open one completes
        account.list_calls = 0
        cursor, announced = poll(baseline)
        assert [p["document_id"] for p in announced] == ["d49000"]
        assert account.list_calls <= 1_000 // 100 + 2  # the open stretch, plus the oldest page oldest-first
        assert cursor.horizon == timestamp(account.docs[49_001]["ctime"])  # moved up to the next open one

    def test_an_old_open_document_keeps_the_walk_long_enough_to_see_it_complete(
        self, hook, requests_mock, monkeypatch
    ):
        account = Account(20_000, NEWEST_FIRST).mock(requests_mock)
        account.docs[2_000]["status"] = "SENT"  # a straggler from years ago, still out for signature
        poll = self.polls(hook, monkeypatch)
        baseline, _ = poll(None)
        assert baseline.horizon == timestamp(account.docs[2_000]["ctime"])
        self.complete(account, 2_000, 1)
        cursor, announced = poll(baseline)
        assert [p["document_id"] for p in announced] == ["d2000"]
        assert cursor.horizon == timestamp(account.docs[19_000]["ctime"])  # now the recent open stretch

    def test_without_open_documents_the_walk_stops_at_the_newest_end(self, hook, requests_mock, monkeypatch):
        account = Account(10_000, NEWEST_FIRST)
        for d in account.docs:
            d["status"] = "COMPLETED"
        account.mock(requests_mock)
        poll = self.polls(hook, monkeypatch)
        baseline, _ = poll(None)
        new = {"id": "fresh", "name": "n", "status": "COMPLETED", "recipients": [],
               "ctime": (EPOCH + timedelta(days=5 * 365)).isoformat(),
               "completed_date": (EPOCH + timedelta(days=5 * 365, minutes=3)).isoformat()}  # fmt: skip
        account.docs.append(new)  # created and completed between two polls
        account.list_calls = 0
        _, announced = poll(baseline)
        assert [p["document_id"] for p in announced] == ["fresh"]
        assert account.list_calls == 1

    @pytest.mark.parametrize("order", [NEWEST_FIRST, OLDEST_FIRST])
    def test_recent_listing_stops_at_the_creation_bound(self, hook, requests_mock, monkeypatch, order):
        account = Account(50_000, order).mock(requests_mock)

        async def arun(flow):
            return hook.run_flow(flow)

        monkeypatch.setattr(hook, "arun_flow", arun)
        since = timestamp(account.docs[-150]["ctime"])  # the newest 150 documents are in the window

        async def listed():
            return [d.document_id async for d in hook.alist_documents_since(since)]

        ids = asyncio.run(listed())
        assert {f"d{i}" for i in range(50_000 - 150, 50_000)} <= set(ids)
        assert account.list_calls <= 4  # ceil(150 / 100) + 1, plus the oldest page when oldest-first

    def test_the_watcher_keeps_its_identity_unless_the_bound_is_set(self):
        from airflow_provider_esign.triggers.events import DocumentCompletedEventTrigger

        plain = DocumentCompletedEventTrigger(conn_id="esignbase_default").serialize()[1]
        assert "max_document_age" not in plain
        bounded = DocumentCompletedEventTrigger(conn_id="esignbase_default", max_document_age=86400 * 30)
        assert bounded.serialize()[1]["max_document_age"] == 86400 * 30
        assert DocumentCompletedEventTrigger(**bounded.serialize()[1]).serialize() == bounded.serialize()
