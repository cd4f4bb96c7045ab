"""``python -m sloprobe.demo.service``: run the reference service in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import threading

from sloprobe.demo.service import Faults, ServiceConfig, start_service


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sloprobe.demo.service", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--api-latency-ms", type=float, default=0.0)
    parser.add_argument("--processing-ms", type=float, default=20.0)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--workers-stopped", action="store_true")
    parser.add_argument("--backlog", type=int, default=0)
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("ADMIN_TOKEN"),
        help="require `Authorization: Bearer TOKEN` on /admin routes (default: $ADMIN_TOKEN)",
    )
    args = parser.parse_args()
    # Each job its worker ends, with the trace id of the request that submitted it.
    logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("sloprobe.demo.service").setLevel(logging.INFO)
    faults = Faults(
        api_latency_ms=args.api_latency_ms,
        processing_ms=args.processing_ms,
        failure_rate=args.failure_rate,
        workers_stopped=args.workers_stopped,
        backlog=args.backlog,
    )
    with start_service(
        ServiceConfig(
            host=args.host,
            port=args.port,
            workers=args.workers,
            faults=faults,
            admin_token=args.admin_token or None,
        )
    ) as service:
        print(f"reference job service at {service.base_url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
