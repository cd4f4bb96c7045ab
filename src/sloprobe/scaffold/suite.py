"""The scaffolded slo.yaml: a shape's example, made the user's, and the variables it reads.

What changes from the example: the service's name is the user's (``--service`` or the folder's
name; the example's paths stay as its seed shows them); the target comes from
``$PROBE_BASE_URL`` (or ``--base-url``), never from a URL variable of the example; a credential never has a
default (``${ADMIN_JWT:-set-ADMIN_JWT}`` would send a dummy token) and neither has a loopback URL
(``${REDIS_URL:-redis://127.0.0.1:6379/0}`` would probe the runner itself): both become required
variables, and a run without them stops with "environment variable X is not set" (exit 4).
An empty default (``${ADMIN_JWT:-}``, one of a pair of credentials) stays: empty is "not set".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

TARGET_VARIABLE = "PROBE_BASE_URL"

# `${NAME}` or `${NAME:-default}`, not `$${…}` (an escaped dollar), as the config layer reads them.
_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_LOOPBACK = re.compile(r"//(127\.\d+\.\d+\.\d+|localhost|\[::1\])([:/]|$)")

# By name: what may carry a credential is a secret — tokens, keys, DSNs, webhooks, and the
# connection URLs of data stores (`redis://:password@host`). Other URLs (an API, Flower,
# Prometheus) and plain settings are repository variables, visible to whoever reads the repo.
_SECRET_WORDS = frozenset(
    [
        "TOKEN",
        "JWT",
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "KEY",
        "APIKEY",
        "DSN",
        "WEBHOOK",
        "AUTH",
        "CREDENTIALS",
        "CREDENTIAL",
        "COOKIE",
        "SESSION",
        "PRIVATE",
    ]
)
_DATA_STORE_WORDS = frozenset(
    [
        "REDIS",
        "DATABASE",
        "DB",
        "BROKER",
        "POSTGRES",
        "POSTGRESQL",
        "PG",
        "MYSQL",
        "AMQP",
        "RABBITMQ",
        "MONGO",
        "MONGODB",
        "HISTORY",
    ]
)

EXAMPLE_PROBE = """
  example:
    description: The Python probe in probes/test_example.py.
    python:
      values:
        seconds: { unit: s }
"""
EXAMPLE_SLO = """
  example-fast:
    probe: example
    measure: seconds
    threshold: max < 2s
"""


@dataclass(frozen=True)
class Variable:
    name: str
    required: bool  # no default in slo.yaml
    secret: bool  # a repository secret, not a variable

    @property
    def expression(self) -> str:
        return f"${{{{ {'secrets' if self.secret else 'vars'}.{self.name} }}}}"


def is_secret(name: str) -> bool:
    words = set(name.upper().split("_"))
    return bool(words & _SECRET_WORDS or words & _DATA_STORE_WORDS)


def example_text(shape: str) -> str:
    """The shape's example slo.yaml (packaged, or from a source checkout)."""
    packaged = resources.files("sloprobe") / "examples" / shape / "slo.yaml"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "examples" / shape / "slo.yaml"
    return checkout.read_text(encoding="utf-8")


def suite_slo_yaml(shape: str, description: str, service: str, text: str | None = None) -> str:
    """The example of ``shape`` (or ``text``: a file `sloprobe discover` proposed) for
    ``service``, with the example Python probe and its SLO."""
    text = example_text(shape) if text is None else text
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)  # the example's own header; ours says where the file came from
    text = "\n".join(lines) + "\n"
    # Only the service's name is the user's: the example's paths (`/api/apps/pose-generator/…`)
    # are what its seed shows, never rewritten after a folder's name.
    text = re.sub(r"^service:\s*\S+\s*$", f"service: {service}", text, count=1, flags=re.M)
    text = _target_from_probe_base_url(text)
    text = _VARIABLE.sub(_without_dummy_default, text)
    head, _, slos = text.partition("\nslos:\n")
    header = (
        f"# {service}: {description} (`sloprobe init --shape {shape}`).\n"
        "# Adapt paths, queues and thresholds to your service; `sloprobe validate` checks the file.\n"
        "# A variable without a default must be set: the workflows in .github/workflows pass\n"
        "# each one from the repository variable or secret of the same name.\n"
    )
    return (
        header
        + head.rstrip()
        + "\n"
        + EXAMPLE_PROBE
        + "\nslos:\n"
        + slos.rstrip()
        + "\n"
        + EXAMPLE_SLO
    )


def variables(slo_yaml: str) -> list[Variable]:
    """Each ``${VAR}`` the file reads, in the order of first use; required if any use has no default."""
    found: dict[str, bool] = {}
    for match in _VARIABLE.finditer(_without_comments(slo_yaml)):
        found[match[1]] = found.get(match[1], False) or match[2] is None
    return [Variable(name, required, is_secret(name)) for name, required in found.items()]


def _without_comments(text: str) -> str:
    """The YAML without its comments (a `#` that starts a line or follows a blank)."""
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


def _target_from_probe_base_url(text: str) -> str:
    """No ``target.base_url``: ``$PROBE_BASE_URL`` or ``--base-url`` gives it, the one name the
    workflows, the action and ``sloprobe wait`` share (the example's own variable would be a second)."""
    line = re.search(r"^  base_url:.*\n", text, re.M)
    if line is None:
        return text
    note = f"  # base_url: none here; ${TARGET_VARIABLE} or --base-url gives it\n"
    text = text[: line.start()] + note + text[line.end() :]
    # A target block left with nothing but comments would read as `target: null`.
    return re.sub(r"^target:[ \t]*\n((?:[ \t]*#.*\n|[ \t]*\n)*)(?=\S)", r"\1", text, flags=re.M)


def _without_dummy_default(match: re.Match[str]) -> str:
    """``${NAME}`` for a credential (its default is a dummy that would be sent) and for a loopback
    URL (on a runner it probes the runner itself); other defaults stay."""
    name, default = match[1], match[2]
    if default == "":
        return match[0]  # `${ADMIN_JWT:-}`: empty means "not this one", never a dummy sent
    if default is not None and (is_secret(name) or _LOOPBACK.search(default)):
        return f"${{{name}}}"
    return match[0]
