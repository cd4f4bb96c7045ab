"""report.html: one self-contained page an on-call engineer opens after a run.

It is written twice: ``report.html`` (always the latest run) and
``runs/<stem>.html`` (this run, for good), each with relative links that work
from where it lies — the run index, the previous and next runs, the CI run.
The page is rendered once; only its links (``report_nav.html.j2``) are rendered
for each copy. The archived report of the run before this one gets its "next
run" link now.

Everything the target returned, and everything slo.yaml says, is untrusted:
the template is rendered with autoescape on and never marks data safe; links
are only drawn for http(s). The page has no script and loads nothing
(``default-src 'none'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from sloprobe.files import write_atomically
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.percentiles import percentile
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.thresholds import format_observed
from sloprobe.model.units import Dimension, format_base, format_duration, plural
from sloprobe.probes.tracing import TraceLinks, TraceRef
from sloprobe.sinks.report_charts import time_tag
from sloprobe.sinks.report_links import (
    NEXT_MARKER,
    RUNS,
    ReportLinks,
    ci_link,
    links_for,
    neighbours,
    run_stem,
    safe_link,
)
from sloprobe.sinks.report_view import changes, headline, probe_title, slo_views
from sloprobe.templating import bytecode_cache

FILE_NAME = "report.html"
# Where a copy's links go in the page rendered once. Autoescape turns every ``<`` that data
# brings into ``&lt;``, so no text of the target or of slo.yaml can spell it.
_NAV_MARKER = "<!-- sloprobe:nav -->"

_environment = Environment(
    loader=PackageLoader("sloprobe.sinks", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    bytecode_cache=bytecode_cache(),
)


@dataclass(frozen=True)
class SeriesView:
    name: str
    unit: str
    count: int
    summary: str


def write_html_report(result: RunResult, directory: Path, traces: TraceLinks | None = None) -> Path:
    """Write report.html and runs/<stem>.html; link the previous archived report to this one.

    ``traces``: the run's ``settings.traces.url`` and redactor, so each failed check and
    each probe links its trace; without it, trace ids are shown as text.
    """
    runs = directory / RUNS
    stem = run_stem(result.run)
    kept = _kept_runs(runs)
    previous, following = neighbours(stem, kept.items())
    ci = ci_link(result.run.ci_url)
    page = _Page(result, traces)
    written = write_atomically(
        directory / FILE_NAME, page.render(links_for(stem, False, previous, following, ci))
    )
    write_atomically(
        runs / f"{stem}.html", page.render(links_for(stem, True, previous, following, ci))
    )
    if previous is not None and previous.has_report and following is None:
        _link_next(runs / f"{previous.stem}.html", stem)
    return written


def render_html_report(
    result: RunResult, links: ReportLinks | None = None, traces: TraceLinks | None = None
) -> str:
    """The page as text; ``links`` None: a report with no neighbours (a preview, a test)."""
    return _Page(result, traces).render(links or ReportLinks(ci=ci_link(result.run.ci_url)))


def _kept_runs(runs: Path) -> dict[str, bool]:
    """Kept runs by stem, with whether their report is kept too."""
    if not runs.is_dir():
        return {}
    stems: dict[str, bool] = {}
    for path in runs.iterdir():
        if path.suffix in (".json", ".html") and not path.name.startswith("."):
            stems[path.stem] = stems.get(path.stem, False) or path.suffix == ".html"
    return stems


def _link_next(previous: Path, stem: str) -> None:
    """Fill the next-run link of the run before this one (its marker, written with it)."""
    try:
        text = previous.read_text(encoding="utf-8")
    except OSError:
        return
    if NEXT_MARKER not in text:
        return
    link = Markup('<a rel="next" href="{}">next run →</a>').format(f"{stem}.html")
    write_atomically(previous, text.replace(NEXT_MARKER, str(link), 1))


class _Page:
    """The parts of a report that do not depend on where it lies, worked out once."""

    def __init__(self, result: RunResult, traces: TraceLinks | None = None) -> None:
        self.result = result
        self.traces = traces or TraceLinks()
        self.views = slo_views(result, self.traces)
        # A probe's card shows its trace (with its job's id) when it failed or an SLO on it is
        # not ok: what someone opens the backend's trace for.
        self.traced = {v.verdict.probe for v in self.views if v.trace is not None}
        self.changes = changes(result, self.views)

    def render(self, links: ReportLinks) -> str:
        """The page with the links of one copy (``report.html`` or ``runs/<stem>.html``)."""
        nav = _environment.get_template("report_nav.html.j2").render(
            links=links, time=time_tag, next_marker=Markup(NEXT_MARKER)
        )
        return self._page.replace(_NAV_MARKER, nav, 1)

    @cached_property
    def _page(self) -> str:
        result = self.result
        template = _environment.get_template("report.html.j2")
        return template.render(
            result=result,
            run=result.run,
            status=result.status.value,
            status_label=result.status.label,
            headline=headline(result),
            counts=[(s.label, result.count(s), s.value) for s in Status],
            views=self.views,
            over_time=[v for v in self.views if v.over_time],
            attention=[v for v in self.views if v.attention],
            healthy=[v for v in self.views if not v.attention],
            changes=self.changes,
            nav_marker=Markup(_NAV_MARKER),
            measurements=sorted(result.measurements.values(), key=lambda m: m.probe),
            series_views=_series_views,
            probe_title=lambda m: probe_title(m.probe, m, result.run.base_url),
            trace_of=self._trace,
            time=time_tag,
            seconds=_seconds,
            duration=format_duration,
            plural=plural,
            link=safe_link,
        )

    def _trace(self, measurement: Measurement) -> TraceRef | None:
        if measurement.failed or measurement.probe in self.traced:
            return self.traces.ref(measurement)
        return None


def _seconds(value: float) -> str:
    """A short duration as people read it: ``2.57s``, ``312ms``."""
    return format_base(value, Dimension.TIME)


def _series_views(measurement: Measurement) -> list[SeriesView]:
    return [_series_view(s) for s in measurement.series.values()]


def _series_view(series: Series) -> SeriesView:
    dimension = series.dimension
    samples = series.samples
    if not samples:
        summary = "no samples"
    elif dimension in (Dimension.TEXT, Dimension.BOOLEAN) or any(
        isinstance(s, str) for s in samples
    ):
        summary = "last " + format_observed(
            samples[-1], Dimension.TEXT if isinstance(samples[-1], str) else dimension
        )
        if dimension is Dimension.BOOLEAN:
            true = sum(1 for s in samples if s is True)
            summary = f"{true} of {len(samples)} true"
    else:
        numbers = series.numbers()
        low, mid, high = min(numbers), percentile(numbers, 50), max(numbers)
        summary = (
            format_observed(numbers[0], dimension)
            if len(numbers) == 1
            else f"min {format_observed(low, dimension)} · median {format_observed(mid, dimension)} · max {format_observed(high, dimension)}"
        )
    return SeriesView(series.name, series.unit.value, len(samples), summary)
