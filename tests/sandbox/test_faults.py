from __future__ import annotations

import time

import pytest
import requests
from sandbox_helpers import LEGALESIGN_AUTH, WESIGNATURE_CREDS, ESignBase, Legalesign, WeSignature

from esign_sandbox import Sandbox, SandboxError
from esign_sandbox.faults import fault_for

CONNECTION_LEVEL = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def test_reset_is_a_connection_error(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.queue_fault("reset", vendor="legalesign", path_contains="/group/")
    with pytest.raises(requests.ConnectionError):
        legalesign.get("/group/")
    assert legalesign.get("/group/").status_code == 200
    stats = sb.stats()
    assert stats["aborted_connections"] == {"reset": 1}
    assert stats["faults_injected"] == {"reset": 1}


@pytest.mark.parametrize("vendor", ["legalesign", "wesignature", "esignbase"])
def test_drop_after_commit_leaves_the_document_created(
    sb: Sandbox, legalesign: Legalesign, wesignature: WeSignature, esignbase: ESignBase, vendor: str
) -> None:
    if vendor == "legalesign":
        body = legalesign.body(legalesign.upload_template())
        sb.queue_fault("drop_after_commit", vendor=vendor)
        with pytest.raises(requests.ConnectionError):
            legalesign.post(body)
    elif vendor == "wesignature":
        sb.queue_fault("drop_after_commit", vendor=vendor)
        with pytest.raises(requests.ConnectionError):
            wesignature.call("senddocumentapi", wesignature.send_body())
    else:
        token = esignbase.token()
        sb.queue_fault("drop_after_commit", vendor=vendor)
        with pytest.raises(requests.ConnectionError):
            esignbase.create(token)
    documents = sb.documents(vendor)
    assert len(documents) == 1 and documents[0]["deleted"] is False
    assert sb.stats()["aborted_connections"] == {"drop_after_commit": 1}
    # The journal shows the create that was committed although its answer never arrived.
    [dropped] = sb.requests(fault="drop_after_commit")
    assert dropped["vendor"] == vendor and dropped["method"] == "POST" and dropped["body"]


def test_drop_after_commit_only_hits_create_calls(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.queue_fault("drop_after_commit", vendor="legalesign")
    assert legalesign.get("/group/").status_code == 200  # not a create call: the fault stays queued
    template = legalesign.upload_template()  # POST, but not a document create either
    with pytest.raises(requests.ConnectionError):
        legalesign.post(legalesign.body(template))
    assert len(sb.documents("legalesign")) == 1


def test_truncate_download(sb: Sandbox, esignbase: ESignBase) -> None:
    doc = sb.create_document("esignbase", status="completed", pdf_size=300_000)
    token = esignbase.token()
    sb.queue_fault("truncate", vendor="esignbase")
    assert esignbase.get(token, "/api/templates").status_code == 200  # not a download: untouched
    received = bytearray()
    url = f"/api/document/{doc['id']}/download"
    with pytest.raises(CONNECTION_LEVEL), esignbase.get(token, url, stream=True) as response:
        assert response.headers["content-length"] == "300000"
        for chunk in response.iter_content(8192):
            received += chunk
    assert 0 < len(received) < 300_000
    assert bytes(received) == sb.pdf_bytes("esignbase", doc["id"])[: len(received)]
    whole = esignbase.get(token, f"/api/document/{doc['id']}/download")
    assert len(whole.content) == 300_000
    assert sb.stats()["aborted_connections"] == {"truncate": 1}


def test_truncate_small_download_with_plain_get(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_redirect_ratio=0.0)
    doc = sb.create_document("legalesign", status="completed")
    sb.queue_fault("truncate", vendor="legalesign", path_contains="/pdf/")
    with pytest.raises(CONNECTION_LEVEL):
        legalesign.get(f"/pdf/{doc['id']}/")


@pytest.mark.parametrize(
    ("vendor", "body_check"),
    [
        ("legalesign", lambda r: r.json() == {"detail": "throttled"}),
        ("wesignature", lambda r: r.json()["status"] == "429"),
        ("esignbase", lambda r: r.json()["error"] == "rate_limited"),
    ],
)
def test_injected_429_has_retry_after(sb: Sandbox, vendor: str, body_check) -> None:  # type: ignore[no-untyped-def]
    sb.set_faults(rate=0.0, retry_after=3)
    sb.queue_fault("429", vendor=vendor)
    url = {
        "legalesign": sb.vendor_url("legalesign") + "/group/",
        "wesignature": sb.vendor_url("wesignature") + "/getsentdocumentsapi",
        "esignbase": sb.vendor_url("esignbase") + "/api/templates",
    }[vendor]
    response = (
        requests.post(url, json=WESIGNATURE_CREDS, timeout=5)
        if vendor == "wesignature"
        else requests.get(url, headers=LEGALESIGN_AUTH, timeout=5)
    )
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert body_check(response)
    assert sb.stats()["throttled"] == 1


def test_injected_5xx_are_vendor_shaped(
    sb: Sandbox, legalesign: Legalesign, wesignature: WeSignature
) -> None:
    sb.queue_fault("500", vendor="wesignature")
    response = wesignature.call("getsentdocumentsapi", dict(WESIGNATURE_CREDS))
    assert response.status_code == 500 and response.json() == {
        "status": "500",
        "message": "Internal server error",
    }
    sb.queue_fault("500", vendor="legalesign")
    response = legalesign.get("/group/")
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
    sb.queue_fault("503", vendor="legalesign", method="GET")
    assert legalesign.get("/group/").status_code == 503
    assert legalesign.get("/group/").status_code == 200


def test_slow_answers_normally_after_a_delay(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.set_faults(rate=0.0, slow_seconds=0.4)
    sb.queue_fault("slow", vendor="legalesign")
    started = time.monotonic()
    response = legalesign.get("/group/")
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200 and response.json()["meta"]["total_count"] == 1
    with pytest.raises(requests.Timeout):
        sb.queue_fault("slow", vendor="legalesign")
        requests.get(legalesign.base + "/group/", headers=LEGALESIGN_AUTH, timeout=0.1)


def test_random_faults_are_a_pure_function_of_seed_and_index(sb: Sandbox, legalesign: Legalesign) -> None:
    kinds = ["500", "503", "429"]

    def run() -> list[int]:
        return [legalesign.get("/group/").status_code for _ in range(60)]

    sb.set_faults(rate=0.3, kinds=kinds, seed=7)
    first = run()
    expected = [
        {"500": 500, "503": 503, "429": 429}.get(fault_for(7, n, 0.3, kinds) or "", 200) for n in range(60)
    ]
    assert first == expected
    assert 5 < sum(code != 200 for code in first) < 35
    assert {500, 503, 429} <= set(first)

    sb.reset()  # keeps the plan, rewinds the request counter
    assert run() == first
    sb.set_faults(rate=0.3, kinds=kinds, seed=8)
    assert run() != first
    sb.set_faults({"rate": 0.3, "kinds": kinds, "seed": 7})
    assert run() == first


def test_faults_respect_vendor_filter_and_never_touch_control_api(
    sb: Sandbox, legalesign: Legalesign
) -> None:
    sb.set_faults(rate=1.0, kinds=["500"], seed=1, vendors=["esignbase"])
    assert all(legalesign.get("/group/").status_code == 200 for _ in range(5))
    sb.set_faults(rate=1.0, kinds=["500", "reset"], seed=1)
    outcomes = set()
    for _ in range(8):
        try:
            outcomes.add(legalesign.get("/group/").status_code)
        except requests.ConnectionError:
            outcomes.add("reset")
    assert outcomes <= {500, "reset"} and outcomes
    assert sb.health()["status"] == "ok"  # control API unaffected at rate 1.0
    assert sb.documents() == []
    sb.clear_faults()
    assert legalesign.get("/group/").status_code == 200


def test_non_applicable_kinds_are_never_chosen(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.set_faults(rate=1.0, kinds=["truncate", "drop_after_commit"], seed=3)
    assert all(legalesign.get("/group/").status_code == 200 for _ in range(10))
    assert sb.stats()["faults_injected"] == {}


def test_invalid_fault_config_rejected(sb: Sandbox) -> None:
    with pytest.raises(SandboxError) as info:
        sb.set_faults(rate=2.0)
    assert info.value.status == 400
    with pytest.raises(SandboxError):
        sb.set_faults(rate=0.1, kinds=["explode"])
    with pytest.raises(SandboxError):
        sb.queue_fault("explode")


def test_rate_limit_esignbase_sliding_window(sb: Sandbox, esignbase: ESignBase) -> None:
    sb.configure(rate_limits={"esignbase": {"calls": 3, "window_seconds": 60}})
    token = esignbase.token()  # call 1
    assert esignbase.get(token, "/api/credits").status_code == 200  # call 2
    sb.advance_clock(30)
    assert esignbase.get(token, "/api/credits").status_code == 200  # call 3
    limited = esignbase.get(token, "/api/credits")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert limited.headers["Retry-After"] == "30"
    sb.advance_clock(30.5)  # calls 1 and 2 leave the window
    assert esignbase.get(token, "/api/credits").status_code == 200
    assert esignbase.get(token, "/api/credits").status_code == 200
    assert esignbase.get(token, "/api/credits").status_code == 429
    assert sb.stats()["throttled"] == 2


def test_rate_limit_legalesign_has_no_retry_after_unless_configured(
    sb: Sandbox, legalesign: Legalesign
) -> None:
    sb.configure(rate_limits={"legalesign": {"calls": 2, "window_seconds": 6}})
    assert [legalesign.get("/group/").status_code for _ in range(3)] == [200, 200, 429]
    limited = legalesign.get("/group/")
    assert limited.json() == {"detail": "throttled"} and "Retry-After" not in limited.headers
    sb.configure(legalesign_retry_after=7)
    assert legalesign.get("/group/").headers["Retry-After"] == "7"
    sb.advance_clock(6)
    assert legalesign.get("/group/").status_code == 200
    # Signing pages and object storage are not API calls and never count.
    sb.configure(rate_limits={"legalesign": {"calls": 1, "window_seconds": 60}})
    assert requests.get(sb.url + "/legalesign/esign/x/", timeout=5).status_code == 200


def test_rate_limit_wesignature(sb: Sandbox, wesignature: WeSignature) -> None:
    sb.configure(rate_limits={"wesignature": {"calls": 1, "window_seconds": 10}})
    assert wesignature.call("getsentdocumentsapi", dict(WESIGNATURE_CREDS)).status_code == 200
    limited = wesignature.call("getsentdocumentsapi", dict(WESIGNATURE_CREDS))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "10"
    assert limited.json() == {"status": "429", "message": "Too many requests"}


def test_distinct_connections_counted(sb: Sandbox, legalesign: Legalesign) -> None:
    with requests.Session() as session:
        for _ in range(4):
            assert (
                session.get(legalesign.base + "/group/", headers=LEGALESIGN_AUTH, timeout=5).status_code
                == 200
            )
    assert sb.stats()["distinct_connections"] == 1
    for _ in range(3):
        legalesign.get("/group/")
    stats = sb.stats()
    assert stats["distinct_connections"] == 4
    assert stats["requests"] == {"legalesign": 7}
    assert stats["routes"] == {"legalesign GET /legalesign/api/v1/group/": 7}
    assert stats["status_codes"] == {"200": 7}
