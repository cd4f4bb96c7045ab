"""The TCP probe: resolve once, then N connections one after another, each timed and closed cleanly.

A sample connects (the ``connect`` series times only that, the DNS lookup is
done once before), sends ``send`` if set and, with ``expect``, reads until
the answer matches, the server closes, ``max_bytes`` or ``timeout``. Every
wait is bounded by ``timeout``; a refused port, a failed lookup or a timeout
is a ``failure`` in the words of :mod:`sloprobe.probes.network`, never an
exception.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sloprobe.model.measurement import Reading, Sample, Series
from sloprobe.model.units import Dimension, Unit, format_base
from sloprobe.probes.base import ProbeCall
from sloprobe.probes.network import REASON_CHARS, describe_error, samples_failure
from sloprobe.probes.tcp.spec import BANNER_CHARS, TcpProbe, tcp_series_units
from sloprobe.redact import Redactor

EXCERPT_CHARS = 500
FAILURE_EXCERPT_CHARS = 100

Phase = Literal["connect", "send", "read"]
AddrInfo = tuple[int, int, int, str, Any]


@dataclass
class _Exchange:
    """What one sample got, filled as it goes (a timeout keeps what was read)."""

    phase: Phase = "connect"
    connect_s: float | None = None
    address: str | None = None
    answer: bytearray = field(default_factory=bytearray)
    ended: str | None = None  # how reading the answer ended

    def text(self) -> str:
        return self.answer.decode("utf-8", errors="replace")


@dataclass
class _Collected:
    samples: dict[str, list[Sample]]
    failures: list[str] = field(default_factory=list)
    excerpt: str | None = None
    address: str | None = None
    ended: str | None = None
    attempts: int = 0


async def measure(call: ProbeCall[TcpProbe]) -> Reading:
    return await read_tcp(call.spec, call.context.redactor)


async def read_tcp(spec: TcpProbe, redactor: Redactor) -> Reading:
    """Connect ``spec.samples`` times, one after another; never raises for the network's failures."""
    step = f"tcp {spec.endpoint}"
    units = tcp_series_units(spec)
    collected = _Collected(samples={series: [] for series in units})
    pattern = re.compile(spec.expect) if spec.expect is not None else None
    try:
        async with asyncio.timeout(spec.timeout):
            infos = await asyncio.get_running_loop().getaddrinfo(
                spec.host, spec.port, type=socket.SOCK_STREAM
            )
    except (TimeoutError, OSError) as exc:
        if isinstance(exc, TimeoutError):  # asyncio's: it says nothing, so say what timed out
            exc = socket.gaierror(f"no answer within {format_base(spec.timeout, Dimension.TIME)}")
        collected.attempts += 1
        collected.samples["ok"].append(False)  # the first sample could not even connect
        collected.failures.append(describe_error(exc, redactor, step))
    else:
        for _ in range(spec.samples):
            if not await _sample(spec, infos, pattern, redactor, step, collected):
                break  # the endpoint is not answering; more samples would only wait longer
    return _reading(spec, units, collected)


async def _sample(
    spec: TcpProbe,
    infos: Sequence[AddrInfo],
    pattern: re.Pattern[str] | None,
    redactor: Redactor,
    step: str,
    collected: _Collected,
) -> bool:
    """One connection; False when it failed in a way that ends the samples (error, timeout)."""
    collected.attempts += 1
    exchange = _Exchange()
    writer: asyncio.StreamWriter | None = None
    failure: str | None = None
    goes_on = True
    try:
        async with asyncio.timeout(spec.timeout):
            clock = time.perf_counter()
            sock, exchange.address = await _connect(infos)
            exchange.connect_s = time.perf_counter() - clock
            reader, writer = await asyncio.open_connection(sock=sock)
            if spec.send is not None:
                exchange.phase = "send"
                writer.write(spec.send.encode())
                await writer.drain()
            if pattern is not None:
                exchange.phase = "read"
                exchange.ended = await _read(reader, pattern, spec.max_bytes, exchange.answer)
    except TimeoutError:
        goes_on = False
        exchange.ended = f"timeout ({format_base(spec.timeout, Dimension.TIME)})"
        if exchange.phase != "read" or not exchange.answer:
            failure = _timed_out(exchange.phase, spec, redactor, step)
        # else: an answer came but never matched; _record says so, with an excerpt
    except OSError as exc:
        goes_on = False
        failure = describe_error(exc, redactor, step)
    except BaseException:  # cancelled from outside (the probe's deadline), or a bug: no waiting
        if writer is not None:
            writer.transport.abort()
        raise
    if writer is not None:
        await _close(writer, spec.timeout)
    _record(exchange, failure, spec, pattern, redactor, step, collected)
    return goes_on


async def _connect(infos: Sequence[AddrInfo]) -> tuple[socket.socket, str]:
    """A connected non-blocking socket to the first address that accepts, as a client would."""
    loop = asyncio.get_running_loop()
    first_error: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            first_error = first_error or exc
            continue
        except BaseException:  # cancelled by the timeout: never leak the socket
            sock.close()
            raise
        return sock, str(address[0])
    raise first_error or OSError("the DNS lookup returned no address")


async def _read(
    reader: asyncio.StreamReader, pattern: re.Pattern[str], max_bytes: int, answer: bytearray
) -> str:
    """Read into ``answer`` until it matches ``pattern``, EOF or ``max_bytes``; says which."""
    while len(answer) < max_bytes:
        chunk = await reader.read(max_bytes - len(answer))
        if not chunk:
            return "server closed"
        answer.extend(chunk)
        if pattern.search(answer.decode("utf-8", errors="replace")):
            return "matched"
    return f"max_bytes ({max_bytes})"


async def _close(writer: asyncio.StreamWriter, timeout: float) -> None:
    """Close with a FIN, waiting at most ``timeout`` for it to go out; abort otherwise."""
    writer.close()
    try:
        async with asyncio.timeout(timeout):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()


def _timed_out(phase: Phase, spec: TcpProbe, redactor: Redactor, step: str) -> str:
    """asyncio's TimeoutError does not say what it waited for: name the phase in the common words."""
    limit = format_base(spec.timeout, Dimension.TIME)
    if phase == "connect":
        reason = describe_error(TimeoutError("connect timed out"), redactor, step)
        detail = f"no connection within {limit}"
    elif phase == "send":
        reason = f"{step}: write timeout"
        detail = f"`send` not taken within {limit}"
    else:
        reason = describe_error(TimeoutError("timed out"), redactor, step)
        detail = f"no answer within {limit}"
    return redactor(f"{reason} ({detail})")[:REASON_CHARS]


def _record(
    exchange: _Exchange,
    failure: str | None,
    spec: TcpProbe,
    pattern: re.Pattern[str] | None,
    redactor: Redactor,
    step: str,
    collected: _Collected,
) -> None:
    if exchange.connect_s is not None:
        collected.samples["connect"].append(exchange.connect_s)
        collected.address = exchange.address
    if exchange.ended is not None:
        collected.ended = exchange.ended
    text = exchange.text()
    if pattern is not None and exchange.answer:
        first_line = text.split("\n", 1)[0].rstrip("\r")
        collected.samples["banner"].append(redactor(first_line)[:BANNER_CHARS])
    if failure is None and pattern is not None and not pattern.search(text):
        shown = redactor(text)
        quoted = repr(shown[:FAILURE_EXCERPT_CHARS]) + (
            "…" if len(shown) > FAILURE_EXCERPT_CHARS else ""
        )
        said = quoted if text else "the server sent nothing before closing"
        failure = redactor(f"{step}: answer did not match `{spec.expect}`: {said}")[:REASON_CHARS]
    collected.samples["ok"].append(failure is None)
    if failure is not None:
        collected.failures.append(failure)
    if pattern is not None and (collected.excerpt is None or failure is not None):
        collected.excerpt = redactor(text)[:EXCERPT_CHARS]


def _reading(spec: TcpProbe, units: dict[str, Unit], collected: _Collected) -> Reading:
    failure = samples_failure(collected.failures, spec.samples, "connections")
    missing: dict[str, str] = {}
    if "banner" in units and not collected.samples["banner"]:
        missing["banner"] = (
            "the server sent nothing" if collected.samples["connect"] else "no connection was made"
        )
    details = {"endpoint": f"tcp {spec.endpoint}"}
    if collected.address is not None:
        details["connected to"] = collected.address
    if collected.ended is not None:
        details["answer ended"] = collected.ended
    return Reading(
        series={n: Series(n, units[n], tuple(s)) for n, s in collected.samples.items()},
        failure=failure,
        missing=missing,
        attempts=collected.attempts,
        excerpt=collected.excerpt,
        details=details,
    )
