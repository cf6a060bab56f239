"""Who may see the page and who may act on a document, decided by Airflow's auth manager.

Airflow does not authenticate plugin apps, so every route here does. The user is the one Airflow's
own API would see: the JWT of the ``Authorization: Bearer`` header, else the UI's ``_token`` cookie
(:func:`airflow.api_fastapi.core_api.security.resolve_user_from_token`: missing or expired → 401,
invalid → 403, as on Airflow's REST API).

- Viewing (page, JSON, static files): the user must be allowed to read task instances and XComs
  (the records are XComs of task instances), and sees only documents of DAGs they may read
  (``get_authorized_dag_ids``), as Airflow's own list endpoints filter.
- Reminding and cancelling: the user must be allowed to edit (``PUT``) the DAG that sent the document,
  and the request must carry the token in the ``Authorization`` header. The cookie alone is refused:
  a browser attaches it to cross-site requests, a header it never does (CSRF). The page gets a
  short-lived token for that header from :func:`action_token`, readable by same-origin script only.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from fastapi import HTTPException, Request

#: Lifetime of the token the page puts in the Authorization header of its actions.
ACTION_TOKEN_SECONDS = 15 * 60
_BEARER = "bearer "


def auth_manager() -> Any:
    """Airflow's auth manager, which decides every permission of the page."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    if header.lower().startswith(_BEARER):
        return header[len(_BEARER) :].strip() or None
    return None


async def current_user(request: Request, *, header_only: bool = False) -> Any:
    """The logged-in user: the Bearer token, else (unless ``header_only``) the ``_token`` cookie.

    :raises HTTPException: 401 without a (valid, unexpired) token, 403 for an invalid one.
    """
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    token = bearer_token(request)
    if token is None and header_only:
        raise HTTPException(
            401,
            "This action needs the token in the Authorization header (the session cookie alone is "
            "not accepted for changes)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if token is None:
        token = request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    try:
        return await resolve_user_from_token(token)
    except HTTPException as exc:
        if exc.status_code == 401:
            exc.headers = {**(exc.headers or {}), "WWW-Authenticate": "Bearer"}
        raise


def _dag_access(method: str, entity_name: str | None, dag_id: str | None, user: Any) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    details = None
    if dag_id is not None:
        team = None
        try:
            from airflow.models.dag import DagModel

            team = DagModel.get_team_name(dag_id) if hasattr(DagModel, "get_team_name") else None
        except Exception:  # a deployment without teams
            team = None
        details = DagDetails(id=dag_id, team_name=team)
    entity = DagAccessEntity[entity_name] if entity_name else None
    return bool(
        auth_manager().is_authorized_dag(method=method, access_entity=entity, details=details, user=user)
    )


def require_view(user: Any) -> None:
    """403 unless the user may read task instances and their XComs."""
    if not (_dag_access("GET", "TASK_INSTANCE", None, user) and _dag_access("GET", "XCOM", None, user)):
        raise HTTPException(403, "You may not view task instances and XComs, which this page lists")


def readable_dag_ids(user: Any) -> Collection[str]:
    """The DAGs whose documents the user may see."""
    return auth_manager().get_authorized_dag_ids(user=user, method="GET")


def may_edit_dag(user: Any, dag_id: str) -> bool:
    """Whether the user may edit the DAG (the permission Airflow asks to clear or mark its tasks)."""
    return _dag_access("PUT", None, dag_id, user)


def action_token(user: Any) -> str:
    """A short-lived Airflow JWT for the page's Authorization header."""
    return str(auth_manager().generate_jwt(user, expiration_time_in_seconds=ACTION_TOKEN_SECONDS))


def user_name(user: Any) -> str:
    try:
        return str(user.get_name())
    except Exception:
        return "unknown"
