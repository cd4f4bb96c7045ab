"""The one network layer of every probe kind: a failure vocabulary, a retry policy, bounded reads.

Every kind that talks over the network says what went wrong in the same
words, with the step and the (redacted) URL or host in front::

    GET http://127.0.0.1:8000/health: connection refused
    redis 127.0.0.1:6390: DNS lookup failed (Name or service not known)
    PromQL GET http://prom:9090/api/v1/query: read timeout
    submit POST http://…/jobs: HTTP 401 (auth refused)

The classes: ``connection refused``, ``DNS lookup failed``, ``connect
timeout``, ``read timeout``, ``TLS error``, ``HTTP <status>``, ``undecodable
body``, ``auth refused``, else the error's own type and message. Only
failures before the request reached the server (refused, connect timeout,
DNS) are retried, with the same tenacity policy for every kind.

Two decisions are the network layer's, never a client library's:

* **Redirects** (:class:`Redirects`): :func:`fetch` follows them itself, at
  most :data:`MAX_REDIRECTS` hops. By default only on the same origin
  (scheme, host, port) — a redirect elsewhere is the answer, and the reason
  says where it pointed. A probe may opt in to ``any`` (then the request to
  the other origin is a fresh one: no configured header, no auth, no cookie)
  or ``none``.
* **Bounded bodies** (:func:`read_capped`): the raw stream is decoded here,
  piece by piece, so the cap is on the decompressed size and a
  decompression bomb stops as soon as it passes the cap.
"""

from sloprobe.probes.network.decoding import ACCEPT_ENCODING, read_capped
from sloprobe.probes.network.errors import (
    MAX_JSON_BYTES,
    REASON_CHARS,
    classify,
    describe_error,
    reached_no_server,
    retry_policy,
    samples_failure,
    status_problem,
)
from sloprobe.probes.network.fetch import Answer, BodyError, fetch, parse_json
from sloprobe.probes.network.redirects import (
    MAX_REDIRECTS,
    RedirectMode,
    Redirects,
    origin,
    redirect_target,
    scope_to_origin,
)

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_JSON_BYTES",
    "MAX_REDIRECTS",
    "REASON_CHARS",
    "Answer",
    "BodyError",
    "RedirectMode",
    "Redirects",
    "classify",
    "describe_error",
    "fetch",
    "origin",
    "parse_json",
    "reached_no_server",
    "read_capped",
    "redirect_target",
    "retry_policy",
    "samples_failure",
    "scope_to_origin",
    "status_problem",
]
