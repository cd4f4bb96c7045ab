"""Secrets are masked wherever they could leak: URLs, headers, free text."""

from __future__ import annotations

import pytest

from sloprobe.redact import Redactor, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://user:pw@api.example/x", "https://***@api.example/x", id="userinfo"),
        pytest.param(
            "https://api.example/x?token=abc&page=2",
            "https://api.example/x?token=***&page=2",
            id="token-param",
        ),
        pytest.param(
            "https://api.example/x?api_key=abc", "https://api.example/x?api_key=***", id="api-key"
        ),
        pytest.param("http://127.0.0.1:8000", "http://127.0.0.1:8000", id="plain"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redactor_masks_known_secrets_longest_first() -> None:
    redact = Redactor(["abcd", "abcdefgh", "", "x"])
    assert redact("token abcdefgh and abcd and x") == "token *** and *** and x"


def test_headers_masked_by_name() -> None:
    shown = Redactor(["s3cret"]).headers(
        [("Authorization", "Bearer zzz"), ("X-Note", "has s3cret")]
    )
    assert shown == {"Authorization": "***", "X-Note": "has ***"}
