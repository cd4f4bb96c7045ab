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


CANARY = "s3cr3t-Canary-9f8e7d"


def _spelled(secret: str) -> dict[str, str]:
    """Forms of encoders that escape every character, and base64 at every alignment."""
    raw = secret.encode()
    return {
        "json-every-char": "".join(f"\\u{ord(c):04x}" for c in secret),
        "html-decimal": "".join(f"&#{ord(c)};" for c in secret),
        "html-hex": "".join(f"&#x{ord(c):x};" for c in secret),
        "url-every-byte": "".join(f"%{b:02X}" for b in raw),
        "url-lowercase": "s3cr3t%2dCanary%2d9f8e7d",
        "url-twice": "s3cr3t%252DCanary%252D9f8e7d",
        "hex": raw.hex(),
        "base64-after-1": base64.b64encode(b"x" + raw).decode(),
        "base64-after-2": base64.b64encode(b"xy" + raw).decode(),
        "base64-of-json": base64.b64encode(json.dumps({"pw": secret}).encode()).decode(),
    }


@pytest.mark.parametrize(("name", "form"), _spelled(CANARY).items(), ids=_spelled(CANARY).keys())
def test_a_secret_spelled_out_or_inside_longer_base64_is_masked(name: str, form: str) -> None:
    shown = Redactor([CANARY])(f"the service said: {form} (end)")
    assert "***" in shown, name
    # What is left of the form around the mask is at most the bytes next to the secret.
    left = shown.replace("the service said: ", "").replace(" (end)", "").replace("***", "")
    assert len(left) <= 8, (name, shown)


@pytest.mark.parametrize(
    "text",
    [
        "begin s3cr3t-Canar end",  # a half, mid-text
        "s3cr3t-Can ary-9f8e7d",  # split by a space
        "s3cr3t-Can\nary-9f8e7d",  # split by a line break
        "my Canary-9f8e7d here",
    ],
)
def test_a_long_secret_shown_in_part_is_masked(text: str) -> None:
    shown = Redactor([CANARY])(text)
    assert not any(CANARY[i : i + 8] in shown for i in range(len(CANARY) - 7)), shown


def test_secret_names_with_pass_or_sig_as_a_word_but_not_inside_one() -> None:
    from sloprobe.redact import looks_secret

    assert all(looks_secret(n) for n in ("pass", "X-Pass", "db_pass", "sig", "x-sig"))
    assert not any(looks_secret(n) for n in ("passenger", "compass", "bypass", "signal", "design"))


def test_a_password_field_in_json_inside_a_json_string_is_masked() -> None:
    body = json.dumps({"detail": json.dumps({"password": "Nk8xFl3HeZ1nRb5D"})})
    assert "Nk8xFl3HeZ1nRb5D" not in Redactor()(body)


def test_a_long_property_name_still_names_a_secret() -> None:
    """Java-style dotted names run long before their keyword; the value is masked all the same."""
    text = (
        "spring.security.oauth2.client.registration.keycloak-internal.client-secret="
        "Zx9Qw8Er7Ty6Ua5S\nmy.application.datasource.primary.credentials.api_key=abcdef12345"
    )
    shown = Redactor()(text)
    assert "Zx9Qw8Er7Ty6Ua5S" not in shown and "abcdef12345" not in shown
