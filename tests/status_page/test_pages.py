"""The status page's content, read back from the model and the files: numbers, incidents, trust.

The numbers are checked against what the judge gave each run of the scenario
(:attr:`Scenario.truth`), through a history compacted as runs compact it: the
days before the last are read from roll-ups, the last from run rows.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sloprobe.cli import main
from sloprobe.model.status import Status
from sloprobe.status_page import render_site, write_site
from sloprobe.status_page.page import DAYS, WINDOWS, LocationState, StatusPage
from sloprobe.status_page.render import StatusPageError
from tests.sinks.test_report_on_call import broken_links
from tests.status_page.conftest import Site
from tests.status_page.scenario import CANARY, ENVIRONMENTS, HOSTILE, NOW, SLOS

# What a public page must never hold: the canary, target text, target URLs, and what
# only internal pages show (owners, runbooks, reasons, releases, run ids).
NEVER_PUBLIC = (
    CANARY,
    HOSTILE,
    "alert(",
    "<script",
    "onerror",
    "shop.example",
    "pay.example",
    "billing.example",
    "api_key",
    "runbooks.example",
    "javascript:",
    "queue team",
    "jobs team",
    "probe api failed",
    "HTTP 500",
    "v1.2.3",
    "shop-production-0",
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.update(name for name, _ in attrs)


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_every_service_environment_and_slo_is_there(site: Site) -> None:
    files = _files(site.public)
    services = sorted({s for s, _ in ENVIRONMENTS})
    assert sorted(f for f in files if f.endswith(".html")) == [
        "index.html",
        *(f"services/{s}.html" for s in services),
    ]
    for service, environment in ENVIRONMENTS:
        page = files[f"services/{service}.html"]
        assert f'id="env-{environment}"' in page
        for slo in SLOS[service]:
            assert f'id="slo-{environment}-{slo}"' in page
            for suffix in (".svg", ".json"):
                assert f"badges/{service}/{environment}/{slo}{suffix}" in files
        assert f"badges/{service}/{environment}.svg" in files
        assert f'href="services/{service}.html#env-{environment}"' in files["index.html"]
    for name in ("index.html", *(f"services/{s}.html" for s in services)):
        assert broken_links(site.public / name) == [], name
        assert broken_links(site.internal / name) == [], name


def test_uptime_and_days_agree_with_every_judged_run(site: Site) -> None:
    today = NOW.replace(hour=0, minute=0)
    first_day = today - (DAYS - 1) * timedelta(days=1)
    for env in site.page.environments:
        for slo in env.slos:
            truth = site.scenario.truth[(env.service, env.environment, slo.name)]
            for (label, span), uptime in zip(WINDOWS, slo.uptimes, strict=True):
                inside = [j for j in truth if NOW - span < j.at <= NOW and j.counted]
                assert uptime.label == label
                assert (uptime.runs, uptime.bad_runs) == (
                    len(inside),
                    sum(1 for j in inside if j.bad),
                ), (env.service, env.environment, slo.name, label)
            worst: dict[object, Status] = {}
            for j in truth:
                if j.at > first_day and j.at <= NOW:
                    day = j.at.astimezone(UTC).date()
                    if day not in worst or j.status.severity > worst[day].severity:
                        worst[day] = j.status
            assert len(slo.days) == DAYS
            assert slo.days[0].day == first_day.date() and slo.days[-1].day == NOW.date()
            assert {d.day: d.status for d in slo.days if d.status} == worst
            assert slo.status is truth[-1].status


def test_states_incidents_and_staleness(site: Site) -> None:
    envs = {(e.service, e.environment): e for e in site.page.environments}
    billing = envs[("billing", "production")]
    assert billing.status is Status.BREACH
    assert sorted(i.slo for i in billing.open_incidents) == ["invoice-latency", "payments-up"]
    assert all(s.incident_open for s in billing.slos)
    shop = envs[("shop", "production")]
    assert shop.status is Status.WARNING  # health-latency warns in the latest run
    assert [(i.slo, i.opened_at, i.resolved_at) for i in shop.recent_incidents] == [
        (
            "queue-depth",
            NOW.replace(hour=6) - timedelta(days=20),
            NOW.replace(hour=6) - timedelta(days=18),
        )
    ]
    assert shop.open_incidents == ()
    assert envs[("search", "production")].stale and not shop.stale
    staging = envs[("shop", "staging")]
    assert sum(1 for d in staging.days if d.status is None) == 5  # a day without runs every 17
    depth = next(s for s in shop.slos if s.name == "queue-depth")
    assert depth.description == "Jobs are not piling up."
    assert depth.uptime("30 d") is not None and depth.uptime("30 d").covered_s is None  # type: ignore[union-attr]
    assert depth.internal is None and shop.internal is None  # public: nothing to leak
    index = (site.public / "index.html").read_text()
    assert "2 breached, 1 warning; 6 of 9 SLOs met; 1 environment with no run for a day" in index


def test_public_pages_hold_no_secret_and_no_target_text(site: Site) -> None:
    for name, text in _files(site.public).items():
        for never in NEVER_PUBLIC:
            assert never not in text, f"{never!r} in {name}"
    for name, text in _files(site.public).items():
        if name.endswith(".html"):
            assert "default-src 'none'" in text and 'name="robots"' not in text
    # A description's secret in a credential format is masked even in public text.
    assert "dashboard token=***" in (site.public / "services/shop.html").read_text()


def test_internal_pages_keep_target_text_inert(site: Site) -> None:
    billing = (site.internal / "services/billing.html").read_text()
    shop = (site.internal / "services/shop.html").read_text()
    for text in (billing, shop):
        tags = _Tags()
        tags.feed(text)
        assert not {"script", "img", "iframe", "object"} & tags.names
        assert not [a for a in tags.attributes if a.startswith("on")]
        assert "noindex" in text and "Do not publish it" in text
    assert "&lt;script&gt;alert(&#34;sp&#34;)&lt;/script&gt;" in billing  # the failure, as text
    assert "queue team &lt;script&gt;" in shop  # an owner, as text
    assert "https://***@billing.example/?api_key=***" in billing  # the target, its secrets masked
    assert 'href="https://runbooks.example/queue-depth"' in shop
    assert 'href="javascript:' not in shop  # a runbook that is no http(s) URL stays text
    assert "3 consecutive bad runs" in billing  # an incident's cause
    for name, text in _files(site.internal).items():
        assert CANARY not in text, name  # in formats the redactor knows: masked again


def test_locations_show_only_when_history_has_them(site: Site) -> None:
    assert "locations" not in (site.public / "services/shop.html").read_text()
    shop = next(s for s in site.page.services if s.name == "shop")
    env = shop.environments[0]
    slo = dataclasses.replace(
        env.slos[0],
        locations=(
            LocationState("eu-west", Status.OK, NOW),
            LocationState("us-east <b>", Status.BREACH, NOW),
        ),
    )
    env = dataclasses.replace(env, slos=(slo, *env.slos[1:]))
    page = dataclasses.replace(
        site.page,
        services=tuple(
            dataclasses.replace(s, environments=(env, *s.environments[1:])) if s is shop else s
            for s in site.page.services
        ),
    )
    html = render_site(page)["services/shop.html"]
    table = re.search(r'<table class="locations cards">.*?</table>', html, re.S)
    assert table is not None
    assert "eu-west" in table[0] and "us-east &lt;b&gt;" in table[0]
    assert table[0].count("<tr>") == 3  # the head and one row a location


def test_writing_again_replaces_the_page_and_refuses_other_directories(
    site: Site, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    files = render_site(site.page)
    write_site(files, out)
    (out / "services" / "gone.html").write_text("a service no longer in history")
    (out / "badges" / "gone").mkdir()
    (out / "badges" / "gone" / "old.svg").write_text("<svg/>")
    (out / ".nojekyll").write_text("")
    write_site(files, out)
    assert not (out / "services" / "gone.html").exists()
    assert not (out / "badges" / "gone").exists()
    assert (out / ".nojekyll").exists()  # hidden files are not the page's
    assert sorted(_files(out)) == sorted([*files, ".nojekyll"])
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in out.rglob("*") if p.is_file())
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(StatusPageError, match="holds no status page"):
        write_site(files, foreign)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_an_empty_history_gives_a_page_that_says_so(tmp_path: Path) -> None:
    page = StatusPage(title="Status", built_at=NOW, internal=False, services=())
    files = render_site(page)
    assert list(files) == ["index.html"]
    assert "No runs in the history yet" in files["index.html"]


def test_the_command(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site"
    assert main(["status-page", "--history", str(site.history), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "3 services, 4 environments, 9 SLOs" in said and "4 pages, 13 badges" in said
    for name, text in _files(out).items():  # read at the real clock: all stale, still public-safe
        assert CANARY not in text and HOSTILE not in text and "shop.example" not in text, name
    url = f"sqlite:///{site.history}"
    assert main(["status-page", "--history", url, "--out", str(out), "--internal"]) == 0
    assert "Do not publish it" in (out / "index.html").read_text()
    assert "not for publishing" in capsys.readouterr().out
    missing = tmp_path / "missing.db"
    assert main(["status-page", "--history", str(missing), "--out", str(out)]) == 4
    assert not missing.exists()  # never leaves an empty history behind
    assert "no history at" in capsys.readouterr().err
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x").write_text("x")
    foreign = ["--out", str(tmp_path / "foreign")]
    assert main(["status-page", "--history", str(site.history), *foreign]) == 4
    assert "holds no status page" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            ["status-page", "--history", str(site.history), "--out", "x", "--public", "--internal"]
        )
