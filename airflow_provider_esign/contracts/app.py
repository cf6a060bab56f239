"""The Contracts page's routes, mounted by the plugin at ``/esign-contracts``.

``GET /``                    the page (HTML shell; data comes from the JSON API)
``GET /static/{file}``       its script and style sheet
``GET /api/documents``       one page of documents, header counts, per-connection freshness
``GET /api/token``           a short-lived token for the Authorization header of actions
``POST /api/documents/{conn_id}/{document_id}/{remind|cancel}``  body ``{"confirm": true}``

Every route authenticates (see :mod:`~airflow_provider_esign.contracts.auth`); every response is
``no-store`` and carries a Content-Security-Policy that allows only this app's own script, so even a
vendor string that slipped into the markup could not run.
"""

from __future__ import annotations

import contextlib
import html
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from airflow_provider_esign.contracts import auth
from airflow_provider_esign.contracts.actions import ACTIONS, ActionRefused, Actions, parse_body
from airflow_provider_esign.contracts.records import RecordStore, parse_filters
from airflow_provider_esign.contracts.status import DEFAULT_REFRESH_SECONDS, StatusCache
from airflow_provider_esign.contracts.view import PageBuilder

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
}
STATIC = {"contracts.js": "text/javascript", "contracts.css": "text/css"}


def _static(name: str) -> str:
    return (
        resources.files("airflow_provider_esign.contracts")
        .joinpath("static")
        .joinpath(name)
        .read_text("utf-8")
    )


def refresh_seconds() -> float:
    """``[esign] contracts_refresh_seconds``: time between two status reads of one connection."""
    from airflow.configuration import conf

    return conf.getfloat("esign", "contracts_refresh_seconds", fallback=DEFAULT_REFRESH_SECONDS)


class Services:
    """The per-process objects behind the routes (built on first use; injectable for tests)."""

    def __init__(self, cache: StatusCache | None = None, get_hook: Any = None, wall: Any = None) -> None:
        import datetime as dt
        import time

        wall = wall or time.time
        self.cache = cache or StatusCache(refresh_seconds=refresh_seconds())
        self.store = RecordStore(now=lambda: dt.datetime.fromtimestamp(wall(), dt.timezone.utc))
        self.pages = PageBuilder(self.store, self.cache, auth.may_edit_dag, wall)
        extra = {"get_hook": get_hook} if get_hook is not None else {}
        self.actions = Actions(self.store, self.cache, auth.may_edit_dag, auth.user_name, **extra)


def _session() -> Any:
    from airflow.utils.session import create_session

    return create_session()


def _unauthenticated_page(exc: HTTPException) -> HTMLResponse:
    login = "/"
    with contextlib.suppress(Exception):  # no auth manager URL: Airflow's home page logs in too
        login = auth.auth_manager().get_url_login() or "/"
    body = _static("login.html").replace("{{login}}", html.escape(login, quote=True))
    return HTMLResponse(
        body, status_code=exc.status_code, headers={**SECURITY_HEADERS, **(exc.headers or {})}
    )


def create_app(services: Services | None = None) -> FastAPI:
    """The FastAPI app the plugin mounts (services are built on first request unless given)."""
    from starlette.concurrency import run_in_threadpool

    app = FastAPI(title="E-signature contracts", docs_url=None, redoc_url=None, openapi_url=None)
    state: dict[str, Services] = {}

    def svc() -> Services:
        if "services" not in state:
            state["services"] = services or Services()
        return state["services"]

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def viewer(request: Request) -> Any:
        user = await auth.current_user(request)
        await run_in_threadpool(auth.require_view, user)
        return user

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request) -> Response:
        try:
            user = await viewer(request)
        except HTTPException as exc:
            if exc.status_code == 401:
                return _unauthenticated_page(exc)
            return HTMLResponse(
                _static("forbidden.html"), status_code=exc.status_code, headers=SECURITY_HEADERS
            )
        token = await run_in_threadpool(auth.action_token, user)
        body = _static("contracts.html").replace("{{token}}", token)  # a JWT: [A-Za-z0-9._-] only
        return HTMLResponse(body, headers=SECURITY_HEADERS)

    @app.get("/static/{name}")
    async def static(name: str, request: Request) -> Response:
        await viewer(request)
        if name not in STATIC:
            raise HTTPException(404, "Not found")
        return Response(_static(name), media_type=STATIC[name])

    @app.get("/api/token")
    async def token(request: Request) -> dict[str, Any]:
        user = await viewer(request)
        return {"token": await run_in_threadpool(auth.action_token, user)}

    @app.get("/api/documents")
    async def documents(request: Request) -> Any:
        user = await viewer(request)
        from airflow_provider_esign.exceptions import ESignValidationError

        try:
            filters = parse_filters(dict(request.query_params))
        except ESignValidationError as exc:
            return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=400)

        def build() -> dict[str, Any]:
            dag_ids = auth.readable_dag_ids(user)
            with _session() as session:
                return svc().pages.build(user, filters, dag_ids, session)

        return await run_in_threadpool(build)

    @app.post("/api/documents/{conn_id}/{document_id}/{action}")
    async def act(conn_id: str, document_id: str, action: str, request: Request) -> Any:
        user = await auth.current_user(request, header_only=True)
        await run_in_threadpool(auth.require_view, user)
        if action not in ACTIONS:
            raise HTTPException(404, f"Unknown action; use one of {', '.join(ACTIONS)}")
        try:
            body = await request.json()
        except ValueError:
            body = None
        try:
            options = parse_body(action, body)

            def perform() -> dict[str, Any]:
                with _session() as session:
                    return svc().actions.perform(action, conn_id, document_id, options, user, session)

            return await run_in_threadpool(perform)
        except ActionRefused as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    return app
