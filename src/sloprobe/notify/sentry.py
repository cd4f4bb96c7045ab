"""Sentry: breach events (one per incident) and Crons check-ins, through the real sentry-sdk.

The SDK runs with its own client in an isolated scope — never the global
one, which may belong to the project whose tests pytest is running — with no
default integrations, no PII, and every string passed through the run's
redactor. A transport that notes which envelopes Sentry accepted tells us
what was delivered, so an opening refused with 429 is sent again next run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sloprobe.model.notice import Notice

Scrub = Callable[[str], str]


def scrub_event(event: Any, scrub: Scrub) -> Any:
    """Every string in the event, keys included, through the redactor."""
    if isinstance(event, str):
        return scrub(event)
    if isinstance(event, dict):
        return {scrub_event(k, scrub): scrub_event(v, scrub) for k, v in event.items()}
    if isinstance(event, list | tuple):
        return [scrub_event(v, scrub) for v in event]
    return event


class SentryNotifier:
    """One client for one run; ``close()`` flushes within the bound and tells what got through."""

    def __init__(
        self, dsn: str, environment: str, release: str | None, scrub: Scrub, flush_timeout: float
    ) -> None:
        import sentry_sdk
        from sentry_sdk.transport import HttpTransport

        accepted: set[str] = set()
        lock = threading.Lock()

        class ConfirmingTransport(HttpTransport):
            def _handle_response(self, response: Any, envelope: Any) -> None:
                status = getattr(response, "status", 0)
                if envelope is not None and 200 <= status < 300:
                    event_id = envelope.headers.get("event_id")
                    with lock:
                        if event_id:
                            accepted.add(event_id)
                        for item in envelope.items:
                            payload = item.payload.json if item.payload else None
                            if isinstance(payload, dict) and payload.get("check_in_id"):
                                accepted.add(payload["check_in_id"])
                super()._handle_response(response, envelope)

        self._accepted = accepted
        self._lock = lock
        self._flush_timeout = flush_timeout
        self._scrub = scrub
        self._client = sentry_sdk.Client(
            dsn=dsn,
            environment=environment,
            release=release,
            default_integrations=False,
            auto_enabling_integrations=False,
            max_breadcrumbs=0,
            shutdown_timeout=flush_timeout,
            transport=ConfirmingTransport,
            before_send=lambda event, hint: scrub_event(event, scrub),
            before_breadcrumb=lambda crumb, hint: scrub_event(crumb, scrub),
        )
        # sentry-sdk guesses a release when given none: $SENTRY_RELEASE, else `git rev-parse HEAD`
        # of the working directory — the probe repository's own commit, which says nothing of
        # the service. The release is only ever the one under test (--release, $SLOPROBE_RELEASE).
        self._client.options["release"] = release

    def _capture(self, event: dict[str, Any]) -> str | None:
        import sentry_sdk

        with sentry_sdk.isolation_scope() as scope:
            scope.set_client(self._client)
            return scope.capture_event(scrub_event(event, self._scrub))

    def send(
        self,
        notice: Notice,
        *,
        event_id: str,
        message: str,
        level: str,
        fingerprint: list[str],
        tags: dict[str, str],
        contexts: dict[str, Any],
        trace: dict[str, Any] | None = None,
    ) -> str:
        """``trace``: Sentry's ``trace`` context of the failing probe, so the event sits in the
        backend's own trace (sentry-sdk keeps one an event brings)."""
        event = {
            "event_id": event_id,
            "level": level,
            "logger": "sloprobe",
            "message": message,
            "fingerprint": fingerprint,
            "tags": tags,
            "contexts": {"slo": contexts, **({"trace": trace} if trace else {})},
        }
        self._capture(event)
        return event_id

    def checkin(
        self,
        slug: str,
        status: str,
        check_in_id: str | None,
        duration: float | None,
        config: dict[str, Any],
    ) -> str:
        from sentry_sdk.crons.api import _create_check_in_event

        event = _create_check_in_event(
            monitor_slug=slug,
            check_in_id=check_in_id,
            status=status,
            duration_s=duration,
            monitor_config=config,  # type: ignore[arg-type]
        )
        self._capture(dict(event))
        return str(event["check_in_id"])

    def close(self) -> set[str]:
        """Flush (bounded) and return the ids Sentry accepted."""
        self._client.flush(timeout=self._flush_timeout)
        self._client.close(timeout=0.1)
        with self._lock:
            return set(self._accepted)
