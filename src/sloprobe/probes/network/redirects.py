"""Redirects are the network layer's decision: same origin by default, offsite without credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

from sloprobe.redact import Redactor, redact_url

RedirectMode = Literal["same_origin", "any", "none"]  # as the probes' `redirects:` option
MAX_REDIRECTS = 10
# What a request to another origin carries besides the policy's own headers: the trace context.
_CARRIED_OFFSITE = ("traceparent", "tracestate")
_BODY_HEADERS = ("Content-Length", "Content-Type", "Transfer-Encoding")


@dataclass(frozen=True)
class Redirects:
    """How :func:`fetch` treats a redirect.

    ``same_origin`` (the default) follows a redirect only to the same scheme,
    host and port, with the same headers; a redirect to another origin is not
    followed: the 3xx is the answer. ``any`` also follows it there, as a fresh
    request that carries only ``offsite_headers`` (the User-Agent and the
    synthetic marker) and the trace header: no configured header, no auth, no
    cookie. ``none`` follows nothing. ``redactor`` masks the URLs shown.
    """

    mode: RedirectMode = "same_origin"
    offsite_headers: Mapping[str, str] = field(default_factory=dict)
    redactor: Redactor = field(default_factory=Redactor)

    def show(self, url: httpx.URL | str) -> str:
        """A URL as a reason or a detail may show it: no userinfo, no secret query value."""
        return self.redactor(redact_url(str(url)))


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    port = url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def scope_to_origin(
    request: httpx.Request,
    client: httpx.Client | httpx.AsyncClient,
    offsite_headers: Mapping[str, str],
) -> httpx.Request:
    """The target's own headers (auth, configured headers) go to the target's origin only.

    A probe may name a full URL on another host (Flower beside the API, a
    Prometheus server): that request keeps what the probe itself set and the
    policy's offsite headers, never the client's target-wide ones, which would
    hand the target's token to someone else. YAML probes (``fetch``) and Python
    probes (the ``target`` fixture's client) both go through here.
    """
    base = client.base_url
    if base.host and origin(request.url) == origin(base):
        return request
    offsite = {name.lower() for name in offsite_headers} | {"accept-encoding", "user-agent"}
    for name, value in client.headers.items():
        if name.lower() not in offsite and request.headers.get(name) == value:
            del request.headers[name]
    return request


def redirect_target(request: httpx.Request, response: httpx.Response) -> httpx.URL | None:
    """Where a redirect answer points (absolute), or None if it is no usable redirect."""
    if not response.has_redirect_location:
        return None
    try:
        url = httpx.URL(response.headers["Location"])
    except (httpx.InvalidURL, ValueError):
        return None
    if url.scheme and not url.host:  # "http:/path": httpx's reading, the request's host
        url = url.copy_with(host=request.url.host)
    if url.is_relative_url:
        url = request.url.join(url)
    if url.scheme not in ("http", "https") or not url.host:
        return None
    return url


def _redirect_method(request: httpx.Request, status: int) -> str:
    """As browsers and httpx do: 303 (and 302) become GET, a POST answered 301 too."""
    if status in (302, 303) and request.method != "HEAD":
        return "GET"
    if status == 301 and request.method == "POST":
        return "GET"
    return request.method


def next_request(
    request: httpx.Request,
    status: int,
    url: httpx.URL,
    policy: Redirects,
    client: httpx.AsyncClient,
) -> httpx.Request:
    method = _redirect_method(request, status)
    keep_body = method == request.method and method not in ("GET", "HEAD")
    extensions = {k: v for k, v in request.extensions.items() if k == "timeout"}
    if origin(url) == origin(request.url):
        headers = httpx.Headers(request.headers)
        headers.pop("Host", None)
        if not keep_body:
            for name in _BODY_HEADERS:
                headers.pop(name, None)
        if keep_body:
            headers["Host"] = url.netloc.decode("ascii")
            follow = httpx.Request(
                method, url, headers=headers, stream=request.stream, extensions=extensions
            )
        else:
            follow = httpx.Request(method, url, headers=headers, extensions=extensions)
        if "Cookie" not in follow.headers:  # cookies the target set along the way (same origin)
            httpx.Cookies(client.cookies).set_cookie_header(follow)
        return follow
    # Another origin: a fresh request, built here, so nothing configured can ride along.
    url = url.copy_with(userinfo=b"")
    fresh = httpx.Headers(dict(policy.offsite_headers))
    for name in _CARRIED_OFFSITE:
        if name in request.headers:
            fresh[name] = request.headers[name]
    if keep_body:
        if "Content-Type" in request.headers:
            fresh["Content-Type"] = request.headers["Content-Type"]
        body = request.content  # json/form bodies are read into memory when built
        return httpx.Request(method, url, headers=fresh, content=body, extensions=extensions)
    return httpx.Request(method, url, headers=fresh, extensions=extensions)
