"""``[core] hostname_callable`` for the deployment test: each Celery worker reports the name it was
given in ``ESIGN_WORKER_HOSTNAME``, as two hosts would, so task instances show which worker ran them."""

from __future__ import annotations

import os
import socket


def get() -> str:
    return os.environ.get("ESIGN_WORKER_HOSTNAME") or socket.getfqdn()
