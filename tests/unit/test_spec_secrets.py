"""Which values of a probe's spec become known secrets: secret-named fields at any depth of a
JSON body, and nothing else: the words a body uses to name things stay readable everywhere."""

from __future__ import annotations

from sloprobe.probes.http.spec import HttpProbe
from sloprobe.probes.sanitize import register_spec_secrets
from sloprobe.redact import Redactor

NESTED = "n3sted-pa55-c4n4ry"
LISTED = "l1sted-s3cret-c4n4ry"
API_KEY = "AIzaSyFakeKey-0123456"


def _taught(spec: HttpProbe) -> Redactor:
    redactor = Redactor()
    register_spec_secrets(spec, redactor)
    return redactor


def test_secret_named_fields_deep_in_a_body_are_secrets() -> None:
    redactor = _taught(
        HttpProbe.model_validate(
            {
                "path": "/login",
                "method": "POST",
                "json": {
                    "credentials": {"password": NESTED},
                    "clients": [{"id": "probe", "client_secret": LISTED}],
                },
            }
        )
    )
    shown = redactor(f"rejected {NESTED} and {LISTED}")
    assert NESTED not in shown and LISTED not in shown


def test_a_bodys_key_fields_and_token_counts_are_not_secrets() -> None:
    """`{key: upstream, value: …}` filters, `sort: {key: status}` and `max_new_tokens: 1024`
    name things and count them: masking them would hide `status` and `1024` in every text."""
    redactor = _taught(
        HttpProbe.model_validate(
            {
                "path": "/search",
                "method": "POST",
                "json": {
                    "query": {
                        "filters": [{"key": "upstream", "value": "api"}],
                        "sort": {"key": "status"},
                    },
                    "parameters": {"max_new_tokens": 1024},
                },
            }
        )
    )
    text = "upstream api-1.internal answered status 200 after 1024 tokens"
    assert redactor(text) == text


def test_a_query_key_is_still_an_api_key() -> None:
    redactor = _taught(HttpProbe(path="/maps", query={"key": API_KEY}))
    assert API_KEY not in redactor(f"denied: key {API_KEY} is restricted")
