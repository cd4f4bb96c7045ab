"""No secret leaves, in any encoding: a target that echoes every request header and query back.

Every form of every configured secret (bearer, basic auth and URL userinfo
as base64, secret-named headers and query values, a cookie), a credential
the target makes up in its error text, and a Python probe whose assertion
prints the configured token: none appears in any output of the run.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.handler_server import serving

SECRETS = {
    "BEARER": "bearer-c4n4ry-0001",
    "API_KEY": "apikey-c4n4ry-0002",
    "AUTH_TOKEN": "xauth-c4n4ry-0003",
    "COOKIE": "cookie-c4n4ry-0004",
    "QUERY_TOKEN": "qtoken-c4n4ry-0005",
    "QUERY_KEY": "qkey-c4n4ry-0006",
    "URL_PW": "urlpw-c4n4ry-0007",
}
MADE_UP = "sk-live-c4n4ry0009abcdef"
USER = "probe"

SUITE = """\
version: 1
service: shop
target:
  headers:
    X-Api-Key: "${API_KEY}"
    X-Auth-Token: "${AUTH_TOKEN}"
    Cookie: "session=${COOKIE}"
  auth: {bearer: "${BEARER}"}
probes:
  echo:
    http:
      path: /echo
      query: {token: "${QUERY_TOKEN}", api_key: "${QUERY_KEY}", page: "1"}
      values:
        auth: {json: headers.authorization}
        key: {json: headers.x-api-key}
        seen: {json: query}
  leaky:
    http:
      path: /error
  mine:
    python:
      values:
        ok: {unit: bool}
slos:
  echo-status: {probe: echo, measure: status, threshold: value == 200}
  echo-auth: {probe: echo, measure: auth, threshold: value == "nothing"}
  echo-key: {probe: echo, measure: key, threshold: value == "nothing"}
  leaky-status: {probe: leaky, measure: status, threshold: value == 200}
  mine-ok: {probe: mine, measure: ok, threshold: value == true}
"""

PY_PROBE = """
import pytest


@pytest.mark.probe("mine")
def test_mine(recorder, target):
    token = target.headers["Authorization"]  # the configured bearer token
    recorder.record("ok", False)
    assert token == "something else", f"token was {token}"
"""


@pytest.fixture
def echo() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/error":
                body = json.dumps(
                    {"error": f"upstream refused key {MADE_UP}", "echo": dict(self.headers.items())}
                )
                status = 500
            else:
                body = json.dumps(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "query": dict(parse_qsl(parts.query)),
                    }
                )
                status = 200
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


def _forms(secret: str) -> set[str]:
    from urllib.parse import quote, quote_plus

    return {secret, quote(secret, safe=""), quote_plus(secret)}


def test_no_secret_in_any_form_reaches_any_output(
    pytester: pytest.Pytester, echo: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs.txt"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    pytester.makefile(".yaml", slo=SUITE)
    pytester.mkdir("probes")
    (pytester.path / "probes" / "test_mine.py").write_text(PY_PROBE)
    base_url = echo.replace("http://", f"http://{USER}:{SECRETS['URL_PW']}@")
    result = pytester.runpytest("-vv", "-rA", "--base-url", base_url, "slo.yaml", "probes")
    assert result.ret == 1
    reports = pytester.path / "reports"
    texts = {
        "terminal": result.stdout.str() + result.stderr.str(),
        "summary": summary.read_text() if summary.exists() else "",
        "outputs": outputs.read_text() if outputs.exists() else "",
    }
    for path in sorted(reports.rglob("*")):
        if path.is_file() and path.suffix != ".png":
            texts[str(path.relative_to(reports))] = path.read_bytes().decode("latin-1")
    outputs = {"report.html", "results.json", "latest.json", "index.json", "metrics.prom"}
    assert outputs | {"history.db"} <= set(texts)
    assert any(name.startswith("runs/") for name in texts)
    forbidden = {form for secret in SECRETS.values() for form in _forms(secret)}
    forbidden.add(MADE_UP)
    forbidden.add(base64.b64encode(f"{USER}:{SECRETS['URL_PW']}".encode()).decode().rstrip("="))
    leaks = sorted(
        (name, secret) for name, text in texts.items() for secret in forbidden if secret in text
    )
    assert leaks == [], leaks
    # The secrets were there to leak: the echo carried them and they were masked.
    data = json.loads(texts["results.json"])
    echoed = data["measurements"]["echo"]["excerpt"]
    assert "***" in echoed and "x-auth-token" in echoed
