"""A secret with JSON-escapable characters, a secret cut at an excerpt's edge, a password read
as a value: none reaches any output of a real run, in any encoding.

The target echoes the request's headers in a JSON body (so `"` and `/` come back escaped),
pads its answer so a secret straddles the 500-character excerpt at many offsets, and
answers a field named `password`.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest

from tests.support.handler_server import serving

KEY = 'Kq7"zR/81mXw+Tt0='
COOKIE = 'abc"x-c00kie/v4lue'
PASSWORD = "pw-c4n4ry-9k2m"
OFFSETS = range(486, 500, 3)  # where the echoed key starts: across the 500-character cut

SUITE = """\
version: 1
service: shop
target:
  headers:
    X-Api-Key: "${KEY}"
    Cookie: "sid=${COOKIE}"
probes:
  echo:
    http:
      path: /echo
      values:
        key: {json: headers.x-api-key}
        pw: {json: password}
        shown: {json: status}
%(cuts)s
slos:
  echo-key: {probe: echo, measure: key, threshold: value == "nothing"}
  echo-pw: {probe: echo, measure: pw, threshold: value == "nothing"}
  echo-shown: {probe: echo, measure: shown, threshold: value == "healthy"}
%(cut_slos)s
"""


def _suite() -> str:
    cuts = "\n".join(
        f"  cut{n}:\n    http:\n      path: /pad\n      query: {{n: '{n}'}}\n"
        "      expect: {status: [200]}"
        for n in OFFSETS
    )
    cut_slos = "\n".join(
        f"  cut{n}-status: {{probe: cut{n}, measure: status, threshold: value == 200}}"
        for n in OFFSETS
    )
    return SUITE % {"cuts": cuts, "cut_slos": cut_slos}


def _answer(handler: BaseHTTPRequestHandler, status: int, body: str, kind: str) -> None:
    data = body.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _outputs(pytester: pytest.Pytester, result: pytest.RunResult) -> dict[str, str]:
    """The terminal and every file the run wrote under reports/ (charts aside)."""
    texts = {"terminal": result.stdout.str() + result.stderr.str()}
    for path in sorted((pytester.path / "reports").rglob("*")):
        if path.is_file() and path.suffix != ".png":
            texts[str(path.name)] = path.read_bytes().decode("latin-1")
    assert {"report.html", "results.json", "history.db"} <= set(texts)
    return texts


def _leaks(texts: dict[str, str], forbidden: set[str]) -> list[tuple[str, str]]:
    return sorted(
        (name, secret) for name, text in texts.items() for secret in forbidden if secret in text
    )


@pytest.fixture
def echo() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if parts.path == "/pad":
                pad = int(dict(parse_qsl(parts.query))["n"])
                body = "p" * pad + self.headers.get("X-Api-Key", "") + " and the rest" * 50
                status = 500
            else:
                doc = {"headers": headers, "password": PASSWORD, "status": "healthy"}
                body = json.dumps(doc)
                status = 200
            _answer(self, status, body, "application/json")

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


def _forbidden(secret: str) -> set[str]:
    escaped = json.dumps(secret)[1:-1]
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        escaped,
        escaped.replace("/", "\\/"),
        json.dumps(escaped)[1:-1],
        html.escape(secret),
        base64.b64encode(secret.encode()).decode().rstrip("="),
    }
    return forms | {secret[:7]}  # the first seven characters: what a cut used to leave


def test_no_escaped_cut_or_field_secret_reaches_any_output(
    pytester: pytest.Pytester, echo: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KEY", KEY)
    monkeypatch.setenv("COOKIE", COOKIE)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makefile(".yaml", slo=_suite())
    result = pytester.runpytest("-vv", "-rA", "--junitxml=junit.xml", "--base-url", echo)
    assert result.ret == 1
    texts = {
        **_outputs(pytester, result),
        "summary": summary.read_text() if summary.exists() else "",
        "junit": (pytester.path / "junit.xml").read_text(),
    }
    leaks = _leaks(texts, _forbidden(KEY) | _forbidden(COOKIE) | _forbidden(PASSWORD))
    assert leaks == [], leaks
    data = json.loads(texts["results.json"])
    measurements = data["measurements"]
    assert "***" in measurements["echo"]["excerpt"]  # the echo carried the key, masked
    assert any("pppp" in (m.get("excerpt") or "") for m in measurements.values())
    # A value from a field that is not secret-named is kept as the target sent it.
    assert "healthy" in texts["terminal"] or "healthy" in texts["results.json"]


NESTED = "n3sted-pa55-c4n4ry"
LISTED = "l1sted-s3cret-c4n4ry"

NESTED_SUITE = """\
version: 1
service: shop
probes:
  login:
    http:
      method: POST
      path: /echo-body
      json:
        user: probe
        credentials: {password: "${NESTED}"}
        clients: [{id: probe, client_secret: "${LISTED}"}]
slos:
  login-ok: {probe: login, measure: ok, threshold: value == true}
"""


@pytest.fixture
def body_echo() -> Iterator[str]:
    """Answers every POST 500 with the values it was sent, as plain text: an error page that
    shows what it refused, with no field name beside it to give it away."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            shown = [sent["credentials"]["password"], sent["clients"][0]["client_secret"]]
            _answer(self, 500, f"upstream rejected: {' and '.join(shown)}", "text/plain")

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


def test_a_secret_named_field_deep_in_a_json_body_is_a_secret(
    pytester: pytest.Pytester, body_echo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`credentials.password` and `clients[0].client_secret` are as secret as a top-level
    `password`: echoed back in an error page, neither reaches any output."""
    monkeypatch.setenv("NESTED", NESTED)
    monkeypatch.setenv("LISTED", LISTED)
    pytester.makefile(".yaml", slo=NESTED_SUITE)
    result = pytester.runpytest("-vv", "-rA", "--base-url", body_echo)
    assert result.ret == 1
    texts = _outputs(pytester, result)
    assert _leaks(texts, _forbidden(NESTED) | _forbidden(LISTED)) == []
    assert "upstream rejected" in texts["results.json"]  # the page itself is kept, masked
