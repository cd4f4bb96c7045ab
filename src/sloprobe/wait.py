"""``sloprobe wait``: poll a health URL until the new release is ready, or give up clearly.

A post-deploy gate first waits for the deploy to be live (optionally until
a version endpoint reports the expected release), then probes it once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_before_delay, wait_exponential

from sloprobe.probes.http.measure import ABSENT, dig
from sloprobe.redact import redact_url


@dataclass(frozen=True)
class WaitResult:
    ready: bool
    waited_s: float
    attempts: int
    last: str  # the last answer, for the message


def wait_until_ready(
    base_url: str,
    path: str = "/health",
    timeout_s: float = 300.0,
    interval_s: float = 2.0,
    release: str | None = None,
    version_path: str | None = None,
    version_field: str = "version",
    request_timeout_s: float = 5.0,
) -> WaitResult:
    """Poll ``base_url + path`` until it answers 2xx (and the version matches ``release``)."""
    start = time.monotonic()
    attempts = 0
    last = "no answer yet"
    url = base_url.rstrip("/") + path

    def ready() -> bool:
        nonlocal attempts, last
        attempts += 1
        try:
            with httpx.Client(timeout=request_timeout_s, follow_redirects=True) as client:
                answer = client.get(url)
                if not answer.is_success:
                    last = f"{redact_url(url)} answered {answer.status_code}"
                    return False
                if release is None:
                    last = f"{redact_url(url)} answered {answer.status_code}"
                    return True
                version_url = base_url.rstrip("/") + (version_path or path)
                document = client.get(version_url).json()
                found = dig(document, version_field)
                found_text = "nothing" if found is ABSENT else str(found)
                last = f"{redact_url(version_url)} reports {version_field} {found_text}, waiting for {release}"
                return found is not ABSENT and str(found) == release
        except (httpx.HTTPError, ValueError) as exc:
            last = f"{redact_url(url)}: {type(exc).__name__}"
            return False

    polling = Retrying(
        stop=stop_before_delay(timeout_s),  # never start a poll that would end past the timeout
        wait=wait_exponential(multiplier=interval_s, min=interval_s, max=max(interval_s, 10.0)),
        retry=retry_if_result(lambda ok: not ok),
    )
    try:
        polling(ready)
    except RetryError:
        return WaitResult(False, time.monotonic() - start, attempts, last)
    return WaitResult(True, time.monotonic() - start, attempts, last)
