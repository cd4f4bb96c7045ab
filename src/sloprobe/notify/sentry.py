"""Sentry: breach events (one per incident) and Crons check-ins, through the real sentry-sdk.

The SDK runs with its own client in an isolated scope — never the global
one, which may belong to the project whose tests pytest is running — with no
default integrations, no PII, and every string passed through the run's
redactor. Only sentry-sdk's public API is used: check-ins go through
``sentry_sdk.crons.capture_checkin``, and the client's transport is sloprobe's
own (on the public ``Transport`` base), which POSTs each envelope through
:mod:`sloprobe.notify.http` and notes which ones Sentry accepted (a 2xx). That
tells us what was delivered, so an opening refused with 429 is sent again next run.
"""

from __future__ import annotations

import gzip
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sloprobe.model.notice import Notice
from sloprobe.notify.http import send as send_http
from sloprobe.notify.messages import context
from sloprobe.notify.outgoing import Handed, Outgoing
from sloprobe.probes.tracing import TraceRef, new_span_id

if TYPE_CHECKING:
    from sentry_sdk.envelope import Envelope
    from sentry_sdk.scope import Scope
    from sentry_sdk.transport import Transport

Scrub = Callable[[str], str]
QUEUE_SIZE = 100  # sentry-sdk's own default queue; a run sends a handful of envelopes


def scrub_event(event: Any, scrub: Scrub) -> Any:
    """Every string in the event, keys included, through the redactor."""
    if isinstance(event, str):
        return scrub(event)
    if isinstance(event, dict):
        return {scrub_event(k, scrub): scrub_event(v, scrub) for k, v in event.items()}
    if isinstance(event, list | tuple):
        return [scrub_event(v, scrub) for v in event]
    return event


class Outbox:
    """Envelopes on their way to Sentry, sent in order by one daemon thread, each within
    ``timeout`` (notify/http.py: a total deadline, a capped read, no redirects).

    Notes the ids (event id, check-in id) of every envelope Sentry answered with a 2xx;
    anything else — refused, 429, 5xx, no answer in time, dropped when full or closed —
    is simply not accepted, and the notice stays pending for the next run.
    """

    def __init__(self, url: str, headers: dict[str, str], scrub: Scrub, timeout: float) -> None:
        self.url = url
        self.headers = headers
        self.scrub = scrub
        self.timeout = timeout
        self.accepted: set[str] = set()
        self.waiting: deque[tuple[bytes, list[str]]] = deque()
        self.unsettled = 0  # waiting or being sent
        self.closed = False
        self.changed = threading.Condition()
        self.worker: threading.Thread | None = None

    def put(self, body: bytes, ids: list[str]) -> None:
        with self.changed:
            if self.closed or len(self.waiting) >= QUEUE_SIZE:
                return
            self.waiting.append((body, ids))
            self.unsettled += 1
            if self.worker is None:
                self.worker = threading.Thread(
                    target=self.run, name="sloprobe-notify-sentry", daemon=True
                )
                self.worker.start()
            self.changed.notify_all()

    def run(self) -> None:
        while True:
            with self.changed:
                self.changed.wait_for(lambda: self.closed or bool(self.waiting))
                if self.closed:
                    return
                body, ids = self.waiting.popleft()
            refused = send_http(
                "POST",
                self.url,
                content=body,
                headers=self.headers,
                timeout=self.timeout,
                what="Sentry",
                scrub=self.scrub,
            )
            with self.changed:
                if refused is None:
                    self.accepted.update(ids)
                self.unsettled -= 1
                self.changed.notify_all()

    def flush(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until every envelope put has had its answer."""
        with self.changed:
            self.changed.wait_for(lambda: self.unsettled == 0, timeout)

    def close(self) -> None:
        """Send nothing more; an envelope in flight ends within its own deadline, unnoted."""
        with self.changed:
            self.closed = True
            self.unsettled -= len(self.waiting)
            self.waiting.clear()
            self.changed.notify_all()

    def delivered(self) -> set[str]:
        with self.changed:
            return set(self.accepted)


def envelope_ids(envelope: Envelope) -> list[str]:
    """The ids whose delivery the envelope decides: its event id and any check-in's id."""
    ids = [str(envelope.headers["event_id"])] if envelope.headers.get("event_id") else []
    for item in envelope.items:
        payload = item.payload.json if item.payload else None
        if isinstance(payload, dict) and payload.get("check_in_id"):
            ids.append(str(payload["check_in_id"]))
    return ids


def confirming_transport(dsn: str, scrub: Scrub, timeout: float) -> tuple[Transport, Outbox]:
    """A transport for the client (sentry-sdk's public ``Transport`` base) and its outbox."""
    from sentry_sdk.consts import VERSION
    from sentry_sdk.transport import Transport
    from sentry_sdk.utils import Dsn

    class ConfirmingTransport(Transport):
        def __init__(self, outbox: Outbox) -> None:
            super().__init__({"dsn": dsn})  # parsed_dsn, which the client reads
            self.sloprobe_outbox = outbox

        def capture_envelope(self, envelope: Envelope) -> None:
            body = gzip.compress(envelope.serialize())
            self.sloprobe_outbox.put(body, envelope_ids(envelope))

        def flush(self, timeout: float, callback: Any | None = None) -> None:
            self.sloprobe_outbox.flush(timeout)

        def kill(self) -> None:
            self.sloprobe_outbox.close()

    auth = Dsn(dsn).to_auth(f"sentry.python/{VERSION}")  # BadDsn (a ValueError) if malformed
    headers = {
        "Content-Type": "application/x-sentry-envelope",
        "Content-Encoding": "gzip",
        "User-Agent": f"sentry.python/{VERSION}",
        "X-Sentry-Auth": auth.to_header(),
    }
    outbox = Outbox(auth.get_api_url(), headers, scrub, timeout)
    return ConfirmingTransport(outbox), outbox


class SentryNotifier:
    """One client for one run; ``close()`` flushes within the bound and tells what got through."""

    def __init__(
        self, dsn: str, environment: str, release: str | None, scrub: Scrub, flush_timeout: float
    ) -> None:
        import sentry_sdk

        transport, self._outbox = confirming_transport(dsn, scrub, flush_timeout)
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
            transport=transport,
            before_send=lambda event, hint: scrub_event(event, scrub),
            before_breadcrumb=lambda crumb, hint: scrub_event(crumb, scrub),
        )
        # sentry-sdk guesses a release when given none: $SENTRY_RELEASE, else `git rev-parse HEAD`
        # of the working directory — the probe repository's own commit, which says nothing of
        # the service. The release is only ever the one under test (--release, $SLOPROBE_RELEASE).
        self._client.options["release"] = release

    @contextmanager
    def _own_scope(self) -> Iterator[Scope]:
        """Forked isolation and current scopes, both bound to our client, restored on exit.

        sentry-sdk looks for a client in the current scope first: a client another project
        set there would otherwise take what is ours.
        """
        import sentry_sdk

        with sentry_sdk.isolation_scope() as scope:
            scope.set_client(self._client)
            sentry_sdk.get_current_scope().set_client(self._client)  # the fork, not the outer one
            yield scope

    def _capture(self, event: dict[str, Any]) -> str | None:
        with self._own_scope() as scope:
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
        """One Crons check-in; its id (a new one unless given), whether or not Sentry takes it.

        Environment and release are our client's: the check-in is built inside our scope.
        """
        from sentry_sdk.crons import capture_checkin

        check_in_id = check_in_id or uuid.uuid4().hex
        scrub = self._scrub
        with self._own_scope():
            capture_checkin(
                monitor_slug=scrub(slug),
                check_in_id=scrub(check_in_id),
                status=scrub(status),
                duration=duration,
                monitor_config=cast(Any, scrub_event(config, scrub)),
            )
        return check_in_id

    def close(self) -> set[str]:
        """Flush (bounded) and return the ids Sentry accepted."""
        self._client.flush(timeout=self._flush_timeout)
        self._client.close(timeout=0.1)
        return self._outbox.delivered()


def sentry_trace(trace: TraceRef) -> dict[str, Any]:
    """Sentry's ``trace`` context: the breach event sits in the backend's own trace."""
    return {
        "trace_id": trace.trace_id,
        "span_id": new_span_id(),
        "op": "sloprobe.probe",
        "type": "trace",
    }


@dataclass
class SentryChannel:
    """Breach and resolve events as a :class:`~sloprobe.notify.deliver.Sender`.

    Events go through sentry-sdk's queue: whether Sentry accepted one is known
    only when the client closes, so :meth:`send` hands each over under its event
    id and :meth:`settle` sends ``before_close`` (the run's final check-in), closes
    the client within its bound and answers the ids Sentry accepted.
    """

    notifier: SentryNotifier
    level: str = "error"
    before_close: Callable[[], None] | None = None

    def send(self, outgoing: Outgoing) -> Handed:
        notice, run, verdict, trace = (
            outgoing.notice,
            outgoing.run,
            outgoing.verdict,
            outgoing.trace,
        )
        resolved = notice.kind == "resolved"
        fingerprint = ["sloprobe", run.service, run.environment, notice.slo]
        if resolved:
            fingerprint.append("recovered")  # its own issue: no regression of the breach issue
        tags = {
            "service": run.service,
            "slo": notice.slo,
            "transition": notice.kind,
            "status": verdict.status.value if verdict else "unknown",
            "probe_kind": outgoing.probe_kind or "unknown",
            **(outgoing.seen.tags() if outgoing.seen is not None else {}),
        }
        contexts = {
            **context(run, verdict, outgoing.report_url, notice, outgoing.seen),
            **({"trace_url": trace.url, "job": trace.job} if trace is not None else {}),
        }
        event_id = self.notifier.send(
            notice,
            event_id=outgoing.event_id,
            message=outgoing.headline,
            level="info" if resolved else self.level,
            fingerprint=fingerprint,
            tags=tags,
            contexts=contexts,
            trace=sentry_trace(trace) if trace is not None else None,
        )
        return Handed(event_id)

    def settle(self) -> set[str]:
        if self.before_close is not None:
            self.before_close()
        return self.notifier.close()
