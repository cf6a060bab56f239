"""Parsing a body while it streams in: streamed arrays keep only what ``keep`` returns, the rest of
the body is built as ``json.loads`` would, chunk boundaries do not matter, bad JSON is reported.
(WeSignature's sent-documents list, the real user, is tested in hooks/wesignature/test_wire.py.)"""

from __future__ import annotations

import json

import pytest

from airflow_provider_esign.hooks.jsonstream import JsonStream, KeptList, NotJsonError

BODY = json.dumps(
    {
        "status": "success",
        "count": 3,
        "ratio": 0.5,
        "message": {"data": [{"id": 1}, {"id": 2}, {"id": 3}], "ok": True},
    }
).encode()


def parse(body: bytes, spec: JsonStream, step: int) -> object:
    parser = spec.parser()
    for offset in range(0, len(body), step):
        parser.feed(body[offset : offset + step])
    return parser.close()


@pytest.mark.parametrize("step", [1, 2, 7, len(BODY)])
def test_items_are_kept_or_dropped_and_the_rest_is_built_like_json_loads(step):
    spec = JsonStream(
        arrays=("message.data",), keep=lambda item: item["id"] * 10 if item["id"] != 2 else None
    )
    parsed = parse(BODY, spec, step)
    expected = json.loads(BODY)
    expected["message"]["data"] = [10, 30]
    assert parsed == expected
    assert isinstance(parsed["message"]["data"], KeptList)
    assert isinstance(parsed["ratio"], float)  # not Decimal


def test_a_top_level_array_can_be_streamed():
    spec = JsonStream(arrays=("",), keep=lambda item: item)
    assert parse(b'[1, {"a": [2]}, "x"]', spec, 3) == [1, {"a": [2]}, "x"]


def test_an_array_not_named_is_built_whole():
    spec = JsonStream(arrays=("other",), keep=lambda item: None)
    assert parse(BODY, spec, 5) == json.loads(BODY)


def test_items_are_offered_before_the_body_ends():
    offered: list = []
    spec = JsonStream(arrays=("data",), keep=offered.append)
    parser = spec.parser()
    parser.feed(b'{"data": [{"id": 1}, {"id": 2}')
    assert offered == [{"id": 1}, {"id": 2}]
    parser.feed(b"]}")
    parser.close()


@pytest.mark.parametrize("body", [b"<html>proxy error</html>", b'{"data": [1, 2', b""])
def test_a_body_that_is_not_complete_json_is_reported(body):
    spec = JsonStream(arrays=("data",), keep=lambda item: item)
    with pytest.raises(NotJsonError):
        parse(body, spec, 4) if body else spec.parser().close()


def test_the_largest_chunk_is_recorded_and_empty_chunks_are_no_news():
    parser = JsonStream(arrays=(), keep=lambda item: item).parser()
    parser.feed(b"")
    parser.feed(b'{"a":')
    parser.feed(b" 1}")
    assert parser.close() == {"a": 1}
    assert parser.largest_chunk == 5


def test_each_parser_starts_over():
    spec = JsonStream(arrays=("data",), keep=lambda item: item)
    assert parse(b'{"data": [1]}', spec, 2) == {"data": [1]}
    assert parse(b'{"data": [2]}', spec, 2) == {"data": [2]}
