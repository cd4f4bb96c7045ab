"""Every text a probe hands on, made safe once, where it is measured: redacted and inert.

Values read from answers, excerpts, reasons and details pass through the
run's redactor (every configured secret in every encoding, and common
credential formats) and :func:`~sloprobe.redact.neutralise`, so no sink,
history row or notification ever holds a raw secret or a raw control
character from the target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.redact import Redactor, looks_secret, neutralise, url_secrets


def safe_text(text: str, redactor: Redactor, *, cut: bool = False) -> str:
    """Redacted and inert; ``cut``: the text may end (or start) inside a secret."""
    return neutralise(redactor(text, cut=cut))


def safe_measurement(
    measurement: Measurement, redactor: Redactor, as_sent: frozenset[str] = frozenset()
) -> Measurement:
    """The measurement with every text field redacted and neutralised (numbers untouched).

    Series named in ``as_sent`` opted out of credential patterns (``redact: false``):
    only the configured secrets are masked in them.
    """

    # Reasons, excerpts and details may have been cut to their size before they got here.
    def text(value: str | None) -> str | None:
        return None if value is None else safe_text(value, redactor, cut=True)

    def texts(values: Mapping[str, str]) -> dict[str, str]:
        return {key: safe_text(value, redactor, cut=True) for key, value in values.items()}

    def sample(value: Sample, name: str) -> Sample:
        if not isinstance(value, str):
            return value
        if name in as_sent:
            return neutralise(redactor.known(value))
        return safe_text(value, redactor)

    series = {
        name: Series(s.name, s.unit, tuple(sample(v, name) for v in s.samples))
        if any(isinstance(v, str) for v in s.samples)
        else s
        for name, s in measurement.series.items()
    }
    return dataclasses.replace(
        measurement,
        failure=text(measurement.failure),
        skipped=text(measurement.skipped),
        excerpt=text(measurement.excerpt),
        details=texts(measurement.details),
        missing=texts(measurement.missing),
        series=series,
    )


def register_spec_secrets(
    spec: Any, redactor: Redactor, depth: int = 0, *, in_body: bool = False
) -> None:
    """Teach the redactor what a probe's spec holds: URL passwords, and the values of
    headers, query parameters, form fields and JSON keys whose names look secret, at any
    depth of a JSON body (``{"credentials": {"password": …}}``, ``[{"client_secret": …}]``).

    In a JSON body a field named just ``key`` is not one: ``{key: status, value: …}`` filters
    and ``sort: {key: …}`` name things, where ``?key=…`` in a query is an API key."""
    if depth > _MAX_SPEC_DEPTH:
        return
    if isinstance(spec, BaseModel):
        for name in type(spec).model_fields:
            value = getattr(spec, name, None)
            if isinstance(value, str) and "://" in value and name in ("url", "server"):
                redactor.add(*url_secrets(value))
            else:
                body = in_body or name == "json_body"
                register_spec_secrets(value, redactor, depth + 1, in_body=body)
    elif isinstance(spec, Mapping):
        for key, item in spec.items():
            secret = isinstance(item, str | int | float) and not isinstance(item, bool)
            named = looks_secret(str(key)) and not (in_body and str(key).lower() == "key")
            if secret and named:
                redactor.add(str(item), str(item).split(" ", 1)[-1])
            else:
                register_spec_secrets(item, redactor, depth + 1, in_body=in_body)
    elif isinstance(spec, list | tuple):
        for item in spec:
            register_spec_secrets(item, redactor, depth + 1, in_body=in_body)


# As deep as a slo.yaml may nest (config.yaml_source.MAX_DEPTH); a spec is finite either way.
_MAX_SPEC_DEPTH = 64
