"""What every probe gets besides its own config: the target, a client, a redactor.

Neither client follows redirects blindly. The run's async client follows
none: :func:`sloprobe.probes.network.fetch` decides, per probe, with the
:class:`~sloprobe.probes.network.Redirects` that :meth:`ProbeContext.redirects`
builds. The sync client of Python probes sends through ``fetch`` too
(:class:`~sloprobe.probes.python.client.TargetClient`).
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from sloprobe import __version__
from sloprobe.probes.network import (
    ACCEPT_ENCODING,
    RedirectMode,
    Redirects,
)
from sloprobe.probes.sanitize import register_spec_secrets
from sloprobe.redact import Redactor, redact_url

if TYPE_CHECKING:  # probes read the target's shape; they import no config at run time
    from sloprobe.fields.target import Auth, Target


@dataclass(frozen=True)
class ProbeContext:
    """Shared, read-only inputs of one run's probes."""

    base_url: str
    target: Target
    redactor: Redactor
    # Set once by a login (the runner's or the target client's): sent with every later request.
    login_headers: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def shown_base_url(self) -> str:
        return redact_url(self.base_url)

    def request_headers(self) -> dict[str, str]:
        """Headers for every probe request: the target's, auth and the synthetic marker."""
        headers = {"User-Agent": f"sloprobe/{__version__}", **self.target.headers}
        if self.target.synthetic_header:
            headers[self.target.synthetic_header] = "true"
        return {**headers, **authorization(self.target.auth), **self.login_headers}

    def offsite_headers(self) -> dict[str, str]:
        """What a request may carry to another origin: the User-Agent and the synthetic marker."""
        headers = {"User-Agent": f"sloprobe/{__version__}"}
        if self.target.synthetic_header:
            headers[self.target.synthetic_header] = "true"
        return headers

    def redirects(self, mode: RedirectMode = "same_origin") -> Redirects:
        """The redirect policy of a probe's requests (its ``redirects:`` option)."""
        return Redirects(mode, self.offsite_headers(), self.redactor)

    @cached_property
    def tls(self) -> ssl.SSLContext | bool:
        """One TLS context for every client of the run: loading the trust store costs ~20 ms."""
        return httpx.create_ssl_context() if self.target.verify_tls else False

    def async_client(self) -> httpx.AsyncClient:
        """The run's client for YAML probes: it follows no redirect (``fetch`` decides)."""
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Accept-Encoding": ACCEPT_ENCODING, **self.request_headers()},
            timeout=httpx.Timeout(self.target.timeout),
            verify=self.tls,
            follow_redirects=False,
        )


def authorization(auth: Auth | None) -> dict[str, str]:
    """The ``Authorization`` header of a bearer or basic ``auth`` (none without one): the
    target's, or a probe's own server's (a managed Prometheus)."""
    if auth is not None and auth.bearer is not None:
        return {"Authorization": f"Bearer {auth.bearer.get_secret_value()}"}
    if auth is not None and auth.basic is not None:
        pair = f"{auth.basic.username}:{auth.basic.password.get_secret_value()}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {}


def learn_auth(auth: Auth | None, redactor: Redactor) -> None:
    """Teach ``redactor`` the secrets of ``auth`` (the basic pair in base64 too)."""
    if auth is not None and auth.bearer is not None:
        redactor.add(auth.bearer.get_secret_value())
    if auth is not None and auth.basic is not None:
        redactor.add_basic(auth.basic.username, auth.basic.password.get_secret_value())


def make_context(base_url: str, target: Target) -> ProbeContext:
    """A context whose redactor knows every secret the config holds."""
    redactor = Redactor()
    learn_auth(target.auth, redactor)
    for name, value in target.headers.items():
        redactor.add_header(name, value)
    if target.login is not None:  # the login request's own credentials
        register_spec_secrets(target.login, redactor)
    parts = httpx.URL(base_url)
    if parts.password:  # httpx sends URL userinfo as basic auth: mask its base64 form too
        redactor.add_basic(parts.username, parts.password)
    return ProbeContext(base_url.rstrip("/"), target, redactor)
