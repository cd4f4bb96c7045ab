"""One HTTP delivery, bounded in all by its timeout, and what became of it in words without secrets.

Delivered means a 2xx answer; anything else (refused, a timeout, 3xx, 4xx, 429,
5xx) leaves the notice pending for the next run. The request runs in a daemon
thread that the run waits for at most ``timeout`` seconds, so a receiver that
drips its answer cannot hold the run: httpx bounds each phase, not the sum.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping

import httpx

from sloprobe.model.units import format_duration

MAX_ANSWER_BYTES = 16 * 1024  # enough for an error message; the rest is not read
Scrub = Callable[[str], str]


def send(
    method: str,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
    what: str,
    scrub: Scrub,
) -> str | None:
    """Send one request; None when the receiver took it (2xx), else why not (secret-free)."""
    outcome: list[str | None] = []

    def attempt() -> None:
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=False) as client,
                client.stream(method, url, content=content, headers=dict(headers)) as answer,
            ):
                body = b""
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) >= MAX_ANSWER_BYTES:
                        break
                outcome.append(_judged(answer.status_code, body, what, scrub))
        except httpx.HTTPError as exc:
            outcome.append(f"{what} unreachable ({type(exc).__name__})")
        except Exception as exc:  # a bug of ours must not lose the notice: it stays pending
            outcome.append(f"{what} not sent ({type(exc).__name__})")

    worker = threading.Thread(target=attempt, name=f"sloprobe-notify-{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        bound = f"{timeout * 1000:.0f} ms" if timeout < 1 else format_duration(timeout)
        return f"{what} gave no answer within {bound}"
    return outcome[0]


def _judged(status: int, body: bytes, what: str, scrub: Scrub) -> str | None:
    if 200 <= status < 300:
        return None
    said = _message(body)
    detail = f": {scrub(said)[:200]}" if said else ""
    return f"{what} answered {status}{detail}"


def _message(body: bytes) -> str | None:
    """The receiver's own words for a refusal, when it sends JSON (PagerDuty's ``errors``)."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors[:3])
    message = data.get("message")
    return str(message) if message else None
