"""What every probe gets besides its own config: the target, a client, a redactor."""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from sloprobe import __version__
from sloprobe.redact import Redactor, redact_url

if TYPE_CHECKING:  # probes read the target's shape; they import no config at run time
    from sloprobe.config.model import Target


@dataclass(frozen=True)
class ProbeContext:
    """Shared, read-only inputs of one run's probes."""

    base_url: str
    target: Target
    redactor: Redactor

    @property
    def shown_base_url(self) -> str:
        return redact_url(self.base_url)

    def request_headers(self) -> dict[str, str]:
        """Headers for every probe request: the target's, auth and the synthetic marker."""
        headers = {"User-Agent": f"sloprobe/{__version__}", **self.target.headers}
        if self.target.synthetic_header:
            headers[self.target.synthetic_header] = "true"
        auth = self.target.auth
        if auth is not None and auth.bearer is not None:
            headers["Authorization"] = f"Bearer {auth.bearer.get_secret_value()}"
        elif auth is not None and auth.basic is not None:
            pair = f"{auth.basic.username}:{auth.basic.password.get_secret_value()}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return headers

    @cached_property
    def tls(self) -> ssl.SSLContext | bool:
        """One TLS context for every client of the run: loading the trust store costs ~20 ms."""
        return httpx.create_ssl_context() if self.target.verify_tls else False

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers=self.request_headers(),
            timeout=httpx.Timeout(self.target.timeout),
            verify=self.tls,
            follow_redirects=True,
        )

    def client(self) -> httpx.Client:
        """A synchronous client for Python probes (the ``target`` fixture)."""
        return httpx.Client(
            base_url=self.base_url,
            headers=self.request_headers(),
            timeout=httpx.Timeout(self.target.timeout),
            verify=self.tls,
            follow_redirects=True,
        )


def make_context(base_url: str, target: Target) -> ProbeContext:
    """A context whose redactor knows every secret the config holds."""
    redactor = Redactor()
    auth = target.auth
    if auth is not None and auth.bearer is not None:
        redactor.add(auth.bearer.get_secret_value())
    if auth is not None and auth.basic is not None:
        redactor.add(auth.basic.password.get_secret_value())
    for name, value in target.headers.items():
        if name.lower() in ("authorization", "cookie", "x-api-key", "api-key"):
            redactor.add(value, value.split(" ", 1)[-1])
    parts = httpx.URL(base_url)
    redactor.add(parts.password)
    return ProbeContext(base_url.rstrip("/"), target, redactor)
