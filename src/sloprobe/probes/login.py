"""A target's login: one request whose answer yields the token every later request carries.

The YAML runner, ``sloprobe wait`` and the Python probes' ``target`` client
all log in here, through the network layer, so the token is read, redacted
and sent the same way wherever a request to the target goes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from sloprobe.probes.http.measure import ABSENT, dig
from sloprobe.probes.network import BodyError, describe_error, fetch, parse_json

if TYPE_CHECKING:  # the login's shape only; probes import no config at run time
    from sloprobe.fields.target import Login
    from sloprobe.probes.context import ProbeContext


async def log_in(client: httpx.AsyncClient, login: Login, context: ProbeContext) -> str | None:
    """Log in and set the token on ``client`` (and the context's login headers);
    returns why it failed, or None."""
    step = f"login: {login.method} {login.path}"
    request = client.build_request(login.method, login.path, json=login.json_body, data=login.form)
    try:
        answer = await fetch(client, request, redirects=context.redirects())
    except httpx.HTTPError as exc:
        return describe_error(exc, context.redactor, step=step)
    if answer.status >= 400:
        return f"{step} answered {answer.status}"
    try:
        token = dig(parse_json(answer.body), login.token)
    except BodyError:
        token = ABSENT
    if token is ABSENT or not isinstance(token, str) or not token:
        return f"{step}: the answer has no token at `{login.token}`"
    context.redactor.add(token)
    value = f"{login.scheme} {token}" if login.scheme else token
    client.headers[login.header] = value
    context.login_headers[login.header] = value
    return None
