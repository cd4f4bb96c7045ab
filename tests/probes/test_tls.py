"""The `tls` kind against real TLS servers on 127.0.0.1, with certificates of a private CA (trustme)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from pydantic import ValidationError

from sloprobe.config import ConfigError, load_slo_text
from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.model.units import Unit
from sloprobe.probes.context import make_context
from sloprobe.probes.registry import KINDS
from sloprobe.probes.runner import run_probes
from sloprobe.probes.tls.measure import parse_certificate, run_tls_probe
from sloprobe.probes.tls.spec import TlsProbe
from sloprobe.redact import Redactor

DAY = 86400.0


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)  # X.509 times have whole seconds


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@contextmanager
def tls_server(cert: trustme.LeafCert) -> Iterator[int]:
    """A TLS server on 127.0.0.1 (thread per connection) presenting ``cert``; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5.0)
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # until the client closes
        except OSError:  # the client rejected the certificate, or went away
            pass
        finally:
            conn.close()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def probe(**options: object) -> Measurement:
    return asyncio.run(run_tls_probe("cert", TlsProbe.model_validate(options), Redactor()))


def only(m: Measurement, name: str) -> object:
    (sample,) = m.series[name].samples
    return sample


# -- measuring -------------------------------------------------------------------------------


def test_a_valid_certificate_reports_its_real_expiry(ca: trustme.CA, ca_file: str) -> None:
    not_after = _now() + timedelta(days=30)
    with tls_server(ca.issue_cert("localhost", "127.0.0.1", not_after=not_after)) as port:
        m = probe(host="127.0.0.1", port=port, ca_file=ca_file)
    remaining = (not_after - datetime.now(UTC)).total_seconds()
    assert m.failure is None
    assert m.kind == "tls"
    assert only(m, "expires_in") == pytest.approx(remaining, abs=5)
    assert only(m, "chain_valid") is True
    assert only(m, "hostname_valid") is True
    assert only(m, "tls_version") in ("TLSv1.2", "TLSv1.3")
    handshake = only(m, "handshake")
    assert isinstance(handshake, float) and 0 < handshake < 5
    assert m.series["expires_in"].unit is Unit.S
    assert m.missing == {}
    assert m.details["not after"] == not_after.isoformat()


def test_a_host_name_is_matched_too(ca: trustme.CA, ca_file: str) -> None:
    with tls_server(ca.issue_cert("localhost")) as port:
        m = probe(host="127.0.0.1", port=port, server_name="localhost", ca_file=ca_file)
    assert m.failure is None
    assert only(m, "hostname_valid") is True


def test_an_untrusted_ca_fails_but_still_reports_the_expiry(ca: trustme.CA) -> None:
    not_after = _now() + timedelta(days=90)
    with tls_server(ca.issue_cert("127.0.0.1", not_after=not_after)) as port:
        m = probe(host="127.0.0.1", port=port)  # no ca_file: the system store knows no trustme CA
    assert m.failure is not None
    assert m.failure.startswith(f"tls 127.0.0.1:{port}: TLS error (")
    assert "issuer" in m.failure  # OpenSSL: unable to get local issuer certificate
    assert only(m, "chain_valid") is False
    assert only(m, "hostname_valid") is True
    assert only(m, "expires_in") == pytest.approx(90 * DAY, abs=10)
    assert "tls_version" in m.series and "handshake" in m.series
    assert "issuer" in m.details["chain"]


def test_a_wrong_server_name_is_a_hostname_failure_only(ca: trustme.CA, ca_file: str) -> None:
    with tls_server(ca.issue_cert("localhost", "127.0.0.1")) as port:
        m = probe(host="127.0.0.1", port=port, server_name="wrong.example", ca_file=ca_file)
    assert m.failure == (
        f"tls 127.0.0.1:{port}: TLS error (certificate is not valid for 'wrong.example')"
    )
    assert only(m, "hostname_valid") is False
    assert only(m, "chain_valid") is True
    assert m.details["server name"] == "wrong.example"


def test_verify_false_reports_without_failing(ca: trustme.CA) -> None:
    with tls_server(ca.issue_cert("localhost")) as port:
        m = probe(host="127.0.0.1", port=port, verify=False)  # untrusted and mismatched
    assert m.failure is None
    assert only(m, "chain_valid") is False
    assert only(m, "hostname_valid") is False
    assert isinstance(only(m, "expires_in"), float)


def test_an_expired_certificate_has_a_negative_expiry(ca: trustme.CA, ca_file: str) -> None:
    not_after = _now() - timedelta(days=1)
    cert = ca.issue_cert(
        "127.0.0.1", not_before=not_after - timedelta(days=60), not_after=not_after
    )
    with tls_server(cert) as port:
        m = probe(host="127.0.0.1", port=port, ca_file=ca_file)
    assert m.failure == f"tls 127.0.0.1:{port}: TLS error (certificate has expired)"
    assert only(m, "expires_in") == pytest.approx(-DAY, abs=5)
    assert only(m, "chain_valid") is False
    assert only(m, "hostname_valid") is True


def test_expired_and_mismatched_are_both_said(ca: trustme.CA, ca_file: str) -> None:
    # OpenSSL alone would stop at the name (it checks it before the dates)
    not_after = _now() - timedelta(days=2)
    cert = ca.issue_cert(
        "other.example", not_before=not_after - timedelta(days=9), not_after=not_after
    )
    with tls_server(cert) as port:
        m = probe(host="127.0.0.1", port=port, ca_file=ca_file)
    assert only(m, "chain_valid") is False
    assert only(m, "hostname_valid") is False
    assert m.failure == (
        f"tls 127.0.0.1:{port}: TLS error "
        "(certificate has expired; certificate is not valid for '127.0.0.1')"
    )


def test_a_refused_port_reads_like_every_kind(closed_port_url: str) -> None:
    port = int(closed_port_url.rsplit(":", 1)[1])
    m = probe(host="127.0.0.1", port=port)
    assert m.failure is not None
    assert m.failure == f"tls 127.0.0.1:{port}: connection refused"
    assert m.series == {}


def test_a_server_that_never_answers_the_handshake_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never accepts
        port = silent.getsockname()[1]
        m = probe(host="127.0.0.1", port=port, timeout="300ms")
    assert m.failure == f"tls 127.0.0.1:{port}: connect timeout (no TLS handshake within 300ms)"
    assert m.duration_s < 3


def test_a_server_that_does_not_speak_tls_is_a_tls_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as plain:
        port = plain.getsockname()[1]

        def answer() -> None:
            conn, _ = plain.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        m = probe(host="127.0.0.1", port=port, timeout=5)
        thread.join(5)
    assert m.failure is not None
    assert m.failure.startswith(f"tls 127.0.0.1:{port}: TLS error (")


def test_an_unreadable_ca_file_is_said(tmp_path: Path) -> None:
    m = probe(host="127.0.0.1", port=1, ca_file=str(tmp_path / "absent.pem"))
    assert m.failure is not None
    assert m.failure.startswith(f"tls 127.0.0.1:1: cannot load ca_file {tmp_path}")


# -- through the config layer and the runner -------------------------------------------------


def test_end_to_end_through_the_config_model_and_the_runner(ca: trustme.CA, ca_file: str) -> None:
    not_after = _now() + timedelta(days=20)
    with tls_server(ca.issue_cert("127.0.0.1", not_after=not_after)) as port:
        spec = ProbeSpec.model_validate(
            {"tls": {"host": "127.0.0.1", "port": port, "ca_file": ca_file, "timeout": "5s"}}
        )
        assert spec.kind == "tls"
        run = run_probes({"cert": spec}, make_context("", Target()), 1, 10.0)
    m = run["cert"]
    assert m.failure is None, m.failure
    assert only(m, "expires_in") == pytest.approx(20 * DAY, abs=10)
    assert only(m, "chain_valid") is True
    assert run.warnings == []


def test_the_kind_is_registered_with_its_measures() -> None:
    kind = KINDS["tls"]
    assert not kind.talks_to_target
    assert [m.name for m in kind.measures] == [
        "expires_in",
        "chain_valid",
        "hostname_valid",
        "handshake",
        "tls_version",
    ]
    spec = TlsProbe(host="example.com")
    assert kind.series_units(spec) == {
        "expires_in": Unit.S,
        "chain_valid": Unit.BOOLEAN,
        "hostname_valid": Unit.BOOLEAN,
        "handshake": Unit.S,
        "tls_version": Unit.TEXT,
    }
    assert spec.port == 443 and spec.timeout == 10.0 and spec.verify
    assert kind.default_deadline(spec, 5.0) > spec.timeout


SLO_YAML = """\
version: 1
service: shop
probes:
  cert:
    tls:
      host: shop.example.com
      timeout: 5s
slos:
  renewed-in-time:
    probe: cert
    measure: expires_in
    threshold: value > 14d
    warn: value > 30d
  trusted:
    probe: cert
    measure: chain_valid
    threshold: value == true
"""


def test_an_expiry_slo_in_days_validates() -> None:
    spec = load_slo_text(SLO_YAML).spec
    assert spec.slos["renewed-in-time"].threshold == ("value > 14d",)
    assert spec.probes["cert"].series_units()["expires_in"] is Unit.S
    body = spec.probes["cert"].body
    assert isinstance(body, TlsProbe) and body.name_to_check == "shop.example.com"


def test_a_measure_the_kind_lacks_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_slo_text(SLO_YAML.replace("measure: expires_in", "measure: expiry"))
    assert "expiry" in str(caught.value)


def test_a_url_is_not_a_host() -> None:
    with pytest.raises(ValidationError, match="is a URL"):
        TlsProbe.model_validate({"host": "https://shop.example.com"})


# -- the certificate reader ------------------------------------------------------------------


def _der(cert: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())


def test_the_der_reader_agrees_with_cpythons_decoder(ca: trustme.CA, tmp_path: Path) -> None:
    cert = ca.issue_cert("a.example", "*.b.example", "127.0.0.1", "::1")
    parsed = parse_certificate(_der(cert))
    decode = getattr(ssl._ssl, "_test_decode_cert", None)  # type: ignore[attr-defined]
    if decode is None:
        pytest.skip("this Python has no ssl._ssl._test_decode_cert")
    path = tmp_path / "leaf.pem"
    cert.cert_chain_pems[0].write_to_path(str(path))
    decoded = decode(str(path))
    assert parsed.not_after.timestamp() == ssl.cert_time_to_seconds(decoded["notAfter"])
    assert parsed.dns_names == tuple(v for k, v in decoded["subjectAltName"] if k == "DNS")
    assert parsed.dns_names == ("a.example", "*.b.example")
    assert [str(ip) for ip in parsed.ip_addresses] == ["127.0.0.1", "::1"]


@pytest.mark.parametrize(
    ("server_name", "valid"),
    [
        ("a.example", True),
        ("A.Example.", True),
        ("x.b.example", True),
        ("b.example", False),  # a wildcard needs a label
        ("y.x.b.example", False),  # and covers one label only
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("127.0.0.2", False),
        ("c.example", False),
    ],
)
def test_names_are_matched_as_rfc_6125_says(ca: trustme.CA, server_name: str, valid: bool) -> None:
    cert = ca.issue_cert("a.example", "*.b.example", "127.0.0.1", "::1")
    assert parse_certificate(_der(cert)).matches(server_name) is valid


def test_an_ip_address_never_matches_a_dns_name(ca: trustme.CA) -> None:
    cert = ca.issue_cert("*.0.0.1", "localhost")
    assert parse_certificate(_der(cert)).matches("127.0.0.1") is False


def test_a_damaged_certificate_is_a_value_error_never_a_crash(ca: trustme.CA) -> None:
    der = _der(ca.issue_cert("a.example", "127.0.0.1"))
    for end in range(len(der)):
        with pytest.raises(ValueError):
            parse_certificate(der[:end])
    for at in range(len(der)):
        damaged = bytearray(der)
        damaged[at] ^= 0xFF
        with suppress(ValueError):  # reading a wrong but well-formed value is fine too
            parse_certificate(bytes(damaged))
