"""Looking up a hook: ``get_hook`` picks the vendor's hook class and reads the connection once."""

from __future__ import annotations


def test_get_hook_reads_the_connection_once(make_connection, monkeypatch):
    """A mapped task builds one hook per task: the connection lookup that picks the hook class is
    the one its settings come from (before: two lookups per task)."""
    from airflow.sdk import BaseHook

    from airflow_provider_esign.hooks import get_hook

    make_connection("once", "wesignature", host="https://wesig.invalid/apihandler/", user_id="u", api_key="k")
    reads = []
    original = BaseHook.get_connection.__func__

    def counting(cls, conn_id):
        reads.append(conn_id)
        return original(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(counting))
    hook = get_hook("once")
    assert hook.settings.base_url == "https://wesig.invalid/apihandler/"
    assert reads == ["once"]
