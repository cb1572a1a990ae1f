"""Pictures for the dashboards, drawn on the server as SVG (no script, no library, no CDN).

This module only computes geometry (plain numbers and texts); the templates in templates/core/_charts.html
draw it, so every text goes through Jinja's escaping. Each picture comes with the rows of the table printed
under it for screen readers and for anyone who would rather read the numbers. Colours come from a palette
of ten dark hues (contrast at least 4.5:1 on white, see style.css `.series-N`); each bar also carries its
state's code as text, so no information is given by colour alone.

The data is one query: the exercise notifications the user may read (`exercise_query`, which applies the
scoping rules) that overlap the years shown.
"""

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from registry.db import db
from registry.enums import SubmissionStatus
from registry.models import ExerciseDetails
from registry.services.exercise_queries import ExerciseFilters, exercise_query

PALETTE_SIZE = 10
HIDDEN = (SubmissionStatus.WITHDRAWN, SubmissionStatus.CANCELLED, SubmissionStatus.DELETED, SubmissionStatus.DRAFT)
CHART_YEARS = (-1, 0, 1)  # the troops chart: last year, this year and next year (notified ahead)
TIMELINE_MAX = 40  # bars on the timeline; the table below it lists every row
ROWS_MAX = 2000  # exercises read for the pictures (a state files a handful a year)

# Drawing sizes in SVG user units; the SVG scales to the width of the page (viewBox).
WIDTH = 760
LABEL_W = 210
ROW_H = 22
AXIS_H = 26


@dataclass
class Series:
    """Colour class per state: the same state has the same colour in every picture of the page."""

    index: dict[str, int] = field(default_factory=dict)

    def css(self, code: str) -> str:
        if code not in self.index:
            self.index[code] = len(self.index) % PALETTE_SIZE
        return f"series-{self.index[code]}"


@dataclass
class Charts:
    year: int
    years: list[int]
    timeline: dict
    troops: dict
    timeliness: dict
    legend: list[tuple[str, str]]  # (state code, css class)

    @property
    def empty(self) -> bool:
        return not self.timeline["rows"] and not self.troops["rows"]


def _rows(user, first: date, last: date) -> list[tuple]:
    """(submission, details, shown status) of the exercises the user may read overlapping [first, last]."""
    stmt = (exercise_query(user, ExerciseFilters(date_from=first, date_to=last), sort="start_asc")
            .where(ExerciseDetails.start_date.is_not(None), ExerciseDetails.end_date.is_not(None))
            .limit(ROWS_MAX))
    rows = []
    for submission, details, status in db.session.execute(stmt):
        status = SubmissionStatus(status)
        if status not in HIDDEN:
            rows.append((submission, details, status))
    return rows


def build(user, today: date, locale: str) -> Charts:
    """The pictures for `today`: the timeline from last month to eleven months ahead, troops by year around this
    one, and the days of notice of the notifications submitted this year."""
    year = today.year
    years = [year + offset for offset in CHART_YEARS]
    first = _add_months(today.replace(day=1), -1)
    last = _add_months(first, 12) - timedelta(days=1)
    rows = _rows(user, min(first, date(years[0], 1, 1)), max(last, date(years[-1], 12, 31)))
    series = Series()
    for code in sorted({s.state.code for s, _d, _st in rows}):
        series.css(code)
    timeline = _timeline(rows, first, last, locale, series)
    troops = _troops(rows, years, series)
    timeliness = _timeliness(rows, year, series)
    legend = [(code, series.css(code)) for code in sorted(series.index)]
    return Charts(year=year, years=years, timeline=timeline, troops=troops, timeliness=timeliness, legend=legend)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _timeline(rows, first: date, last: date, locale: str, series: Series) -> dict:
    """A Gantt-like bar per exercise overlapping [first, last], across twelve months."""
    days = (last - first).days + 1
    plot_w = WIDTH - LABEL_W - 10

    def x(day: date) -> float:
        return round(LABEL_W + plot_w * (day - first).days / days, 1)

    in_window = [(s, d, st) for s, d, st in rows if d.start_date <= last and d.end_date >= first]
    months = []
    for i in range(12):
        start = _add_months(first, i)
        months.append({"x": x(start), "label": start.strftime("%m"),
                       "year": start.year if i == 0 or start.month == 1 else None})
    bars = []
    for i, (submission, details, status) in enumerate(in_window[:TIMELINE_MAX]):
        start, end = max(details.start_date, first), min(details.end_date, last)
        left = x(start)
        width = max(round(x(end) + plot_w / days - left, 1), 3)
        bars.append({
            "y": AXIS_H + i * ROW_H, "x": left, "width": width, "css": series.css(submission.state.code),
            "code": submission.state.code, "reference": submission.reference,
            "name": details.designation(locale) or submission.reference, "status": status,
            "start": details.start_date, "end": details.end_date, "troops": details.troops_total,
        })
    height = AXIS_H + max(len(bars), 1) * ROW_H + 8
    return {"width": WIDTH, "height": height, "label_w": LABEL_W, "months": months, "bars": bars,
            "rows": in_window, "cut": len(in_window) > TIMELINE_MAX, "plot_bottom": height - 8,
            "first": first, "last": last}


def _troops(rows, years: list[int], series: Series) -> dict:
    """Troops notified per state and year: a group of bars per state, one bar per year (lightest the oldest)."""
    totals: dict[str, dict[int, int]] = {}
    for submission, details, _status in rows:
        if details.start_date.year in years:
            by_year = totals.setdefault(submission.state.code, dict.fromkeys(years, 0))
            by_year[details.start_date.year] += details.troops_total or 0
    codes = sorted(totals)
    peak = max([v for by_year in totals.values() for v in by_year.values()] + [1])
    plot_w = WIDTH - 70 - 100  # room on the right for the label of the longest bar
    group_h = len(years) * 14 + 10
    bars, groups = [], []
    for i, code in enumerate(codes):
        top = AXIS_H + i * group_h
        groups.append({"code": code, "y": top + group_h / 2})
        for j, year in enumerate(years):
            value = totals[code][year]
            bars.append({"x": 70, "y": top + j * 14, "width": round(plot_w * value / peak, 1), "height": 12,
                         "css": f"{series.css(code)} age-{len(years) - 1 - j}", "value": value, "year": year,
                         "code": code})
    height = AXIS_H + max(len(codes), 1) * group_h + 8
    ticks = [{"x": round(70 + plot_w * v / peak, 1), "value": v} for v in range(0, peak + 1, _step(peak))]
    return {"width": WIDTH, "height": height, "bars": bars, "groups": groups, "ticks": ticks,
            "rows": [{"code": c, "values": [totals[c][y] for y in years]} for c in codes], "years": years}


def _step(span: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving three to five ticks over `span`."""
    raw = max(span / 4, 1)
    magnitude = 10 ** int(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)


def _timeliness(rows, year: int, series: Series) -> dict:
    """Days of notice per state of the notifications submitted in `year`: each one a mark on a line from its
    shortest to its longest notice, the median drawn bold; the lead time the profiles ask for as a dashed line."""
    from registry.services.profiles import profile_value

    required = profile_value("lead_time_days", only_in_force=True)
    notices: dict[str, list[int]] = {}
    late: dict[str, int] = {}
    for submission, details, _status in rows:
        submitted = submission.submitted_at
        if submitted is not None and submitted.year == year and details.lead_time_days is not None:
            notices.setdefault(submission.state.code, []).append(details.lead_time_days)
            late[submission.state.code] = late.get(submission.state.code, 0) + int(submission.is_late)
    codes = sorted(notices)
    high = max([max(v) for v in notices.values()] + [required or 0, 1])
    low = min([min(v) for v in notices.values()] + [0])
    left, plot_w = 70, WIDTH - 70 - 10

    def x(value: int) -> float:
        return round(left + plot_w * (value - low) / (high - low or 1), 1)

    lines = []
    for i, code in enumerate(codes):
        values = sorted(notices[code])
        y = AXIS_H + i * ROW_H + ROW_H / 2
        lines.append({"code": code, "y": y, "x1": x(values[0]), "x2": x(values[-1]), "css": series.css(code),
                      "marks": [x(v) for v in values], "median_x": x(round(statistics.median(values)))})
    table = [{"code": c, "count": len(notices[c]), "min": min(notices[c]), "max": max(notices[c]),
              "median": round(statistics.median(notices[c])), "late": late.get(c, 0)} for c in codes]
    height = AXIS_H + max(len(codes), 1) * ROW_H + 8
    return {"width": WIDTH, "height": height, "lines": lines, "rows": table, "required": required,
            "required_x": x(required) if required is not None else None, "ticks": _ticks_between(low, high, x),
            "plot_bottom": height - 8}


def _ticks_between(low: int, high: int, x) -> list[dict]:
    step = _step(high - low or 1)
    first = -(-low // step) * step
    return [{"x": x(v), "value": v} for v in range(first, high + 1, step)]
