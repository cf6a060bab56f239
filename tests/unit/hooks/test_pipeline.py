"""The request pipeline and its executors, beyond what the vendor hook tests cover."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from airflow_provider_esign.hooks.esignbase import ESignBaseHook

BASE = "https://esignbase.test"
DOC = {"id": "doc-1", "status": "SENT", "recipients": [], "user_defined_metadata": {}}


@pytest.fixture
def hook(make_connection):
    make_connection("esb_pipe", "esignbase", host=BASE, login="client-id", password="client-secret")
    return ESignBaseHook("esb_pipe", rate_limit_per_minute=0)


async def test_a_cancelled_login_releases_the_login_lock(hook, monkeypatch):
    """A trigger cancelled while it logs in must not leave the process's login lock held: the next
    caller logs in and succeeds (the pipeline's finally blocks run on cancellation)."""
    logins: list[str] = []
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            logins.append("token")
            if len(logins) == 1:
                await release.wait()  # the first login hangs until cancelled
            return httpx.Response(200, json={"access_token": f"token-{len(logins)}"})
        return httpx.Response(200, json=DOC)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)
    try:
        first = asyncio.ensure_future(hook.aget_document("doc-1"))
        while not logins:
            await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        document = await asyncio.wait_for(ESignBaseHook("esb_pipe").aget_document("doc-1"), timeout=5)
    finally:
        await client.aclose()
    assert document.document_id == "doc-1"
    assert logins == ["token", "token"]


@pytest.mark.parametrize(
    ("location", "keeps_token"),
    [("/api/result?id=7", True), ("https://other.test/api/result?id=7", False)],
    ids=["same-origin", "cross-origin"],
)
def test_a_303_after_a_post_is_fetched_with_get_and_credentials_only_on_the_same_origin(
    hook, requests_mock, location, keeps_token
):
    """The one redirect policy: a 303 turns a POST into a body-less GET; the connection's own origin
    keeps the token, another origin never sees it."""
    from airflow_provider_esign.hooks.api import ApiRequest, single_request

    requests_mock.post(f"{BASE}/oauth2/token", json={"access_token": "token-0"})
    requests_mock.post(f"{BASE}/api/thing", status_code=303, headers={"Location": location})
    target = location if "://" in location else f"{BASE}{location}"
    result = requests_mock.get(target, json={"ok": True})
    request = ApiRequest("POST", "api/thing", operation="make_thing", json={"a": 1}, idempotent=False)

    response = hook.run_flow(single_request(request))

    assert response.json() == {"ok": True}
    redirected = result.last_request
    assert redirected.method == "GET" and redirected.body is None
    assert ("Authorization" in redirected.headers) is keeps_token


async def test_offload_runs_a_blocking_call_off_the_event_loop(hook):
    """A login flow's blocking store call (the eSignBase grant store) never runs on the triggerer's
    event loop: the async executor hands it to a worker thread; the sync executor calls it inline."""
    import threading

    from airflow_provider_esign.hooks.effects import Offload
    from airflow_provider_esign.hooks.transport import AsyncExecutor, SyncExecutor

    def pipeline():
        thread = yield Offload(lambda: threading.get_ident())
        return thread

    loop_thread = threading.get_ident()
    assert await AsyncExecutor(hook).run(pipeline()) != loop_thread
    assert SyncExecutor(hook).run(pipeline()) == loop_thread


# ---------------------------------------------------------------------------- RequestPipeline, direct
# The pipeline driven by a scripted executor: every effect it yields is answered by the test, so each
# step (retries, re-login, answer check, redirects, streamed errors) is seen without HTTP or sleeping.
def drive(pipeline_gen, answer):
    """Run a pipeline generator, answering each effect with ``answer(effect)`` (an exception it raises
    is thrown back in, as the executors do). Returns ``(value, effects)``."""
    effects: list = []
    result, error = None, None
    while True:
        try:
            effect = pipeline_gen.throw(error) if error is not None else pipeline_gen.send(result)
        except StopIteration as stop:
            return stop.value, effects
        effects.append(effect)
        result, error = None, None
        try:
            result = answer(effect)
        except BaseException as exc:
            error = exc


def respond(status, body=b"", headers=None, url=f"{BASE}/api/x"):
    from airflow_provider_esign.hooks.api import ApiResponse

    content = body if isinstance(body, bytes) else __import__("json").dumps(body).encode()
    return ApiResponse(status, headers or {}, content, url)


def sends(effects):
    from airflow_provider_esign.hooks.effects import Send

    return [e for e in effects if isinstance(e, Send)]


@pytest.fixture
def legalesign(make_connection, clock):
    from airflow_provider_esign.hooks.legalesign import LegalesignHook

    make_connection(
        "le_pipe", "legalesign", host="https://eu-api.legalesign.test/api/v1/", login="u", password="s"
    )
    hook = LegalesignHook("le_pipe", clock=clock, sleep=clock.sleep, backoff_base=1, backoff_max=8)
    hook.settings  # noqa: B018 - loaded, as run_flow does before driving a pipeline
    return hook


def read(path="document/1/", **kwargs):
    from airflow_provider_esign.hooks.api import ApiRequest

    return ApiRequest("GET", path, operation="get_document", **kwargs)


def test_call_retries_a_503_read_after_the_policy_s_backoff_and_returns_the_next_answer(legalesign):
    from airflow_provider_esign.hooks.effects import Send, Sleep

    answers = iter([respond(503, {"detail": "busy"}), respond(200, {"ok": True})])
    response, effects = drive(
        legalesign.pipeline.call(read()), lambda e: next(answers) if isinstance(e, Send) else None
    )
    assert response.json() == {"ok": True}
    assert len(sends(effects)) == 2
    waits = [e.seconds for e in effects if isinstance(e, Sleep)]
    assert len(waits) == 1 and 0 < waits[0] <= 1.0  # within backoff_base (jittered), no real wait


def test_call_never_resends_a_create_the_vendor_may_have_processed(legalesign):
    from airflow_provider_esign.exceptions import ESignServerError
    from airflow_provider_esign.hooks.api import ApiRequest
    from airflow_provider_esign.hooks.effects import Send

    create = ApiRequest("POST", "document/", operation="send_document", json={}, idempotent=False)
    with pytest.raises(ESignServerError):
        drive(legalesign.pipeline.call(create), lambda e: respond(502) if isinstance(e, Send) else None)


def test_the_answer_check_runs_once_and_its_value_is_on_the_response(legalesign):
    """A junk 200 is asked again inside the retry loop; the good answer's checked value is kept, so
    the flow does not check the body a second time."""
    from airflow_provider_esign.exceptions import ESignMalformedResponseError
    from airflow_provider_esign.hooks.effects import Send

    checks: list = []

    def check(body, *, conn_id, operation):
        checks.append(body)
        if not isinstance(body, dict):
            raise ESignMalformedResponseError("junk", conn_id=conn_id, operation=operation)
        return body["id"]

    answers = iter([respond(200, b"<html>proxy</html>"), respond(200, {"id": "doc-9"})])
    response, _ = drive(
        legalesign.pipeline.call(read(check_answer=check)),
        lambda e: next(answers) if isinstance(e, Send) else None,
    )
    assert response.checked == "doc-9"
    assert checks == [None, {"id": "doc-9"}]  # once per answer, never twice for the same body


def test_a_429_pushes_the_shared_schedule_back_no_longer_than_the_retry_wait(legalesign):
    from airflow_provider_esign.hooks.effects import RateLimitPenalty, Send

    answers = iter([respond(429, headers={"Retry-After": "3600"}), respond(200, {"ok": 1})])
    _, effects = drive(
        legalesign.pipeline.call(read()), lambda e: next(answers) if isinstance(e, Send) else None
    )
    penalties = [e.seconds for e in effects if isinstance(e, RateLimitPenalty)]
    assert penalties == [8.0]  # Retry-After of an hour, capped by backoff_max


def test_a_streamed_error_keeps_the_first_bytes_for_the_message_and_closes_the_stream(legalesign):
    from airflow_provider_esign.exceptions import ESignNotFoundError
    from airflow_provider_esign.hooks.effects import ReadChunk, Send

    def answer(effect):
        if isinstance(effect, Send):
            return respond(404)
        if isinstance(effect, ReadChunk):
            return b'{"detail": "no such document"}'
        return None

    with pytest.raises(ESignNotFoundError, match="no such document"):
        drive(legalesign.pipeline.call(read(), stream=True, retry=False), answer)


def test_a_rejected_key_is_replaced_by_one_login_and_the_same_request_is_sent_again(make_connection, clock):
    from airflow_provider_esign.hooks.effects import Send

    make_connection("esb_relogin", "esignbase", host=BASE, login="client-id", password="client-secret")
    hook = ESignBaseHook("esb_relogin", clock=clock, sleep=clock.sleep)
    hook.settings  # noqa: B018
    tokens = iter(["token-0", "token-1"])
    reads = iter([respond(401, {"message": "expired"}), respond(200, DOC)])

    def answer(effect):
        if isinstance(effect, Send):
            if effect.url.endswith("/oauth2/token"):
                return respond(200, {"access_token": next(tokens), "expires_in": 300})
            return next(reads)
        return None

    response, effects = drive(hook.pipeline.call(read("api/document/doc-1", params={"v": "2"})), answer)
    assert response.json() == DOC
    document_reads = [e.request for e in sends(effects) if "oauth2" not in e.url]
    assert [r.headers["Authorization"] for r in document_reads] == ["Bearer token-0", "Bearer token-1"]
    assert document_reads[0].params == document_reads[1].params == {"v": "2"}


def test_a_redirect_to_another_origin_is_resolved_then_refused_when_it_is_internal(legalesign):
    """Leaving the connection's origin costs one name resolution per host; an internal target is
    never contacted, and nothing is resolved while the chain stays on the connection's origin."""
    from airflow_provider_esign.exceptions import ESignRedirectError
    from airflow_provider_esign.hooks.effects import Resolve, Send

    def answer(effect):
        if isinstance(effect, Send):
            return respond(302, headers={"Location": "https://files.internal.test/doc.pdf"})
        if isinstance(effect, Resolve):
            return ["93.184.216.34"] if "legalesign" in effect.host else ["10.0.0.7"]
        return None

    effects: list = []
    with pytest.raises(ESignRedirectError, match="private"):
        gen = legalesign.pipeline.call(read(), retry=False)
        drive(gen, lambda e: effects.append(e) or answer(e))
    assert [e.host for e in effects if isinstance(e, Resolve)] == [
        "eu-api.legalesign.test",
        "files.internal.test",
    ]
    assert len(sends(effects)) == 1  # the redirect target was never sent to


def test_a_request_passes_three_generators_between_its_flow_and_the_executor(legalesign):
    from airflow_provider_esign.hooks.api import single_request
    from airflow_provider_esign.hooks.effects import Send

    top = legalesign.pipeline.run(single_request(read()))
    chains = []

    def answer(effect):
        if isinstance(effect, Send):
            names, gen = [], top
            while gen is not None:
                names.append(gen.gi_code.co_name)
                gen = gen.gi_yieldfrom
            chains.append(names)
            return respond(200, {"ok": True})
        return None

    drive(top, answer)
    assert chains == [["run", "call", "http"]]
