"""Assembly of the sandbox ASGI application (imports FastAPI; only loaded when a server starts)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException

from esign_sandbox import control, esignbase, legalesign, wesignature
from esign_sandbox.errors import http_exception_handler
from esign_sandbox.hostguard import HostGuard
from esign_sandbox.middleware import SandboxMiddleware
from esign_sandbox.responses import Rejected, rejected_handler
from esign_sandbox.state import SandboxState
from esign_sandbox.webhooks import WebhookDispatcher


def create_app(state: SandboxState, bind_host: str = "127.0.0.1", allowed_hosts: tuple[str, ...] = ()) -> Any:
    """
    Build the ASGI application serving all three vendors and the control API.

    :param state: the state the application serves.
    :param bind_host: the interface the server listens on (a request may name it in ``Host``).
    :param allowed_hosts: further ``Host`` names to serve besides loopback ones (see :class:`HostGuard`).
    :return: the ASGI callable (the FastAPI app wrapped in :class:`SandboxMiddleware`, inside
        :class:`HostGuard`).
    """
    dispatcher = WebhookDispatcher(state)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.ensure_future(dispatcher.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await dispatcher.close()

    # Legalesign answers 404 for a path without its trailing slash, so never redirect between the two forms.
    app = FastAPI(
        title="airflow-provider-esign sandbox",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    legalesign_router = legalesign.build_router(state)
    for prefix in legalesign.API_PREFIXES:
        # Legalesign's relative links (meta.next, resource_uri) start with /api/v1/, so they must resolve
        # against the server root too, exactly as they do against https://eu-api.legalesign.com.
        app.include_router(legalesign_router, prefix=prefix)
    app.include_router(legalesign.build_storage_router(state))
    app.include_router(wesignature.build_router(state))
    app.include_router(esignbase.build_router(state))
    app.include_router(control.build_router(state, dispatcher))
    app.add_exception_handler(Rejected, rejected_handler)
    app.add_exception_handler(HTTPException, http_exception_handler)
    app.state.sandbox = state
    app.state.dispatcher = dispatcher
    return HostGuard(SandboxMiddleware(app, state), bind_host, allowed_hosts)
