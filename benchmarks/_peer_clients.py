"""The peers group's clients (see :mod:`benchmarks.peers`): the official SDKs and the bare WeSignature
credentials, each pointed at the sandbox, and a fresh sandbox account."""

from __future__ import annotations

from typing import Any

from benchmarks.common import SandboxProcess

SIGNER = {"name": "Ada Lovelace", "email": "ada@example.com"}


def legalesign_client(sandbox: SandboxProcess, max_retries: int = 0) -> Any:
    import legalesign

    from esign_sandbox import credentials as c

    return legalesign.Legalesign(
        api_key=f"ApiKey {c.LEGALESIGN_USERNAME}:{c.LEGALESIGN_SECRET}",
        base_url=sandbox.client.vendor_url("legalesign"),
        max_retries=max_retries,
    )


def esignbase_client(sandbox: SandboxProcess) -> Any:
    import esignbase_sdk

    from esign_sandbox import credentials as c

    esignbase_sdk.BASE_URL = sandbox.client.vendor_url("esignbase") + "/"  # the SDK's one setting
    client = esignbase_sdk.OAuth2Client(
        id=c.ESIGNBASE_CLIENT_ID, secret=c.ESIGNBASE_CLIENT_SECRET, scope=[esignbase_sdk.Scope.ALL]
    )
    esignbase_sdk.connect(client)
    return client


def wesignature_auth() -> dict[str, str]:
    from esign_sandbox import credentials as c

    return {"user_id": c.WESIGNATURE_USER_ID, "api_key": c.WESIGNATURE_API_KEY}


def fresh(sandbox: SandboxProcess, **config: Any) -> Any:
    """A reset sandbox account, and no WeSignature send ledger from before it: a reset account
    reuses guids, which a shared baseline of the old account would hold (a real account never does)."""
    import glob
    import os

    from airflow_provider_esign.hooks.wesignature.ledgers import forget_ledgers

    client = sandbox.fresh(**config)
    forget_ledgers()
    for path in glob.glob(os.path.join(os.environ["AIRFLOW__ESIGN__RATELIMIT_DIR"], "wesignature-sends-*")):
        os.remove(path)
    return client
