"""``python -m esign_sandbox``: run the sandbox in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from types import FrameType

from esign_sandbox.config import VENDORS, SandboxConfig
from esign_sandbox.credentials import ESIGNBASE_TEMPLATES
from esign_sandbox.journal import access_log
from esign_sandbox.server import Sandbox


def build_parser() -> argparse.ArgumentParser:
    """:return: the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m esign_sandbox",
        description="Local emulator of the Legalesign, WeSignature and eSignBase APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests with this Host header (repeatable; loopback names always work)",
    )
    parser.add_argument("--port", type=int, default=8765, help="TCP port, 0 for any free port (default 8765)")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for ids and per-document choices: the same seed gives the same ids on every start "
        "(default: random, so ids never repeat across restarts)",
    )
    parser.add_argument("--sign-delay", type=float, default=None, help="seconds between signatures")
    parser.add_argument("--send-delay", type=float, default=None, help="seconds until a document is sent")
    parser.add_argument("--pdf-delay", type=float, default=None, help="seconds per post-signing step")
    parser.add_argument("--token-ttl", type=float, default=None, help="eSignBase token lifetime in seconds")
    parser.add_argument("--webhook-url", default=None, help="eSignBase Document Completed Hook URL")
    parser.add_argument("--config", default=None, help="JSON object of further SandboxConfig fields")
    parser.add_argument("--log-level", default="warning", help="server log level (default warning)")
    parser.add_argument(
        "--log-requests",
        action="store_true",
        help="log one access-log line per vendor request to stderr (credentials redacted)",
    )
    parser.add_argument(
        "--seed-history",
        type=int,
        default=0,
        metavar="N",
        help="start with N final historical documents per vendor (90%% completed, 5%% voided, 5%% declined)",
    )
    parser.add_argument(
        "--history-years", type=float, default=5.0, help="spread --seed-history over this many past years"
    )
    parser.add_argument(
        "--list-order",
        choices=("oldest_first", "newest_first"),
        default=None,
        help="order of every vendor list (default oldest_first)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """
    Run the sandbox until interrupted.

    :param argv: arguments (defaults to ``sys.argv[1:]``).
    :return: the process exit code.
    """
    args = build_parser().parse_args(argv)
    changes = json.loads(args.config) if args.config else {}
    if args.log_requests:
        changes["log_requests"] = True
    for name in ("sign_delay", "send_delay", "pdf_delay", "token_ttl", "webhook_url", "list_order"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    try:
        config = SandboxConfig().updated(changes)
    except (ValueError, TypeError) as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return 2

    if config.log_requests:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        seed=args.seed,
        config=config,
        log_level=args.log_level,
        allowed_hosts=tuple(args.allowed_host),
    )
    sandbox.start()
    try:
        if args.seed_history:
            created = sandbox.seed_history(args.seed_history, years=args.history_years)
            print(f"seeded historical documents: {created}", flush=True)
        print(f"e-signature sandbox listening on {sandbox.url}", flush=True)
        for vendor in VENDORS:
            print(f"  {vendor:<12} {sandbox.vendor_url(vendor)}")
        print(f"  control      {sandbox.url}/_sandbox/")
        print("Airflow connections (sandbox-only credentials):")
        for key, value in sandbox.airflow_connections().items():
            print(f"export {key}='{value}'")
        print("export ESIGN_EXAMPLE_POLL_SECONDS=2   # the sandbox signs within seconds: poll often")
        print("Seeded eSignBase templates (template_id: roles):")
        for template_id, (roles, *_rest) in ESIGNBASE_TEMPLATES.items():
            print(f"  {template_id}: {', '.join(roles)}")
        sys.stdout.flush()
        while not stop.wait(0.5):
            if not sandbox.running:
                print("the sandbox server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        sandbox.stop()
    print("e-signature sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
