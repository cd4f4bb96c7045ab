"""A base URL with a query string is refused (exit 4), never silently dropped from every probe."""

from __future__ import annotations

import pytest

from sloprobe.cli import main

SUITE = """\
version: 1
service: shop
probes:
  health: {http: {path: /health}}
slos:
  up: {probe: health, measure: status, threshold: value == 200}
"""


def test_a_base_url_with_a_query_is_a_usage_error_naming_why(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", "http://127.0.0.1:9/?access_token=tok-secret-77")
    assert result.ret == 4
    said = result.stdout.str() + result.stderr.str()
    assert "has a query string" in said and "--base-url" in said
    assert "tok-secret-77" not in said


def test_wait_refuses_it_too(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    code = main(["wait", "--base-url", "http://127.0.0.1:9/?access_token=tok-secret-77"])
    said = capsys.readouterr().err
    assert code == 4 and "has a query string" in said and "tok-secret-77" not in said
