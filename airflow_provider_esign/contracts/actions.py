"""Remind a document's signers or cancel it, for users who may edit the DAG that sent it.

The document is looked up in the send records (never taken from the request), so the permission
check is about the DAG that really sent it. Each action is written to Airflow's audit log (the ``log``
table, where Airflow's own API records user actions; Browse → Audit Log) before the vendor is called,
and its failure, if any, after: the audit trail shows every attempt, like Airflow's own actions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from airflow_provider_esign.contracts.records import Record, RecordStore
from airflow_provider_esign.contracts.status import PAGE_HOOK_PARAMS, StatusCache

log = logging.getLogger(__name__)

ACTIONS = ("remind", "cancel")
#: Audit log event names (Airflow's own events are the route function names, e.g. ``clear_dag_run``).
EVENT_PREFIX = "esign_contracts_"


class ActionRefused(Exception):
    """The action is not done; ``status_code`` and ``detail`` are the HTTP answer."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def _default_hook(conn_id: str) -> Any:
    from airflow_provider_esign.hooks import get_hook

    return get_hook(conn_id, **PAGE_HOOK_PARAMS)


def parse_body(action: str, body: Any) -> dict[str, Any]:
    """The confirmed request; :class:`ActionRefused` (400) names the field and the rule."""
    if not isinstance(body, dict):
        raise ActionRefused(400, 'Invalid body: must be a JSON object with "confirm": true')
    if body.get("confirm") is not True:
        raise ActionRefused(400, f"Invalid confirm: must be true to {action} the document")
    options: dict[str, Any] = {}
    if action == "remind" and body.get("signer_email") is not None:
        email = body["signer_email"]
        if not isinstance(email, str) or "@" not in email or len(email) > 320:
            raise ActionRefused(400, "Invalid signer_email: must be an email address")
        options["signer_email"] = email
    if action == "cancel":
        options["notify"] = bool(body.get("notify", False))
    return options


class Actions:
    """Performs the page's actions.

    :param store: The send records.
    :param cache: The status cache, updated with the document's state after an action.
    :param may_edit: ``(user, dag_id) -> bool``.
    :param user_name: ``user -> str`` for the audit log.
    :param get_hook: ``conn_id -> hook`` (the provider's, with short retries, by default).
    """

    def __init__(
        self,
        store: RecordStore,
        cache: StatusCache,
        may_edit: Callable[[Any, str], bool],
        user_name: Callable[[Any], str],
        get_hook: Callable[[str], Any] = _default_hook,
    ) -> None:
        self.store = store
        self.cache = cache
        self.may_edit = may_edit
        self.user_name = user_name
        self.get_hook = get_hook

    def perform(
        self, action: str, conn_id: str, document_id: str, options: dict[str, Any], user: Any, session: Any
    ) -> dict[str, Any]:
        records = self.store.find(conn_id, document_id, session)
        if not records:
            raise ActionRefused(404, f"No document {document_id!r} was sent through connection {conn_id!r}")
        refused = sorted({r.dag_id for r in records if not self.may_edit(user, r.dag_id)})
        if refused:
            raise ActionRefused(403, f"Only users who may edit DAG {refused[0]!r} may {action} its documents")
        try:
            hook = self.get_hook(conn_id)
        except Exception as exc:  # connection deleted or invalid since the send: audited, answered 502
            self._audit(f"{action}_failed", records[0], user, session, {"error": str(exc)[:500]})
            raise ActionRefused(502, f"Connection {conn_id!r} cannot be used: {str(exc)[:300]}") from None
        # What the API offers is the connection's hook's to say, not the send record's (which a DAG
        # author controls).
        if (action == "remind" and not hook.supports_reminders) or (
            action == "cancel" and not hook.supports_cancel
        ):
            _close(hook)
            raise ActionRefused(409, f"The {hook.hook_name} API offers no way to {action}")
        self._audit(action, records[0], user, session, {"options": options})
        try:
            if action == "remind":
                reminded = hook.send_reminder(document_id, options.get("signer_email"))
                result: dict[str, Any] = {"reminded": len(reminded)}
            else:
                hook.cancel_document(document_id, notify=options.get("notify", False))
                result = {"cancelled": True}
            try:  # the row shows the new state at once (one read); a failed read is not an error
                self.cache.update(conn_id, hook.get_document(document_id))
            except Exception as exc:
                log.info("Contracts page: re-reading %s after %s failed: %s", document_id, action, exc)
        except Exception as exc:
            self._audit(f"{action}_failed", records[0], user, session, {"error": str(exc)[:500]})
            raise ActionRefused(502, f"The vendor refused or failed: {str(exc)[:300]}") from None
        finally:
            _close(hook)
        return {"document_id": document_id, "action": action, **result}

    def _audit(self, event: str, record: Record, user: Any, session: Any, extra: dict[str, Any]) -> None:
        from airflow.models.log import Log

        details = {
            "document_id": record.document_id,
            "conn_id": record.conn_id,
            "vendor": record.value.get("vendor"),
            **extra,
        }
        entry = Log(
            event=EVENT_PREFIX + event,
            owner=self.user_name(user),
            owner_display_name=self.user_name(user),
            extra=json.dumps(details, default=str),
            dag_id=record.dag_id,
            task_id=record.task_id,
            run_id=record.run_id,
            map_index=record.map_index,
        )
        session.add(entry)
        session.commit()  # kept whatever happens next, like Airflow's own action logging


def _close(hook: Any) -> None:
    close = getattr(hook, "close", None)
    if callable(close):
        close()
