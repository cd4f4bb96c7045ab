"""The status page as a reader sees it: headless Chromium at 1280 and 390 px.

Everything is read from the page as Chromium laid it out, through the DevTools
client of the on-call report's tests (the pages have no script; DevTools
evaluation is not theirs). Screenshots of each page land in the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.sinks.test_report_on_call import Chromium
from tests.sinks.test_reports import CHROMIUM
from tests.status_page.conftest import Site
from tests.status_page.scenario import CANARY, ENVIRONMENTS, HOSTILE, SLOS

WIDTHS = (1280, 390)

READ = r"""(() => {
  const shown = (e) => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const text = (e) => (e ? e.textContent.trim() : null);
  const cell = (tr, label) => text(tr.querySelector(`td[data-label="${label}"]`));
  const labelled = (td) => {
    const head = td.closest('table').querySelector('thead th');
    const before = getComputedStyle(td, '::before').content;
    return (head && shown(head)) || (before && before !== 'none' && before !== 'normal' && before.length > 2);
  };
  return {
    width: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    outside: [...document.querySelectorAll('main *')].filter(shown)
      .filter((e) => !e.closest('svg') && e.getBoundingClientRect().right > innerWidth + 1)
      .map((e) => e.tagName + '.' + e.className).slice(0, 10),
    overflowing: (() => {  // text that runs past its box, out of the window
      const found = []; const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const range = document.createRange(); range.selectNodeContents(n);
        if (range.getBoundingClientRect().right > innerWidth + 1) found.push(n.textContent.slice(0, 40));
      }
      return found;
    })(),
    scripts: document.scripts.length,
    images: document.images.length,
    handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name))
      .filter((n) => n.startsWith('on')),
    unlabelled: [...document.querySelectorAll('td')].filter(shown).filter((td) => text(td) && !labelled(td))
      .map((td) => text(td).slice(0, 40)),
    text: document.body.innerText,
    rows: [...document.querySelectorAll('table.services tbody tr')].map((tr) => ({
      service: cell(tr, 'service'), environment: cell(tr, 'environment'), status: cell(tr, 'status'),
      days: [...tr.querySelectorAll('svg.days rect')].reduce((n, r) => n + Number(r.getAttribute('width')), 0),
      stripWidth: tr.querySelector('svg.days').getBoundingClientRect().width,
    })),
    environments: [...document.querySelectorAll('section.environment')].map((s) => s.id),
    slos: [...document.querySelectorAll('section.slo')].map((s) => ({
      id: s.id,
      name: text(s.querySelector('h3')),
      status: text(s.querySelector('.slo-head .badge')),
      uptimes: [...s.querySelectorAll('dl.uptime .fact')].map((f) => ({
        label: shown(f.querySelector('dt')) ? text(f.querySelector('dt')) : null,
        value: shown(f.querySelector('dd')) ? f.querySelector('dd').firstChild.textContent.trim() : null,
      })),
      bars: [...s.querySelectorAll('svg.days rect')].map((r) => ({
        cls: r.getAttribute('class'), fill: getComputedStyle(r).fill, width: r.getBoundingClientRect().width,
      })),
      stripWidth: s.querySelector('svg.days').getBoundingClientRect().width,
      cardWidth: s.getBoundingClientRect().width,
    })),
  };
})()"""


def _read(browser: Chromium, page: Path, width: int, shots: Path) -> dict[str, Any]:
    browser.open(page.as_uri(), width)
    found: dict[str, Any] = browser.evaluate(READ)
    kind = "internal" if "internal" in page.parts else "public"
    browser.screenshot(shots / f"{kind}-{page.stem}-{width}.png", width)
    return found


def _laid_out(page: dict[str, Any], width: int) -> None:
    assert page["width"] == width
    assert page["scrollWidth"] <= width, f"{width} px: the page scrolls sideways"
    assert page["outside"] == [] and page["overflowing"] == [], f"{width} px: cut off at the right"
    assert page["scripts"] == 0 and page["images"] == 0 and page["handlers"] == []
    assert page["unlabelled"] == [], f"{width} px: values without their label"


@pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium (scripts/test.sh installs Debian's chromium)"
)
def test_index_and_service_pages_in_chromium(site: Site, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    browser = Chromium(CHROMIUM, tmp_path / "profile")
    try:
        index = {w: _read(browser, site.public / "index.html", w, tmp_path) for w in WIDTHS}
        shop = {w: _read(browser, site.public / "services/shop.html", w, tmp_path) for w in WIDTHS}
        billing = _read(browser, site.internal / "services/billing.html", 390, tmp_path)
    finally:
        browser.close()

    for width, page in index.items():
        _laid_out(page, width)
        rows = {(r["service"], r["environment"]): r for r in page["rows"]}
        assert sorted(rows) == sorted(ENVIRONMENTS)
        assert all(r["days"] == 90 and r["stripWidth"] > 60 for r in rows.values())
        assert rows[("billing", "production")]["status"].startswith("breach")
        assert "2 open incidents" in rows[("billing", "production")]["status"]
        assert "Open incidents" in page["text"] and "payments-up" in page["text"]
        for secret in (CANARY, HOSTILE, "alert(", "example"):
            assert secret not in page["text"]

    for width, page in shop.items():
        _laid_out(page, width)
        assert page["environments"] == ["env-production", "env-staging"]
        assert [s["name"] for s in page["slos"]] == [*SLOS["shop"], *SLOS["shop"]]
        for slo in page["slos"]:
            assert [u["label"] for u in slo["uptimes"]] == [
                "uptime 24 h",
                "uptime 7 d",
                "uptime 30 d",
                "uptime 90 d",
            ]
            assert all(u["value"] and u["value"].endswith("%") for u in slo["uptimes"]), slo
            assert len(slo["bars"]) == 90
            assert all(bar["width"] > 1.5 for bar in slo["bars"]), f"{width} px: bars too thin"
            assert slo["stripWidth"] >= 0.85 * slo["cardWidth"]
        depth = page["slos"][0]
        assert depth["id"] == "slo-production-queue-depth" and depth["status"] == "ok"
        assert [u["value"] for u in depth["uptimes"]] == ["100%", "100%", "96.6%", "98%"]
        colours = {bar["cls"]: bar["fill"] for s in page["slos"] for bar in s["bars"]}
        assert set(colours) == {"ok", "warning", "breach", "none"}
        assert len(set(colours.values())) == 4  # each status its own colour; grey for no runs
        assert "Jobs are not piling up." in page["text"]
        for secret in (CANARY, HOSTILE, "alert(", "example", "queue team"):
            assert secret not in page["text"]

    _laid_out(billing, 390)
    assert HOSTILE in billing["text"]  # shown as text, never run
    assert CANARY not in billing["text"]
    assert [s["status"] for s in billing["slos"]] == ["breach", "breach"]
