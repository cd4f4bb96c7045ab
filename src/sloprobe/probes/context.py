"""What every probe gets besides its own config: the target, a client, a redactor.

Neither client follows redirects blindly. The run's async client follows
none: :func:`sloprobe.probes.network.fetch` decides, per probe, with the
:class:`~sloprobe.probes.network.Redirects` that :meth:`ProbeContext.redirects`
builds. The sync client of Python probes follows redirects on the target's
origin only (see :class:`SameOriginClient`).
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx

from sloprobe import __version__
from sloprobe.probes.network import (
    ACCEPT_ENCODING,
    MAX_REDIRECTS,
    RedirectMode,
    Redirects,
    origin,
    redirect_target,
    scope_to_origin,
)
from sloprobe.probes.sanitize import register_spec_secrets
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

    def client(self) -> httpx.Client:
        """A synchronous client for Python probes (the ``target`` fixture).

        It follows redirects on the target's origin (scheme, host and port)
        only, at most 10 hops: a redirect to another origin is not followed —
        the 3xx is the answer, and its ``next_request`` is a bare request
        (User-Agent and synthetic marker, no configured header, no auth) that
        a probe may send on purpose. ``follow_redirects=False`` on a call
        follows nothing, as in httpx.
        """
        return SameOriginClient(
            base_url=self.base_url,
            headers=self.request_headers(),
            timeout=httpx.Timeout(self.target.timeout),
            verify=self.tls,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            offsite_headers=self.offsite_headers(),
        )


class SameOriginClient(httpx.Client):
    """An httpx client that follows a redirect only while it stays on the same origin.

    httpx follows every redirect and strips only ``Authorization`` on the
    way to another host: ``X-Api-Key``, custom headers and cookies would go
    along. An event hook cannot stop httpx from following (only raise), so
    this client sends each hop itself with ``follow_redirects=False`` and
    follows the next one only if it is on the origin of the request before.
    """

    def __init__(self, *, offsite_headers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._offsite_headers = offsite_headers

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        follow = follow_redirects if isinstance(follow_redirects, bool) else self.follow_redirects
        request = scope_to_origin(request, self, self._offsite_headers)  # a full URL elsewhere
        history: list[httpx.Response] = []
        while True:
            response = super().send(request, stream=True, auth=auth, follow_redirects=False)
            try:
                target = redirect_target(request, response)
                if target is not None and origin(target) != origin(request.url):
                    method = response.next_request.method if response.next_request else "GET"
                    response.next_request = httpx.Request(
                        method, target.copy_with(userinfo=b""), headers=self._offsite_headers
                    )
                    target = None
                nxt = response.next_request if follow and target is not None else None
                if nxt is None:
                    response.history = history
                    if not stream:
                        response.read()
                    return response
                response.read()
            except BaseException:
                response.close()
                raise
            response.close()
            history.append(response)
            if len(history) > self.max_redirects:
                raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=nxt)
            request = nxt


def make_context(base_url: str, target: Target) -> ProbeContext:
    """A context whose redactor knows every secret the config holds."""
    redactor = Redactor()
    auth = target.auth
    if auth is not None and auth.bearer is not None:
        redactor.add(auth.bearer.get_secret_value())
    if auth is not None and auth.basic is not None:
        redactor.add_basic(auth.basic.username, auth.basic.password.get_secret_value())
    for name, value in target.headers.items():
        redactor.add_header(name, value)
    if target.login is not None:  # the login request's own credentials
        register_spec_secrets(target.login, redactor)
    parts = httpx.URL(base_url)
    if parts.password:  # httpx sends URL userinfo as basic auth: mask its base64 form too
        redactor.add_basic(parts.username, parts.password)
    return ProbeContext(base_url.rstrip("/"), target, redactor)
