"""The TLS probe: the server certificate's expiry, whether its chain and name verify, the handshake.

What is asked of OpenSSL and what is read here, and why:

* **The chain** is verified by OpenSSL, in a handshake with a verifying
  context (system trust store plus ``ca_file``) whose hostname check is off.
  OpenSSL stops at the first problem and checks the name *before* the
  validity dates, so one handshake that checks both would call an expired
  certificate with a wrong name merely "mismatched"; checking them apart
  keeps ``chain_valid`` and ``hostname_valid`` independent.
* **The name** is matched here against the certificate's subjectAltName as
  RFC 6125 says and as browsers, Go (Gatus, blackbox_exporter) and OpenSSL
  with Python's flags do: a ``*`` only as the whole left-most label, over at
  least two more labels, never for an IP address. The subject CN is not
  consulted (CAs have not relied on it for years; browsers and Go ignore it).
* **The expiry** is read from the leaf certificate in DER, even when it does
  not verify: after a verification failure a second, non-verifying
  handshake fetches it (``getpeercert()`` yields only the binary form then).
  The few fields needed (notAfter, the subjectAltName) are read by the small
  DER walk below: the ``cryptography`` package is not a dependency, and
  CPython's own decoder (``ssl._ssl._test_decode_cert``) is a private test
  hook that needs a temporary file. A certificate this walk cannot read makes
  ``expires_in`` and ``hostname_valid`` no data, with the reason.

Refused, DNS and other connection failures read as in every kind (see
:mod:`sloprobe.probes.network`); ``timeout`` bounds both handshakes together.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sloprobe.model.measurement import Measurement, Reading, Sample, Series
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.base import ProbeCall, timed
from sloprobe.probes.network import REASON_CHARS, describe_error
from sloprobe.probes.tls.spec import TlsProbe, tls_series_units
from sloprobe.redact import Redactor

CLOSE_TIMEOUT_S = 1.0  # a server that never answers close_notify is cut off after this

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def measure(call: ProbeCall[TlsProbe]) -> Reading:
    return await read_tls(call.spec, call.context.redactor)


@dataclass(frozen=True)
class _Handshake:
    seconds: float
    version: str | None
    der: bytes | None


async def run_tls_probe(name: str, spec: TlsProbe, redactor: Redactor) -> Measurement:
    """:func:`read_tls` as probe ``name``'s timed Measurement, outside a run."""
    return await timed(name, "tls", read_tls(spec, redactor))


async def read_tls(spec: TlsProbe, redactor: Redactor) -> Reading:
    """Handshake with ``spec.host:spec.port`` and read its certificate; never raises for the server's failures."""
    server_name = spec.name_to_check
    step = f"tls {spec.host}:{spec.port}"
    details = {"tls": f"{spec.host}:{spec.port}", "server name": server_name}

    def observed(
        failure: str | None = None,
        values: dict[str, Sample] | None = None,
        missing: dict[str, str] | None = None,
    ) -> Reading:
        units = tls_series_units(spec)
        return Reading(
            series={n: Series(n, units[n], (v,)) for n, v in (values or {}).items()},
            failure=failure,
            missing=missing or {},
            details=details,
        )

    try:  # reading the system trust store takes a few ms: not on the event loop other probes time
        verifying, lenient = await asyncio.to_thread(_contexts, spec.ca_file)
    except OSError as exc:  # ssl.SSLError is an OSError
        return observed(
            failure=redactor(f"{step}: cannot load ca_file {spec.ca_file}: {exc}")[:REASON_CHARS]
        )

    deadline = asyncio.get_running_loop().time() + spec.timeout
    chain_error: str | None = None
    try:
        try:
            shake = await _handshake(spec, server_name, verifying, deadline)
        except ssl.SSLCertVerificationError as exc:
            chain_error = exc.verify_message or str(exc)
            shake = await _handshake(spec, server_name, lenient, deadline)
    except TimeoutError:  # before OSError: TimeoutError is one
        limit = format_base(spec.timeout, Dimension.TIME)
        return observed(failure=f"{step}: connect timeout (no TLS handshake within {limit})")
    except OSError as exc:  # refused, DNS, reset, a handshake error (ssl.SSLError)
        return observed(failure=describe_error(exc, redactor, step))
    except ValueError as exc:  # a server name Python will not send (empty, bad IDNA)
        return observed(failure=redactor(f"{step}: {exc}")[:REASON_CHARS])

    values: dict[str, Sample] = {"chain_valid": chain_error is None, "handshake": shake.seconds}
    missing: dict[str, str] = {}
    if shake.version is not None:
        values["tls_version"] = shake.version
    else:
        missing["tls_version"] = "the connection reported no TLS version"
    if chain_error is not None:
        details["chain"] = chain_error
    unreadable = "the server presented no certificate"
    if shake.der is not None:
        try:
            certificate = parse_certificate(shake.der)
        except ValueError as exc:
            unreadable = f"the server's certificate could not be read ({exc})"
        else:
            unreadable = ""
            values["expires_in"] = (certificate.not_after - datetime.now(UTC)).total_seconds()
            values["hostname_valid"] = certificate.matches(server_name)
            details["not after"] = certificate.not_after.isoformat()
    if unreadable:
        missing["expires_in"] = missing["hostname_valid"] = unreadable

    problems = [chain_error] if chain_error is not None else []
    if values.get("hostname_valid") is False:
        problems.append(f"certificate is not valid for {server_name!r}")
    failure = None
    if problems and spec.verify:
        failure = redactor(f"{step}: TLS error ({'; '.join(problems)})")[:REASON_CHARS]
    return observed(failure, values, missing)


def _contexts(ca_file: str | None) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A context that verifies the chain (not the name, see above), and one that verifies nothing."""
    verifying = ssl.create_default_context()
    if ca_file is not None:  # besides the system's anchors, not instead of them
        verifying.load_verify_locations(cafile=ca_file)
    verifying.check_hostname = False  # verify_mode stays CERT_REQUIRED
    lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    lenient.check_hostname = False
    lenient.verify_mode = ssl.CERT_NONE
    return verifying, lenient


async def _handshake(
    spec: TlsProbe, server_name: str, context: ssl.SSLContext, deadline: float
) -> _Handshake:
    async with asyncio.timeout_at(deadline):
        clock = time.perf_counter()
        _, writer = await asyncio.open_connection(
            spec.host,
            spec.port,
            ssl=context,
            server_hostname=server_name,  # SNI; Python sends none for an IP address
            ssl_handshake_timeout=spec.timeout,
        )
        seconds = time.perf_counter() - clock
    try:
        tls: ssl.SSLObject | None = writer.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        version = tls.version() if tls is not None else None
    finally:
        await _close(writer)
    return _Handshake(seconds, version, der)


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close politely (close_notify), but never wait long for a server that does not answer."""
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()


# -- the certificate: a DER walk over the few fields read ---------------------------------


@dataclass(frozen=True)
class Certificate:
    """What the probe reads of an X.509 certificate."""

    not_after: datetime
    dns_names: tuple[str, ...]
    ip_addresses: tuple[IpAddress, ...]

    def matches(self, server_name: str) -> bool:
        """Whether the subjectAltName covers ``server_name`` (RFC 6125; no CN fallback)."""
        try:
            address = ipaddress.ip_address(server_name.strip("[]"))
        except ValueError:
            host = _ascii_name(server_name)
            return bool(host) and any(_dns_match(p, host) for p in self.dns_names)
        return address in self.ip_addresses


class _Tlv(NamedTuple):
    tag: int
    start: int  # of the contents
    end: int


_SEQUENCE = 0x30
_OID = 0x06
_OCTET_STRING = 0x04
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_VERSION = 0xA0  # [0] EXPLICIT, in TBSCertificate
_EXTENSIONS = 0xA3  # [3] EXPLICIT, in TBSCertificate
_DNS_NAME = 0x82  # [2] IMPLICIT IA5String, in GeneralName
_IP_ADDRESS = 0x87  # [7] IMPLICIT OCTET STRING, in GeneralName
_SUBJECT_ALT_NAME = bytes([0x55, 0x1D, 0x11])  # 2.5.29.17


def parse_certificate(der: bytes) -> Certificate:
    """notAfter and the subjectAltName of a DER certificate (RFC 5280 §4.1); ValueError if unreadable."""
    certificate = _element(der, 0, len(der), _SEQUENCE)
    tbs = _children(der, certificate)[0]
    if tbs.tag != _SEQUENCE:
        raise ValueError("no TBSCertificate")
    fields = _children(der, tbs)
    if fields and fields[0].tag == _VERSION:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [1], [2], [3]
    if len(fields) < 6 or fields[3].tag != _SEQUENCE:
        raise ValueError("no validity")
    validity = _children(der, fields[3])
    if len(validity) != 2:
        raise ValueError("a validity without notBefore and notAfter")
    dns_names: list[str] = []
    ip_addresses: list[IpAddress] = []
    for field in fields[6:]:
        if field.tag == _EXTENSIONS:
            _alt_names(
                der, _element(der, field.start, field.end, _SEQUENCE), dns_names, ip_addresses
            )
    return Certificate(_time(der, validity[1]), tuple(dns_names), tuple(ip_addresses))


def _alt_names(
    der: bytes, extensions: _Tlv, dns_names: list[str], ip_addresses: list[IpAddress]
) -> None:
    for extension in _children(der, extensions):  # SEQUENCE {extnID, critical?, extnValue}
        parts = _children(der, extension)
        if len(parts) < 2 or parts[0].tag != _OID:
            raise ValueError("a malformed extension")
        if der[parts[0].start : parts[0].end] != _SUBJECT_ALT_NAME:
            continue
        value = parts[-1]
        if value.tag != _OCTET_STRING:
            raise ValueError("a malformed subjectAltName")
        for name in _children(der, _element(der, value.start, value.end, _SEQUENCE)):
            content = der[name.start : name.end]
            if name.tag == _DNS_NAME:
                dns_names.append(content.decode("ascii"))
            elif name.tag == _IP_ADDRESS and len(content) in (4, 16):
                ip_addresses.append(ipaddress.ip_address(content))


def _time(der: bytes, item: _Tlv) -> datetime:
    """UTCTime ``YYMMDDHHMMSSZ`` (years 1950-2049) or GeneralizedTime ``YYYYMMDDHHMMSSZ``."""
    text = der[item.start : item.end].decode("ascii")
    if item.tag == _UTC_TIME and len(text) == 13:
        text = f"{19 if int(text[:2]) >= 50 else 20}{text}"
    elif item.tag != _GENERALIZED_TIME or len(text) != 15:
        raise ValueError(f"an unreadable time {text!r}")
    if not text[:14].isdigit() or not text.endswith("Z"):
        raise ValueError(f"an unreadable time {text!r}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


def _element(der: bytes, at: int, limit: int, tag: int) -> _Tlv:
    """The element at ``at``, which must have ``tag`` and fill the bytes up to ``limit``."""
    item = _tlv(der, at, limit)
    if item.tag != tag or item.end != limit:
        raise ValueError(f"expected DER tag {tag:#04x} at byte {at}")
    return item


def _children(der: bytes, parent: _Tlv) -> list[_Tlv]:
    items: list[_Tlv] = []
    at = parent.start
    while at < parent.end:
        item = _tlv(der, at, parent.end)
        items.append(item)
        at = item.end
    if not items:
        raise ValueError(f"an empty DER element at byte {parent.start}")
    return items


def _tlv(der: bytes, at: int, limit: int) -> _Tlv:
    """Tag, and where the contents start and end, of the DER element at ``at`` (within ``limit``)."""
    if at + 2 > limit:
        raise ValueError("the certificate is truncated")
    tag, length = der[at], der[at + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("a high-tag-number DER element")  # none among the fields read
    at += 2
    if length & 0x80:  # long form: the next (length & 0x7F) bytes are the length
        count = length & 0x7F
        if not 0 < count <= 4 or at + count > limit:
            raise ValueError("a malformed DER length")
        length = int.from_bytes(der[at : at + count], "big")
        at += count
    if at + length > limit:
        raise ValueError("the certificate is truncated")
    return _Tlv(tag, at, at + length)


def _ascii_name(name: str) -> str:
    """A host name as certificates hold it: lower case, A-labels (IDNA), no trailing dot."""
    name = name.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def _dns_match(pattern: str, host: str) -> bool:
    """A dNSName against a host: exact, or ``*.`` + the host minus its (non-empty) first label."""
    pattern = pattern.rstrip(".").lower()
    if pattern == host:
        return True
    wildcard, _, rest = pattern.partition(".")
    if wildcard != "*" or "." not in rest:  # `*.example.com` yes; `f*.example.com`, `*.com` no
        return False
    label, dot, host_rest = host.partition(".")
    return bool(label and dot) and host_rest == rest
