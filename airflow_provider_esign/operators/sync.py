"""SyncDocumentsOperator: the connection's vendor account as rows in your own database (the ledger).

See ``docs/howto/ledger.md`` for the tables, the cost per vendor and an example DAG.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator

from airflow_provider_esign.operators.base import ESignHookMixin, closes_hook

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Where the embedded default ledger lives (a SQLite file), unless ``ledger_path`` says otherwise.
DEFAULT_LEDGER_FILE = "esign_ledger.db"


def ledger_asset(destination_conn_id: str | None, table_prefix: str = "esign_") -> Asset:
    """The Asset a sync announces its tables on (schedule ETL DAGs with it)."""
    where = destination_conn_id or "embedded"
    return Asset(
        uri=f"esign://ledger/{where}/{table_prefix}documents", name=f"esign_ledger_{where}_{table_prefix}"
    )


def embedded_hook(path: str | None = None) -> Any:
    """A SQLite ``DbApiHook`` on a local file: the ledger without a database server.

    SQLite over DuckDB: Python ships the driver (no native dependency to install), the Airflow SQLite
    provider is a pure-Python wheel, and many readers (one writer at a time) is what a ledger needs.
    """
    from airflow.providers.sqlite.hooks.sqlite import SqliteHook
    from airflow.sdk import Connection

    file = path or os.path.join(
        os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), DEFAULT_LEDGER_FILE
    )

    class _EmbeddedSqliteHook(SqliteHook):
        def get_uri(self) -> str:
            return f"sqlite:///{file}"

        def get_conn(self) -> Any:
            conn = super().get_conn()
            # Write-ahead log: reports read the ledger while a sync writes, and a page's commit is an
            # append. synchronous=NORMAL keeps every commit atomic; a power cut may lose the last
            # pages, which the next sync reads again from the cursor committed with them.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn

    return _EmbeddedSqliteHook(
        connection=Connection(conn_id="esign_ledger_embedded", conn_type="sqlite", host=file)
    )


class SyncDocumentsOperator(ESignHookMixin, BaseOperator):
    """Sync every document of the connection's vendor account into ledger tables, incrementally.

    The first run walks the whole account (list pages, committed one by one with the cursor, so a
    killed run resumes where it stopped); later runs read only what changed (Legalesign ``modified_gt``,
    eSignBase the newest end down to the oldest open document, WeSignature its one streamed list).
    A document the vendor no longer lists is marked ``deleted_at_vendor``, never deleted. After the
    sync, a reconciliation summary (log, XCom ``return_value``, table ``<prefix>reconciliation``): what
    the ``send_tasks`` recorded as sent that the vendor does not list, documents open longer than
    ``pending_after_days`` with the signers still to sign, failures since the last sync.

    :param conn_id: The e-signature connection.
    :param destination_conn_id: Any ``common.sql`` connection (PostgreSQL, MySQL, Snowflake, ...); None:
        the embedded SQLite file (``ledger_path``, default ``$AIRFLOW_HOME/esign_ledger.db``).
    :param table_prefix: Prefix of the ledger's table names: an ASCII letter or underscore, then up to
        40 ASCII letters, digits or underscores (checked again after rendering, before any call).
    :param send_tasks: ``dag_id.task_id`` of the SendDocumentOperator tasks whose documents to reconcile
        (default: the send tasks of this DAG).
    :param pending_after_days: Report documents open longer than this.
    :param full_refresh: Walk the whole account even where a cheaper walk exists.
    :param form_fields: Also store form field values of documents that became signed, where the vendor
        exposes them (Legalesign; one call per such document).
    :param ledger_path: File of the embedded ledger.
    :param hook_params: Extra keyword arguments for the e-signature hook.
    """

    template_fields = ("conn_id", "destination_conn_id", "table_prefix", "send_tasks", "pending_after_days")

    def __init__(
        self,
        *,
        conn_id: str,
        destination_conn_id: str | None = None,
        table_prefix: str = "esign_",
        send_tasks: list[str] | None = None,
        pending_after_days: float | str = 7.0,
        full_refresh: bool = False,
        form_fields: bool = False,
        ledger_path: str | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:

        from airflow_provider_esign.ledger.schema import validate_prefix

        templated = _is_template(table_prefix) or _is_template(destination_conn_id)
        if not _is_template(table_prefix):
            validate_prefix(table_prefix)  # a template is checked once rendered, in execute
        if not isinstance(pending_after_days, str):
            _days(pending_after_days)
        # The default outlet names the prefix and destination: with a template among them it is built
        # from the rendered values in execute (the template text names no table).
        default_outlet = "outlets" not in kwargs
        if default_outlet and not templated:
            kwargs["outlets"] = [ledger_asset(destination_conn_id, table_prefix)]
        super().__init__(**kwargs)
        self._default_outlet = default_outlet
        self.conn_id = conn_id
        self.destination_conn_id = destination_conn_id
        self.table_prefix = table_prefix
        self.send_tasks = send_tasks
        self.pending_after_days = pending_after_days
        self.full_refresh = full_refresh
        self.form_fields = form_fields
        self.ledger_path = ledger_path
        self.hook_params = hook_params or {}
        self._lineage_namespace: str | None = None

    def destination_hook(self) -> Any:
        if self.destination_conn_id is None:
            return embedded_hook(self.ledger_path)
        from airflow.providers.common.sql.hooks.sql import DbApiHook
        from airflow.sdk import BaseHook

        hook = BaseHook.get_connection(self.destination_conn_id).get_hook()
        if not isinstance(hook, DbApiHook):
            from airflow.providers.common.compat.sdk import AirflowFailException

            raise AirflowFailException(
                f"destination_conn_id: {self.destination_conn_id!r} is not a SQL connection"
            )
        return hook

    def _send_tasks(self) -> list[str]:
        if self.send_tasks is not None:
            return list(self.send_tasks)
        from airflow_provider_esign.operators.send import SendDocumentOperator

        dag = getattr(self, "dag", None)
        if dag is None:
            return []
        return [f"{dag.dag_id}.{t.task_id}" for t in dag.tasks if isinstance(t, SendDocumentOperator)]

    @closes_hook
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_esign.ledger import airflow_records, engine, reconcile
        from airflow_provider_esign.ledger.schema import validate_prefix
        from airflow_provider_esign.ledger.store import LedgerStore

        # Bad input fails before any call: both may come rendered from a template.
        days = _days(self.pending_after_days)
        prefix = validate_prefix(self.table_prefix)
        if self._default_outlet:
            self.outlets = [ledger_asset(self.destination_conn_id, prefix)]
        db_hook = self.destination_hook()
        store = LedgerStore(db_hook, prefix)
        try:
            store.ensure_schema()
            hook = self.hook
            result = engine.sync(hook, store, full_refresh=self.full_refresh, form_fields=self.form_fields)
            send_tasks = self._send_tasks()
            if send_tasks:
                airflow_records.mirror_send_records(store, send_tasks)
                airflow_records.attribute_senders(store, hook.conn_id, hook.vendor)
            summary = reconcile.reconcile(
                store,
                hook.conn_id,
                hook.vendor,
                str(context["run_id"]),
                pending_after=timedelta(days=days),
                failed_ids=list(dict.fromkeys(result.failed)),
            )
            counts = store.counts(hook.conn_id)
            self._lineage_namespace = store.dialect.name
        finally:
            store.close()
        self.log.info(
            "Ledger %s: %d call(s) (%s), %d read, %d new, %d changed, %d marked deleted; tables %s",
            hook.conn_id,
            result.calls,
            "+".join(result.walks),
            result.read,
            result.new_count,
            result.changed_count,
            len(result.deleted),
            counts,
        )
        self.log.info(
            "Reconciliation: %d sent by Airflow but not at the vendor, %d pending > %s days, %d failed since the last sync",
            summary["missing_at_vendor_count"],
            summary["pending_too_long_count"],
            self.pending_after_days,
            summary["failed_since_last_sync_count"],
        )
        extra: dict[str, Any] = {
            "conn_id": hook.conn_id,
            "vendor": hook.vendor,
            "rows": counts,
            "cursor": {k: result.state.get(k) for k in ("phase", "last_walk", "since", "finished_at")},
            "calls": result.calls,
            "new": result.new_count,
            "changed": result.changed_count,
            "deleted": len(result.deleted),
        }
        outlet_events = context.get("outlet_events")
        if outlet_events is not None:
            for outlet in self.outlets:
                if isinstance(outlet, Asset):
                    outlet_events[outlet].extra = extra
        return {
            "sync": {**extra, "walks": result.walks, "read": result.read, "deleted_ids": result.deleted[:50]},
            "reconciliation": summary,
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the vendor account in, the ledger tables out."""
        from airflow.providers.common.compat.openlineage.facet import Dataset

        from airflow_provider_esign.hooks import get_hook
        from airflow_provider_esign.ledger.schema import PUBLIC_TABLES
        from airflow_provider_esign.lineage import operator_lineage

        vendor = get_hook(self.conn_id).vendor
        namespace = f"{self._lineage_namespace or 'sqlite'}://{self.destination_conn_id or 'embedded'}"
        outputs = [Dataset(namespace=namespace, name=t.name(self.table_prefix)) for t in PUBLIC_TABLES]
        return operator_lineage([Dataset(namespace=f"{vendor}://{self.conn_id}", name="documents")], outputs)


def _is_template(value: Any) -> bool:
    """Whether Airflow renders the value before execute (Jinja text, or an XComArg to resolve)."""
    if isinstance(value, str):
        return any(mark in value for mark in ("{{", "{%", "{#"))
    return hasattr(value, "resolve")


def _days(value: Any) -> float:
    """``pending_after_days`` as a number (it may come rendered from a template)."""
    from airflow_provider_esign.exceptions import ESignValidationError

    try:
        days = float(value)
    except (TypeError, ValueError):
        raise ESignValidationError("pending_after_days", "must be a number of days") from None
    if days < 0:
        raise ESignValidationError("pending_after_days", "must be zero or more")
    return days
