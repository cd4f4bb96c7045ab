"""Every encoding of a secret is masked, and a text cut inside one keeps none of it."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote

import pytest

from sloprobe.history.errors import short_error
from sloprobe.redact import MIN_FRAGMENT, Redactor, encodings, excerpt_of, redact_urls_in

SECRETS = ['Kq7"zR/81mXw+Tt0=', "sid=abc\"x'<y>&z", "pässwörd-ünïcode-42", "plain-canary-0123"]


def _forms(secret: str) -> dict[str, str]:
    return {
        "raw": secret,
        "url": quote(secret, safe=""),
        "json": json.dumps(secret)[1:-1],
        "json-slash": json.dumps(secret)[1:-1].replace("/", "\\/"),
        "json-utf8": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json-twice": json.dumps(json.dumps(secret)[1:-1])[1:-1],
        "html": html.escape(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64-bare": base64.b64encode(secret.encode()).decode().rstrip("="),
    }


@pytest.mark.parametrize("secret", SECRETS)
def test_every_encoding_of_a_secret_is_masked_in_a_body(secret: str) -> None:
    redact = Redactor([secret])
    for name, form in _forms(secret).items():
        body = json.dumps({"echo": {"x-api-key": "<<" + form + ">>"}})
        shown = redact(body)
        assert form not in shown, name
        assert secret not in shown, name
    assert secret in encodings(secret)


@pytest.mark.parametrize("secret", SECRETS)
def test_a_secret_cut_at_any_offset_leaves_no_fragment(secret: str) -> None:
    """A text cut before it reached the redactor, at every offset inside every form."""
    redact = Redactor([secret])
    for name, form in _forms(secret).items():
        text = f"GET /x answered 500: headers were X-Api-Key={form} and more"
        start = text.index(form)
        for cut in range(start + 1, start + len(form)):
            shown = redact(text[:cut], cut=True)
            left = text[start:cut]
            if len(left) >= MIN_FRAGMENT:
                assert left not in shown, (name, cut)
                assert shown.endswith("***"), (name, cut)


def test_an_excerpt_is_masked_before_it_is_cut() -> None:
    secret = "CANARYk-7f3e9a"
    text = "x" * 95 + secret + " rest of the body"
    for size in range(90, 110):
        shown = excerpt_of(text[: size + len(secret)] + "y" * 300, Redactor([secret]), size)
        assert "CANA" not in shown, size
        assert len(shown) <= size


def test_a_cut_dsn_and_a_cut_jwt_in_an_error_are_masked() -> None:
    assert redact_urls_in("connect postgresql://app:hunter2-secr") == "connect postgresql://***"
    assert redact_urls_in("see http://127.0.0.1:8080") == "see http://127.0.0.1:8080"

    class _Error(Exception):
        pass

    jwt_prefix = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0"
    said = short_error(_Error(f'FATAL: password "{jwt_prefix}" rejected'))
    assert "eyJhbGci" not in said and "***" in said


def test_values_that_merely_start_like_a_secret_are_kept_when_not_cut() -> None:
    redact = Redactor(["healthy-but-secret"])
    assert redact("healthy") == "healthy"  # only texts that were cut lose a trailing fragment


def test_an_inert_control_character_is_shown_with_one_backslash() -> None:
    from sloprobe.model.thresholds import format_observed
    from sloprobe.model.units import Dimension
    from sloprobe.redact import neutralise

    shown = format_observed(neutralise("ok\u202edone"), Dimension.TEXT)
    assert shown == "'ok\\u202edone'"
    assert "\\\\u202e" not in shown and "\u202e" not in shown
