"""WeSignature's sent-documents list (the whole account in one answer) is parsed while it streams in:
only what each caller needs is kept, chunk boundaries do not matter, error answers are still
recognised, and the sync and async executors run the same flow."""

from __future__ import annotations

import io
import json
import threading
import tracemalloc

import httpx
import pytest

from airflow_provider_esign.exceptions import ESignApiError, ESignServerError, ESignTransportError
from airflow_provider_esign.hooks.jsonstream import CHUNK_BYTES, JsonStream, KeptList, NotJsonError
from airflow_provider_esign.hooks.wesignature import BASELINE_KEY, wire
from tests.unit.hooks.wesignature import test_hook as wes
from tests.unit.hooks.wesignature.test_hook import (
    LIST_URL,
    LOGIN_OK,
    LOGIN_URL,
    SEND_URL,
    calls_to,
    list_item,
    send_request,
)

# The WeSignature hook tests' fixtures (a login connection, its hook, a mocked login_api).
conn, make_hook, hook, login_mock = wes.conn, wes.make_hook, wes.hook, wes.login_mock

EMAILS = ("jack@demo-mail.com", "jill@demo-mail.com")


def account(old: int, *matching: str, name: str = "contract.pdf", shape: str = "message.data") -> bytes:
    """A list answer of ``old`` unrelated documents, with documents matching ``send_request()``'s
    fingerprint (file contract.pdf, signers Jack and Jill) at the given positions ("first"/"last")."""
    items = [list_item(f"group-old-{i}", name=f"old-{i}.pdf", status="3") for i in range(old)]
    for position in matching:
        item = list_item(f"group-match-{position}", name=name, emails=EMAILS)
        items.insert(0 if position == "first" else len(items), item)
    if shape == "data":
        return json.dumps({"status": "success", "data": items}).encode()
    return json.dumps({"status": "success", "message": {"data": items}}).encode()


class RecordingBody(io.RawIOBase):
    """A response body that records how many bytes the client has read, and the largest read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset, self.largest = data, 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data[self.offset : self.offset + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.offset += len(chunk)
        self.largest = max(self.largest, len(chunk))
        return len(chunk)


# ------------------------------------------------------------------ the parser itself
SMALL = {
    "status": "success",
    "code": 200,
    "message": {
        "data": [
            {"guid": "g-1", "n": 1.5, "SignerMails": [{"email": "a@x.io", "name": "Zoë \u00e9"}]},
            "not a document",
            {"guid": "g-2", "nested": {"data": [1, [2, {"k": None}]]}, "ok": True},
            {"guid": "g-3", "text": 'quote " and \\ backslash, {braces} [brackets]'},
        ]
    },
    "data_note": "a key that starts like the array",
}


def parse(body: bytes, keep, step: int | None = None, arrays=wire.LIST_ARRAYS):
    parser = JsonStream(arrays, keep).parser()
    step = step or len(body) or 1
    for offset in range(0, len(body), step):
        parser.feed(body[offset : offset + step])
    return parser.close()


@pytest.mark.parametrize("shape", ["message.data", "data"])
def test_a_body_split_at_every_byte_offset_parses_the_same(shape):
    value = SMALL if shape == "message.data" else {"status": "success", "data": SMALL["message"]["data"]}
    body = json.dumps(value, ensure_ascii=False).encode()
    keep_dicts = lambda item: item if isinstance(item, dict) else None  # noqa: E731
    expected = json.loads(body)
    listed = expected["message"] if shape == "message.data" else expected
    listed["data"] = [i for i in listed["data"] if isinstance(i, dict)]
    for offset in range(len(body) + 1):
        parser = JsonStream(wire.LIST_ARRAYS, keep_dicts).parser()
        parser.feed(body[:offset])
        parser.feed(body[offset:])
        assert parser.close() == expected, offset
    assert parse(body, keep_dicts, step=1) == expected  # one byte at a time


def test_streamed_arrays_become_kept_lists_and_the_rest_is_built_as_usual():
    body = json.dumps(SMALL).encode()
    parsed = parse(body, lambda item: item["guid"] if isinstance(item, dict) else None, step=5)
    assert isinstance(parsed["message"]["data"], KeptList)
    assert parsed["message"]["data"] == ["g-1", "g-2", "g-3"]
    assert parsed["status"] == "success" and parsed["code"] == 200
    assert parsed["data_note"] == "a key that starts like the array"
    # Arrays that are not streamed (inside an item, or elsewhere) are built whole.
    whole = parse(body, lambda item: item, arrays=("data",))
    assert whole == SMALL and not isinstance(whole["message"]["data"], KeptList)


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b"", b'{"status": "success", "message": {"data": [', b'{"a": 1} x'],
)
def test_a_body_that_is_not_complete_json_is_reported(body):
    with pytest.raises(NotJsonError):
        parse(body, lambda item: item)


def test_items_are_offered_while_the_body_is_still_arriving():
    body = account(3000, "first")
    offered_at: list[int] = []
    fed = 0
    parser = JsonStream(wire.LIST_ARRAYS, lambda item: offered_at.append(fed) or None).parser()
    for offset in range(0, len(body), CHUNK_BYTES):
        fed += len(body[offset : offset + CHUNK_BYTES])
        parser.feed(body[offset : offset + CHUNK_BYTES])
    parser.close()
    assert len(offered_at) == 3001
    assert offered_at[0] <= CHUNK_BYTES < len(body) // 10  # the first document came with the first chunk
    assert parser.largest_chunk == CHUNK_BYTES


# ------------------------------------------------------------------ the hook's exactly-once reads (sync)
def baseline(hook, body):
    checkpoint: dict = {}
    hook.run_flow(hook.before_create_flow(send_request(), checkpoint))
    return checkpoint[BASELINE_KEY]


@pytest.mark.parametrize("shape", ["message.data", "data"])
def test_the_baseline_keeps_the_guids_of_matching_documents(hook, login_mock, requests_mock, shape):
    requests_mock.post(LIST_URL, content=account(500, "first", "last", shape=shape))
    assert baseline(hook, None) == ["group-match-first", "group-match-last"]


def test_the_list_is_read_in_bounded_chunks_and_matched_before_it_ends(
    hook, login_mock, requests_mock, monkeypatch
):
    body = RecordingBody(account(5000, "first"))
    requests_mock.post(LIST_URL, body=body)
    read_at_first_match: list[int] = []
    original = wire.baseline_guid

    def recording(item, fingerprint):
        guid = original(item, fingerprint)
        if guid and not read_at_first_match:
            read_at_first_match.append(body.offset)
        return guid

    monkeypatch.setattr(wire, "baseline_guid", recording)
    assert baseline(hook, None) == ["group-match-first"]
    assert body.offset == len(body.data)  # read to the end
    assert read_at_first_match and read_at_first_match[0] < len(body.data) // 10
    assert body.largest <= CHUNK_BYTES


def test_the_baseline_memory_does_not_grow_with_the_account(hook, login_mock, requests_mock):
    def peak(old: int) -> tuple[int, int]:
        data = account(old, "last")
        requests_mock.post(LIST_URL, body=io.BytesIO(data))
        tracemalloc.start()
        try:
            assert baseline(hook, None) == ["group-match-last"]
            return tracemalloc.get_traced_memory()[1], len(data)
        finally:
            tracemalloc.stop()

    peak(10)  # imports and the login, outside the measurement
    small, _ = peak(2000)
    large, size = peak(10000)
    assert large < 1.5 * small
    assert large < size / 5


def test_a_lookup_after_an_ambiguous_create_adopts_the_one_new_document(hook, login_mock, requests_mock):
    """Baseline, create (answer lost), lookup: one document at the vendor, the new one adopted."""
    lists = [{"content": account(2000, "first")}, {"content": account(2000, "first", "last")}]
    requests_mock.post(LIST_URL, lists)
    requests_mock.post(SEND_URL, status_code=502, json={"status": "error", "message": "gateway"})

    document = hook.send_document(send_request(), idempotency_key="af-key-1", checkpoint={})

    assert document.document_id == "group-match-last"
    assert len(calls_to(requests_mock, SEND_URL)) == 1


@pytest.mark.parametrize("shape", ["message.data", "data"])
def test_list_documents_returns_every_document_of_either_shape(hook, login_mock, requests_mock, shape):
    requests_mock.post(LIST_URL, content=account(300, "last", shape=shape))
    ids = [d.document_id for d in hook.list_documents()]
    assert len(ids) == 301 and ids[0] == "group-old-0" and ids[-1] == "group-match-last"


def test_a_lone_document_object_is_still_one_document(hook, login_mock, requests_mock):
    item = list_item("group-one", name="contract.pdf", emails=EMAILS)
    requests_mock.post(LIST_URL, json={"status": "success", "message": {"data": item}})
    assert baseline(hook, None) == ["group-one"]
    assert [d.document_id for d in hook.list_documents()] == ["group-one"]


def test_an_answer_without_a_list_is_an_error_not_an_empty_account(hook, login_mock, requests_mock):
    requests_mock.post(LIST_URL, json={"status": "success", "message": "no documents key"})
    with pytest.raises(ESignApiError, match=r"neither data nor message\.data"):
        baseline(hook, None)


def test_a_body_401_on_the_list_logs_in_again_and_reads_it(hook, login_mock, requests_mock):
    requests_mock.post(
        LIST_URL,
        [
            {"json": {"status": "error", "code": 401, "message": "Unauthorised"}},
            {"content": account(50, "last")},
        ],
    )
    assert baseline(hook, None) == ["group-match-last"]
    assert len(calls_to(requests_mock, LOGIN_URL)) == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status_code": 200, "text": "<html>maintenance</html>"}, ESignServerError),
        ({"status_code": 200, "json": {"status": "error", "code": 500, "message": "boom"}}, ESignServerError),
        ({"status_code": 500, "json": {"status": "error", "message": "boom"}}, ESignServerError),
    ],
)
def test_error_answers_to_the_list_are_errors(make_hook, conn, login_mock, requests_mock, answer, error):
    hook = make_hook(conn, max_attempts=1)
    requests_mock.post(LIST_URL, **answer)
    with pytest.raises(error):
        baseline(hook, None)


class BrokenBody(RecordingBody):
    """A body whose connection drops after ``cut`` bytes."""

    def __init__(self, data: bytes, cut: int) -> None:
        super().__init__(data[:cut])

    def readinto(self, buffer) -> int:
        import urllib3

        if self.offset >= len(self.data):
            raise urllib3.exceptions.ProtocolError("Connection broken: connection reset")
        return super().readinto(buffer)


def test_a_body_cut_mid_way_is_read_again_from_the_start(make_hook, conn, login_mock, requests_mock):
    data = account(2000, "first", "last")
    requests_mock.post(LIST_URL, [{"body": BrokenBody(data, len(data) // 2)}, {"content": data}])
    assert baseline(make_hook(conn), None) == ["group-match-first", "group-match-last"]
    assert len(calls_to(requests_mock, LIST_URL)) == 2


# ------------------------------------------------------------------ the same flow on the async executor
def async_client(monkeypatch, chunks):
    """An httpx client whose list answers stream ``chunks()`` (after a login answer)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login_api"):
            return httpx.Response(200, json=LOGIN_OK)
        return httpx.Response(200, content=chunks())

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)
    return client


def streaming(body: bytes, sent: list[int]):
    """The body in 10 kB chunks, recording each chunk's offset as it is sent."""

    async def chunks():
        for offset in range(0, len(body), 10_000):
            sent.append(offset)
            yield body[offset : offset + 10_000]

    return chunks


async def test_async_list_documents_parses_each_chunk_on_the_loop_as_it_arrives(hook, monkeypatch):
    body = account(3000, "last")
    sent: list[int] = []
    client = async_client(monkeypatch, streaming(body, sent))
    parsed_at: list[tuple[int, int]] = []  # (chunks sent so far, thread) per normalized document
    original = type(hook).parse_document

    def recording(self, raw, *args, **kwargs):
        parsed_at.append((len(sent), threading.get_ident()))
        return original(self, raw, *args, **kwargs)

    monkeypatch.setattr(type(hook), "parse_document", recording)
    try:
        docs = [d async for d in hook.alist_documents()]
    finally:
        await client.aclose()

    assert len(docs) == 3001 and docs[-1].document_id == "group-match-last"
    assert {thread for _, thread in parsed_at} == {threading.get_ident()}  # on the loop, in small steps
    assert parsed_at[0][0] < len(sent) // 10  # the first documents were ready long before the body ended


async def test_async_baseline_is_the_same_as_the_sync_one(hook, monkeypatch):
    sent: list[int] = []
    client = async_client(monkeypatch, streaming(account(1000, "first", "last"), sent))
    checkpoint: dict = {}
    try:
        await hook.arun_flow(hook.before_create_flow(send_request(), checkpoint))
    finally:
        await client.aclose()
    assert checkpoint[BASELINE_KEY] == ["group-match-first", "group-match-last"]


async def test_async_a_body_cut_mid_way_is_a_transport_error(make_hook, conn, monkeypatch):
    hook = make_hook(conn, max_attempts=1)

    async def broken():
        yield account(100, "last")[:500]
        raise httpx.ReadError("connection reset")

    client = async_client(monkeypatch, broken)
    try:
        with pytest.raises(ESignTransportError):
            await hook.arun_flow(hook.before_create_flow(send_request(), {}))
    finally:
        await client.aclose()


# ------------------------------------------------------------------ batch status from the whole list
def test_batch_status_converts_only_the_tracked_documents(hook, requests_mock, login_mock, monkeypatch):
    items = [wes.list_item(f"group-{i}") for i in range(60)]
    requests_mock.post(LIST_URL, json=wes.list_body(*items))
    converted = []
    original = type(hook).parse_document

    def counting(self, raw, *args, **kwargs):
        converted.append(raw.get("guid"))
        return original(self, raw, *args, **kwargs)

    monkeypatch.setattr(type(hook), "parse_document", counting)
    found = hook.get_documents(["group-7", "group-42"])

    assert sorted(found) == ["group-42", "group-7"]
    assert found["group-7"].document_id == "group-7"
    assert sorted(converted) == ["group-42", "group-7"]  # before: all 60 listed documents
