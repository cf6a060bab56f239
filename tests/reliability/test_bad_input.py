"""Bad input fails before any HTTP call, permanently, with an error naming the field and the rule.

Each case changes one field of a send that is otherwise valid for its vendor (checked by
``test_base_requests_are_valid``), runs it through ``SendDocumentOperator.execute`` with a real
hook, and asserts that requests-mock, with no route registered for any vendor call, saw zero requests.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_esign.exceptions import ESignPermanentError, ESignValidationError
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.models import SendRequest
from airflow_provider_esign.operators.send import SendDocumentOperator
from tests.reliability.conftest import run_dag, task_states

PDF = str(Path(__file__).parents[2] / "example_dags" / "data" / "sample_agreement.pdf")
HOSTS = {
    "legalesign": "https://legalesign.invalid/api/v1",
    "wesignature": "https://wesignature.invalid/apihandler",
    "esignbase": "https://esignbase.invalid",
}
ADA = {"name": "Ada Lovelace", "email": "ada@example.com"}
ALAN = {"name": "Alan Turing", "email": "alan@example.com"}
BASE = {
    "esignbase": {"document_name": "Contract", "signers": [ADA], "template_id": "tpl-nda"},
    "legalesign": {"document_name": "Contract", "signers": [ADA], "template_id": "tpl1"},
    "wesignature": {"document_name": "Contract", "signers": [ADA], "file": "https://files.example.com/a.pdf"},
}
PAST = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
FUTURE = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()


def signer(**changes):
    return [{**ADA, **changes}]


def case(vendor, field, id, **overrides):
    return pytest.param(vendor, overrides, field, id=f"{vendor}-{id}")


CASES = [
    # ---- eSignBase
    case("esignbase", "signers[0].email", "malformed-email", signers=signer(email="ada(at)example.com")),
    case("esignbase", "signers[0].email", "email-without-domain-dot", signers=signer(email="ada@localhost")),
    case("esignbase", "signers", "empty-signers", signers=[]),
    case("esignbase", "signers", "signers-not-a-list", signers="ada@example.com"),
    case("esignbase", "signers[0].email", "signer-without-email", signers=[{"name": "Ada Lovelace"}]),
    case("esignbase", "signers[0].first_name", "first-name-over-100", signers=signer(name="A" * 101 + " L")),
    case("esignbase", "signers[0].last_name", "single-word-name", signers=signer(name="Ada")),
    case("esignbase", "signers[0].first_name", "first-name-not-text", signers=signer(first_name=7, last_name="L")),
    case("esignbase", "signers[1].email", "duplicate-signer", signers=[ADA, {**ALAN, "email": "ADA@example.com"}]),
    case("esignbase", "signers", "roles-on-some-signers", signers=[{**ADA, "role": "employee"}, ALAN]),
    case("esignbase", "signers[0].role", "role-not-text", signers=signer(role=["employee"])),
    case("esignbase", "document_name", "name-over-255", document_name="N" * 256),
    case("esignbase", "document_name", "empty-name", document_name="   "),
    case("esignbase", "file", "file-instead-of-template", template_id=None, file=PDF),
    case("esignbase", "metadata", "metadata-11-keys", metadata={f"k{i}": "v" for i in range(11)}),
    case("esignbase", "metadata", "metadata-10-keys-plus-reserved", metadata={f"k{i}": "v" for i in range(10)}),
    case("esignbase", "metadata['k" + "x" * 25 + "']", "metadata-key-26-chars", metadata={"k" + "x" * 25: "v"}),
    case("esignbase", "metadata['note']", "metadata-value-501-chars", metadata={"note": "v" * 501}),
    case("esignbase", "metadata['crm_id']", "metadata-int-value", metadata={"crm_id": 42}),
    case("esignbase", "metadata['airflow_idempotency_key']", "metadata-reserved-key",
         metadata={"airflow_idempotency_key": "mine"}),
    case("esignbase", "metadata", "metadata-not-a-mapping", metadata="crm_id=42"),
    case("esignbase", "expires_at", "expiry-in-the-past", expires_at=PAST),
    case("esignbase", "expires_at", "expiry-not-a-date", expires_at="next tuesday"),
    case("esignbase", "vendor_options['colour']", "unknown-vendor-option", vendor_options={"colour": "red"}),
    case("esignbase", "vendor_options['locale']", "unknown-locale", vendor_options={"locale": "fr"}),
    case("esignbase", "vendor_options['locale']", "locale-not-text", vendor_options={"locale": ["en"]}),
    case("esignbase", "vendor_options", "vendor-options-not-a-mapping", vendor_options="locale=en"),
    case("esignbase", "idempotency_key", "idempotency-key-over-500", idempotency_key="k" * 501),
    # ---- Legalesign
    case("legalesign", "signers[0].email", "malformed-email", signers=signer(email="ada@@example.com")),
    case("legalesign", "signers[0].email", "email-over-75", signers=signer(email="a" * 64 + "@example.com")),
    case("legalesign", "signers", "empty-signers", signers=[]),
    case("legalesign", "signers[0].first_name", "first-name-over-60", signers=signer(name="A" * 61 + " Lovelace")),
    case("legalesign", "signers[0].last_name", "last-name-over-60", signers=signer(name="Ada " + "L" * 61)),
    case("legalesign", "signers[0].first_name", "name-with-markup", signers=signer(name="<b>Ada</b> Lovelace")),
    case("legalesign", "signers[0].role", "unknown-role", signers=signer(role="boss")),
    case("legalesign", "signers", "order-on-some-signers", signers=[{**ADA, "order": 1}, ALAN]),
    case("legalesign", "document_name", "name-over-60", document_name="N" * 61),
    case("legalesign", "template_id", "template-id-path", template_id="../../etc/passwd"),
    case("legalesign", "file", "local-file-not-a-pdf", template_id=None, file=__file__),
    case("legalesign", "file", "local-file-missing", template_id=None, file="/nonexistent/contract.pdf"),
    case("legalesign", "file", "local-file-is-a-folder", template_id=None, file=str(Path(PDF).parent)),
    case("legalesign", "metadata['crm']", "metadata-key-not-a-tag", metadata={"crm": "7"}),
    case("legalesign", "metadata['tag2']", "metadata-reserved-tag2", metadata={"tag2": "mine"}),
    case("legalesign", "metadata['tag']", "metadata-tag-bad-chars", metadata={"tag": "a<b>"}),
    case("legalesign", "metadata['tag1']", "metadata-tag-not-text", metadata={"tag1": 7}),
    case("legalesign", "expires_at", "expiry-in-the-past", expires_at=PAST),
    case("legalesign", "message", "free-text-message", message="Please sign"),
    case("legalesign", "subject", "subject-over-150", subject="S" * 151),
    case("legalesign", "vendor_options['colour']", "unknown-vendor-option", vendor_options={"colour": "red"}),
    case("legalesign", "vendor_options['do_email']", "bool-option-as-text", vendor_options={"do_email": "yes"}),
    case("legalesign", "vendor_options['signature_type']", "bad-signature-type", vendor_options={"signature_type": 2}),
    case("legalesign", "vendor_options['redirect']", "redirect-not-https",
         vendor_options={"redirect": "http://example.com/done"}),
    case("legalesign", "vendor_options['process_tags']", "process-tags-with-template",
         vendor_options={"process_tags": True}),
    case("legalesign", "idempotency_key", "idempotency-key-bad-chars-before-upload", template_id=None, file=PDF,
         idempotency_key="key with <markup>"),
    case("legalesign", "signers[0].last_name", "last-name-not-text", signers=signer(first_name="Ada", last_name=1)),
    # ---- WeSignature
    case("wesignature", "signers[0].email", "malformed-email", signers=signer(email="ada example.com")),
    case("wesignature", "signers", "empty-signers", signers=[]),
    case("wesignature", "signers[0].name", "empty-signer-name", signers=signer(name="")),
    case("wesignature", "file", "s3-url", file="s3://contracts/a.pdf"),
    case("wesignature", "file", "ftp-url", file="ftp://files.example.com/a.pdf"),
    case("wesignature", "file", "local-path", file=PDF),
    case("wesignature", "template_id", "template-id", file=None, template_id="tpl-1"),
    case("wesignature", "signers[0].role", "signer-role", signers=signer(role="signer")),
    case("wesignature", "signers[0].order", "signer-order", signers=signer(order=1)),
    case("wesignature", "metadata", "metadata", metadata={"crm": "7"}),
    case("wesignature", "expires_at", "expiry", expires_at=FUTURE),
    case("wesignature", "expires_at", "expiry-in-the-past", expires_at=PAST),
    case("wesignature", "vendor_options['locale']", "unknown-vendor-option", vendor_options={"locale": "en"}),
    case("wesignature", "vendor_options['is_for_embedded_signing']", "embedded-out-of-range",
         vendor_options={"is_for_embedded_signing": 5}),
    case("wesignature", "vendor_options['sign_type']", "sign-type-not-a-number", vendor_options={"sign_type": "they"}),
]  # fmt: skip


@pytest.fixture
def connections(make_connection):
    make_connection("esignbase_default", "esignbase", host=HOSTS["esignbase"], login="id", password="s3cret")
    make_connection(
        "legalesign_default",
        "legalesign",
        host=HOSTS["legalesign"],
        login="u",
        password="s3cret",
        group="acme",
    )
    make_connection(
        "wesignature_default", "wesignature", host=HOSTS["wesignature"], login="a@x.io", password="pw"
    )


def execute(vendor: str, **overrides):
    values = {**BASE[vendor], **overrides}
    operator = SendDocumentOperator(task_id="send", conn_id=f"{vendor}_default", **values)
    ti = SimpleNamespace(
        dag_id="dag", task_id="send", run_id="run", map_index=-1, try_number=1, xcom_push=lambda **_: None
    )
    return operator.execute({"ti": ti, "dag_run": SimpleNamespace(start_date=None)})


def test_corpus_size_and_coverage():
    vendors = [param.values[0] for param in CASES]
    assert len(CASES) >= 40
    assert min(vendors.count(v) for v in BASE) >= 10


@pytest.mark.parametrize("vendor", sorted(BASE))
def test_base_requests_are_valid(connections, requests_mock, vendor):
    """Each case breaks exactly one field of a request the vendor's rules accept."""
    from airflow_provider_esign.hooks import get_hook

    operator = SendDocumentOperator(task_id="send", conn_id=f"{vendor}_default", **BASE[vendor])
    get_hook(f"{vendor}_default").validate_send_request(operator.build_request())
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(("vendor", "overrides", "field"), CASES)
def test_bad_input_fails_before_any_request(connections, requests_mock, vendor, overrides, field):
    with pytest.raises(ESignValidationError) as excinfo:
        execute(vendor, **overrides)
    error = excinfo.value
    assert error.field == field
    assert str(error).startswith(f"Invalid {field}: ") and error.rule  # names the field and the rule
    assert isinstance(error, (ESignPermanentError, AirflowFailException))  # Airflow does not retry it
    assert requests_mock.call_count == 0  # no route registered: any call would also have failed


def _every_document_task(conn_id: str) -> list:
    from airflow_provider_esign.operators.download import DownloadDocumentOperator
    from airflow_provider_esign.operators.manage import CancelDocumentOperator, SendReminderOperator
    from airflow_provider_esign.sensors.batch import BatchDocumentStatusSensor
    from airflow_provider_esign.sensors.status import DocumentStatusSensor

    common = {"conn_id": conn_id}
    return [
        SendDocumentOperator(task_id="send", **common, **BASE["esignbase"]),
        DocumentStatusSensor(task_id="wait", document_id="d-1", **common),
        DocumentStatusSensor(task_id="wait_deferrable", document_id="d-1", deferrable=True, **common),
        BatchDocumentStatusSensor(task_id="wait_batch", document_ids=["d-1"], **common),
        DownloadDocumentOperator(task_id="store", document_id="d-1", destination="/tmp", **common),
        CancelDocumentOperator(task_id="cancel", document_id="d-1", **common),
        SendReminderOperator(task_id="remind", document_id="d-1", **common),
    ]


@pytest.mark.parametrize("task", _every_document_task("no_such_connection"), ids=lambda t: t.task_id)
def test_a_connection_that_does_not_exist_fails_every_task_at_once(requests_mock, task):
    """Airflow's own "connection not found" is retryable; a missing connection is not fixed by a retry."""
    ti = SimpleNamespace(
        dag_id="dag",
        task_id=task.task_id,
        run_id="run",
        map_index=-1,
        try_number=1,
        xcom_push=lambda **_: None,
    )
    with pytest.raises(ESignValidationError) as excinfo:
        task.execute({"ti": ti, "dag_run": SimpleNamespace(start_date=None), "task_instance": ti})
    error = excinfo.value
    assert error.field == "conn_id" and "'no_such_connection'" in error.rule
    assert "AIRFLOW_CONN_NO_SUCH_CONNECTION" in error.rule
    assert isinstance(error, (ESignPermanentError, AirflowFailException))
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("signers", "roles"),
    [
        ([{**ADA, "role": "employee"}, {**ALAN, "role": "manager"}], "manager"),  # a role not in the template
        ([ADA], "one signer for two roles"),  # no roles given, wrong count
        ([{**ADA, "role": "employer"}], "employee missing"),
    ],
)
def test_esignbase_recipients_not_matching_template_roles(connections, requests_mock, signers, roles):
    """The roles live in the template, so one read is needed, but nothing is created."""
    token = requests_mock.post(f"{HOSTS['esignbase']}/oauth2/token", json={"access_token": "t-1"})
    template = requests_mock.get(
        f"{HOSTS['esignbase']}/api/template/tpl-employment",
        json={"id": "tpl-employment", "form_role_names": ["employee", "employer"]},
    )
    with pytest.raises(ESignValidationError) as excinfo:
        execute("esignbase", template_id="tpl-employment", signers=signers)
    assert excinfo.value.field == "signers"
    assert "['employee', 'employer']" in str(excinfo.value)
    assert token.call_count == 1 and template.call_count == 1
    assert [r.method for r in requests_mock.request_history] == ["POST", "GET"]  # token + template only
    assert not any(r.path.endswith("/api/document") for r in requests_mock.request_history)


@pytest.mark.e2e
def test_bad_input_fails_the_dag_task_on_try_one(sandbox):
    """In a real ``dag.test()`` the task fails once and is not retried (``retries=3`` configured),
    and the sandbox saw no request at all."""
    run = run_dag("reliability_bad_input")
    assert run.state == "failed"
    assert task_states(run) == {("send", -1): ("failed", 1)}
    assert sandbox.stats()["total_requests"] == 0


# ------------------------------------------------------------------------------ whole-value matches
def test_a_webhook_document_id_ending_in_a_newline_is_no_id():
    from airflow_provider_esign.hooks.webhook import document_id_from

    assert document_id_from("abc-123") == "abc-123"
    assert document_id_from("abc-123\n") is None


@pytest.mark.parametrize("key", ["run-1\n", "run-1\r\n"])
def test_a_legalesign_idempotency_key_ending_in_a_newline_fails(make_connection, key):
    make_connection(
        "leg_key", "legalesign", host="https://l.test/api/v1/", login="u", password="p", group="acme"
    )
    hook = LegalesignHook("leg_key")
    hook.validate_idempotency_key("run-1")
    with pytest.raises(ESignValidationError, match="idempotency_key"):
        hook.validate_idempotency_key(key)


def test_a_legalesign_tag_or_group_ending_in_a_newline_fails(make_connection):
    from airflow_provider_esign.hooks.legalesign import wire

    make_connection(
        "leg_tag", "legalesign", host="https://l.test/api/v1/", login="u", password="p", group="acme"
    )
    hook = LegalesignHook("leg_tag")
    request = SendRequest(
        name="NDA",
        signers=({"name": "Ann Lee", "email": "ann@example.com"},),
        template_id="t-1",
        metadata={"tag": "ok\n"},
    )
    with pytest.raises(ESignValidationError, match=r"metadata\['tag'\]|tag"):
        hook.validate_send_request(request)
    with pytest.raises(ESignValidationError, match="group"):
        wire.check_group("group", "acme\n")


# ------------------------------------------------------------------------------ dict signers
def test_dict_signers_work_for_esignbase(make_connection, requests_mock):
    base = "https://esignbase.test"
    make_connection("esb_dict", "esignbase", host=base, login="client", password="secret")
    requests_mock.post(f"{base}/oauth2/token", json={"access_token": "tok"})
    requests_mock.get(f"{base}/api/template/t-1", json={"id": "t-1", "form_role_names": ["Signer"]})
    create = requests_mock.post(f"{base}/api/document", json={"document_id": "doc-9", "status": "SENT"})
    request = SendRequest(
        name="NDA", signers=[{"name": "Ann Lee", "email": "ann@example.com"}], template_id="t-1"
    )

    document = ESignBaseHook("esb_dict").send_document(request)

    assert document.document_id == "doc-9"
    (recipient,) = create.last_request.json()["recipients"]
    assert recipient["email"] == "ann@example.com" and recipient["role_name"] == "Signer"


def test_a_dict_signer_without_email_fails_naming_the_field_before_any_call(make_connection, requests_mock):
    make_connection("esb_bad", "esignbase", host="https://esignbase.test", login="client", password="secret")
    request = SendRequest(name="NDA", signers=[{"name": "Ann Lee"}], template_id="t-1")
    with pytest.raises(ESignValidationError, match=r"signers\[0\]\.email"):
        ESignBaseHook("esb_bad").send_document(request)
    assert requests_mock.call_count == 0
