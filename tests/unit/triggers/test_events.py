"""DocumentCompletedEventTrigger: announce each newly completed document exactly once.

Scripted fake hooks drive the cursor through baselines, bursts, restarts and failures without any real
waiting (the trigger's sleep is replaced); the sandbox tests run the same trigger through the real vendor
hooks over HTTP.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_esign.exceptions import ESignServerError
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo, SignerStatus
from airflow_provider_esign.triggers.events import (
    CompletionCursor,
    DocumentCompletedEventTrigger,
)

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


def at(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def doc(document_id, minutes=None, *, status=DocumentStatus.COMPLETED, vendor="esignbase", **kwargs):
    return DocumentInfo(
        document_id=document_id,
        vendor=vendor,
        name=f"Contract {document_id}",
        status=status,
        raw_status=status.value,
        signers=[SignerInfo(email=f"{document_id}@example.com", name="Ann Lee", status=SignerStatus.SIGNED)],
        completed_at=at(minutes) if minutes is not None else None,
        **kwargs,
    )


class Stop(BaseException):
    """Ends a trigger's run() from its sleep (like a cancellation would)."""


class FakeHook:
    """A vendor whose document list the test edits between polls."""

    def __init__(self, vendor="esignbase"):
        self.vendor = vendor
        self.documents: dict[str, DocumentInfo] = {}
        self.details: dict[str, DocumentInfo] = {}
        self.list_filters: list[dict] = []
        self.gets: list[str] = []
        self.failures = 0

    def add(self, *documents):
        for d in documents:
            self.documents[d.document_id] = d

    async def alist_documents(self, **filters):
        self.list_filters.append(filters)
        if self.failures:
            self.failures -= 1
            raise ESignServerError("boom", conn_id="c", operation="list_documents", status_code=503)
        for d in list(self.documents.values()):
            yield d

    async def aget_document(self, document_id):
        self.gets.append(document_id)
        return self.details.get(document_id, self.documents[document_id])

    async def aserver_time(self):
        # No Date header: the baseline lists the account (what these cursor tests exercise).
        return None


class FakeStore:
    """The asset state store accessor: JSON values per key (round-tripped like the real one)."""

    def __init__(self):
        self.values: dict[str, str] = {}
        self.fail_reads = 0
        self.fail_writes = 0
        self.writes = 0

    async def aget(self, key, default=None):
        if self.fail_reads:
            self.fail_reads -= 1
            raise RuntimeError("state store unavailable")
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key, value):
        if self.fail_writes:
            self.fail_writes -= 1
            raise RuntimeError("state store unavailable")
        self.writes += 1
        self.values[key] = json.dumps(value)


@pytest.fixture
def hook(monkeypatch):
    fake = FakeHook()

    async def aget_hook(conn_id, **params):
        return fake

    monkeypatch.setattr("airflow_provider_esign.hooks.aget_hook", aget_hook)
    return fake


def make_trigger(store=None, **kwargs):
    trigger = DocumentCompletedEventTrigger(conn_id="esignbase_default", poll_interval=30, **kwargs)
    if store is not None:
        trigger.asset_state_store = store
    return trigger


async def drive(trigger, script, *, polls):
    """Run the trigger for ``polls`` polls; before poll n+1, ``script[n]()`` (if any) changes the vendor.

    Returns the ids of the events per poll and the sleeps asked for.
    """
    per_poll: list[list[str]] = [[]]
    sleeps: list[float] = []

    async def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) >= polls:
            raise Stop
        if len(sleeps) <= len(script) and script[len(sleeps) - 1]:
            script[len(sleeps) - 1]()
        per_poll.append([])

    trigger._sleep = sleep
    with pytest.raises(Stop):
        async for event in trigger.run():
            per_poll[-1].append(event.payload["document_id"])
    return per_poll, sleeps


# ------------------------------------------------------------------------------------------ the trigger
async def test_first_poll_is_a_baseline_then_each_completion_once(hook):
    hook.add(doc("old1", 0), doc("old2", 1), doc("pending", status=DocumentStatus.SENT))

    def burst():  # three complete between two polls, one of them the formerly pending one
        hook.add(doc("new1", 10), doc("new3", 12), doc("pending", 11))

    def nothing_new():
        pass

    def one_more():
        hook.add(doc("new4", 20))

    per_poll, sleeps = await drive(make_trigger(), [burst, nothing_new, one_more], polls=5)
    assert per_poll == [[], ["new1", "pending", "new3"], [], ["new4"], []]
    assert sleeps == [30.0] * 5


async def test_with_the_vendors_time_the_baseline_reads_no_list(hook, monkeypatch):
    """The baseline costs one clock call whatever the account holds; later polls still announce."""
    hook.add(doc("old1", 0), doc("old2", 1), doc("same_second", 5))
    vendor_now = (T0 + dt.timedelta(minutes=5)).timestamp()  # the Date header: whole seconds

    async def aserver_time():
        return vendor_now

    monkeypatch.setattr(hook, "aserver_time", aserver_time)
    monkeypatch.setattr(hook, "list_at_offset", False, raising=False)  # no newest-end reads here

    def burst():
        hook.add(doc("new1", 10))

    per_poll, _ = await drive(make_trigger(), [burst], polls=2)
    assert hook.list_filters[:1] == [{}]  # one listing: the second poll's, none for the baseline
    assert len(hook.list_filters) == 1
    # Completed in the second the Date names: maybe after the start, so announced (never lost).
    assert per_poll == [[], ["same_second", "new1"]]


async def test_a_document_listed_twice_in_one_poll_is_announced_once(hook, monkeypatch):
    """Offset pagination over a list that changes while it is walked can repeat an item."""
    hook.add(doc("old", 0))
    plain = FakeHook.alist_documents

    async def repeating(self, **filters):
        async for d in plain(self, **filters):
            yield d
            yield d

    monkeypatch.setattr(FakeHook, "alist_documents", repeating)
    per_poll, _ = await drive(make_trigger(), [lambda: hook.add(doc("a", 5))], polls=2)
    assert per_poll == [[], ["a"]]


async def test_payload_is_json_native_and_describes_the_document(hook):
    hook.add(doc("a", 0))
    trigger = make_trigger()
    per_poll = []

    async def sleep(seconds):
        if hook.documents.get("b") is None:
            hook.add(doc("b", 5, metadata={"contract": "42"}))
            return
        raise Stop

    trigger._sleep = sleep
    with pytest.raises(Stop):
        async for event in trigger.run():
            per_poll.append(event.payload)
    (payload,) = per_poll
    assert json.loads(json.dumps(payload)) == payload
    assert payload == {
        "document_id": "b",
        "vendor": "esignbase",
        "conn_id": "esignbase_default",
        "name": "Contract b",
        "status": "COMPLETED",
        "raw_status": "COMPLETED",
        "completed_at": at(5),
        "signers": [{"email": "b@example.com", "name": "Ann Lee", "role": None, "status": "SIGNED"}],
        "metadata": {"contract": "42"},
        "source": "watcher",
    }


async def test_restart_with_the_state_store_neither_replays_nor_misses(hook):
    store = FakeStore()
    hook.add(doc("old", 0))
    first, _ = await drive(make_trigger(store), [lambda: hook.add(doc("a", 5), doc("b", 6))], polls=2)
    assert first == [[], ["a", "b"]]
    # The triggerer dies; while it is down two more complete. A new instance resumes from the store.
    hook.add(doc("c", 7), doc("d", 8))
    second, _ = await drive(make_trigger(store), [], polls=2)
    assert second == [["c", "d"], []]
    stored = CompletionCursor.from_json(json.loads(store.values[make_trigger().cursor_key]))
    assert set(stored.seen) == {"old", "a", "b", "c", "d"}


async def test_untimed_ids_beyond_max_seen_stay_in_memory_and_out_of_the_stored_cursor(hook):
    """WeSignature lists no completion times: a long-lived account has more completed ids than the
    cursor may store. The stored cursor keeps the open ids instead; a resumed trigger announces those
    that completed meanwhile and nothing old."""
    hook.vendor = "wesignature"
    store = FakeStore()
    history = [doc(f"old{i}", vendor="wesignature") for i in range(8)]
    hook.add(*history, doc("open1", status=DocumentStatus.SENT, vendor="wesignature"),
             doc("open2", status=DocumentStatus.SENT, vendor="wesignature"))  # fmt: skip
    trigger = make_trigger(store, max_seen=3)
    first, _ = await drive(trigger, [lambda: hook.add(doc("open1", vendor="wesignature"))], polls=2)
    assert first == [[], ["open1"]]  # in memory, all 9 completed ids are known: nothing old repeats
    stored = json.loads(store.values[trigger.cursor_key])
    assert stored["seen"] == [] and stored["open"] == ["open2"] and stored["untimed_dropped"] is True
    assert len(json.dumps(stored)) < 200  # bounded by the open documents, not by the account
    # While the triggerer is down: open2 completes, and one more document is sent and completed.
    hook.add(doc("open2", vendor="wesignature"), doc("quick", vendor="wesignature"))
    second, _ = await drive(make_trigger(store, max_seen=3),
                            [lambda: hook.add(doc("later", vendor="wesignature"))], polls=2)  # fmt: skip
    # open2 is announced; "quick" (created and completed while down) is the documented loss.
    assert second == [["open2"], ["later"]]


async def test_an_unreadable_store_is_retried_never_replaced_by_a_new_baseline(hook):
    store = FakeStore()
    hook.add(doc("old", 0))
    first, _ = await drive(make_trigger(store), [], polls=1)
    assert first == [[]]
    hook.add(doc("a", 5))  # completes while the next instance cannot read its cursor yet
    store.fail_reads = 2
    second, sleeps = await drive(make_trigger(store), [None, None], polls=3)
    assert second == [[], [], ["a"]]  # a fresh baseline here would have swallowed "a"
    assert sleeps[:2] == [30.0, 60.0]


async def test_restart_without_a_state_store_rebaselines(hook):
    """Airflow < 3.3: no store. A restart announces nothing twice, but misses what completed meanwhile."""
    hook.add(doc("old", 0))
    first, _ = await drive(make_trigger(), [lambda: hook.add(doc("a", 5))], polls=2)
    assert first == [[], ["a"]]
    hook.add(doc("completed_while_down", 7))
    second, _ = await drive(make_trigger(), [lambda: hook.add(doc("e", 9))], polls=2)
    assert second == [[], ["e"]]


async def test_cursor_is_stored_before_events_are_yielded(hook):
    store = FakeStore()
    hook.add(doc("old", 0))
    trigger = make_trigger(store)
    sleeps = []

    async def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 1:
            hook.add(doc("a", 5))
        else:
            raise Stop

    trigger._sleep = sleep
    announced = []
    with pytest.raises(Stop):
        async for event in trigger.run():
            stored = json.loads(store.values[trigger.cursor_key])  # already written when it is yielded
            assert event.payload["document_id"] in {i for i, _ in stored["seen"]}
            announced.append(event.payload["document_id"])
    assert announced == ["a"]


async def test_a_failed_cursor_save_holds_the_events_back_until_it_succeeds(hook):
    store = FakeStore()
    hook.add(doc("old", 0))

    def complete_and_break_the_store():
        hook.add(doc("b", 6))
        store.fail_writes = 1

    per_poll, sleeps = await drive(make_trigger(store), [complete_and_break_the_store, None], polls=3)
    assert per_poll == [[], [], ["b"]]
    assert sleeps == [30.0, 30.0, 30.0]


async def test_transient_list_failures_back_off_and_recover(hook):
    hook.add(doc("old", 0))

    def fail_twice_then_complete():
        hook.failures = 2
        hook.add(doc("a", 5))

    per_poll, sleeps = await drive(make_trigger(), [fail_twice_then_complete, None, None], polls=4)
    assert per_poll == [[], [], [], ["a"]]
    assert sleeps[:3] == [30.0, 30.0, 60.0]  # normal interval, then backoff doubling per failure


async def test_metadata_and_template_filters(hook):
    trigger = make_trigger(metadata={"team": "hr"}, template_id="tpl-1")
    hook.add(doc("old", 0, metadata={"team": "hr"}, raw={"template_id": "tpl-1"}))

    def completions():
        hook.add(
            doc("hr", 5, metadata={"team": "hr", "x": "1"}, raw={"template_id": "tpl-1"}),
            doc("sales", 5, metadata={"team": "sales"}, raw={"template_id": "tpl-1"}),
            doc("other_template", 5, metadata={"team": "hr"}, raw={"template_id": "tpl-2"}),
            doc("no_meta", 5, raw={"template_id": "tpl-1"}),
        )

    per_poll, _ = await drive(trigger, [completions], polls=2)
    assert per_poll == [[], ["hr"]]


async def test_legalesign_uses_server_filters_and_the_stable_sign_time(monkeypatch):
    """List items carry `modified` only, which archiving an old document moves. The document's own
    sign_time decides, so an old completion that was just archived is not announced."""
    fake = FakeHook("legalesign")

    async def aget_hook(conn_id, **params):
        return fake

    monkeypatch.setattr("airflow_provider_esign.hooks.aget_hook", aget_hook)

    def listed(document_id, modified, signed):
        fake.add(doc(document_id, None, vendor="legalesign", modified_at=at(modified)))
        fake.details[document_id] = doc(document_id, signed, vendor="legalesign", modified_at=at(modified))

    listed("old", 0, 0)
    trigger = DocumentCompletedEventTrigger(conn_id="legalesign_default", poll_interval=5, lookback=3600,
                                            group="acme-hr")  # fmt: skip
    script = [lambda: listed("fresh", 3000, 2999), lambda: listed("archived_old", 3010, 1), None]
    per_poll, _ = await drive(trigger, script, polls=4)
    assert per_poll == [[], ["fresh"], [], []]
    assert fake.gets == ["fresh", "archived_old"]  # each candidate confirmed once, then remembered
    assert fake.list_filters[0] == {"status": 30, "archived": "all", "group": "acme-hr"}
    assert fake.list_filters[1]["modified_gt"] == (T0 - dt.timedelta(hours=1)).isoformat()
    assert fake.list_filters[2]["modified_gt"] == (T0 + dt.timedelta(minutes=2940)).isoformat()


async def test_group_on_a_vendor_without_groups_announces_nothing_and_keeps_going(hook, caplog, capsys):
    hook.add(doc("a", 0))
    per_poll, sleeps = await drive(make_trigger(group="acme"), [lambda: hook.add(doc("b", 1))], polls=3)
    assert per_poll == [[], [], []]
    assert sleeps == [30.0, 60.0, 120.0]
    # Airflow 3.3 logs through structlog to stdout, 3.1 through stdlib logging.
    assert "only Legalesign has groups" in caplog.text + capsys.readouterr().out


async def test_one_trigger_on_several_assets_writes_the_cursor_to_each(hook):
    class Accessors:  # the shape of airflow.sdk.execution_time.context.AssetStateStoreAccessors
        def __init__(self):
            self._by_name = {"a": FakeStore(), "b": FakeStore()}
            self._by_uri = {}

    accessors = Accessors()
    hook.add(doc("old", 0))
    per_poll, _ = await drive(make_trigger(accessors), [lambda: hook.add(doc("x", 3))], polls=2)
    assert per_poll == [[], ["x"]]
    key = make_trigger().cursor_key
    assert accessors._by_name["a"].values[key] == accessors._by_name["b"].values[key]


def test_kwargs_are_json_native_stable_and_identify_the_trigger():
    from airflow.triggers.base import BaseEventTrigger

    one = DocumentCompletedEventTrigger(conn_id="c", metadata={"b": "2", "a": "1"})
    two = DocumentCompletedEventTrigger(conn_id="c", metadata={"a": "1", "b": "2"})
    classpath, kwargs = one.serialize()
    assert classpath == "airflow_provider_esign.triggers.events.DocumentCompletedEventTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert DocumentCompletedEventTrigger(**kwargs).serialize() == one.serialize()
    assert BaseEventTrigger.hash(*one.serialize()) == BaseEventTrigger.hash(*two.serialize())
    assert one.cursor_key == two.cursor_key
    assert one.cursor_key != DocumentCompletedEventTrigger(conn_id="c", metadata={"a": "other"}).cursor_key
    assert one.cursor_key == DocumentCompletedEventTrigger(conn_id="c", metadata={"a": "1", "b": "2"},
                                                           poll_interval=5).cursor_key  # fmt: skip
    with pytest.raises(ValueError):
        DocumentCompletedEventTrigger(conn_id="c", poll_interval=0)


def test_usable_in_an_asset_watcher():
    from airflow.sdk import AssetWatcher

    from airflow_provider_esign.assets import completed_documents_asset

    asset = completed_documents_asset(
        watchers=[AssetWatcher(name="w", trigger=DocumentCompletedEventTrigger(conn_id="c"))]
    )
    assert asset.uri == "esign://completed-documents/" and len(asset.watchers) == 1


# ------------------------------------------------------------------------------------------ the sandbox
@pytest.mark.parametrize("vendor", ["esignbase", "legalesign", "wesignature"])
async def test_against_the_sandbox_each_completion_once(vendor, esign_sandbox_clean, monkeypatch):
    """The real hooks over HTTP: baseline, then documents signed between polls are announced once."""
    sandbox = esign_sandbox_clean
    sandbox.configure(sign_delay=None, send_delay=0, pdf_delay=0)
    for name, value in sandbox.airflow_connections(rate_limit_per_minute=0).items():
        monkeypatch.setenv(name, value)
    conn_id = f"{vendor}_default"
    sandbox.create_document(vendor, name="Before the watcher", status="completed")
    # Vendor times have whole seconds: a completion in the very second the watcher starts counts as new
    # (never lost), so "before" means an earlier second.
    sandbox.advance_clock(2)
    pending = [sandbox.create_document(vendor, name=f"Contract {i}", status="sent")["id"] for i in range(3)]

    store = FakeStore()
    trigger = DocumentCompletedEventTrigger(conn_id=conn_id, poll_interval=1)
    trigger.asset_state_store = store

    def sign(*ids):
        def step():
            for document_id in ids:
                sandbox.sign(vendor, document_id)

        return step

    per_poll, _ = await drive(trigger, [sign(pending[0], pending[1]), None, sign(pending[2])], polls=5)
    assert [sorted(p) for p in per_poll] == [[], sorted(pending[:2]), [], [pending[2]], []]

    # A restarted instance resumes from the store: nothing again.
    restarted = DocumentCompletedEventTrigger(conn_id=conn_id, poll_interval=1)
    restarted.asset_state_store = store
    again, _ = await drive(restarted, [], polls=2)
    assert again == [[], []]
