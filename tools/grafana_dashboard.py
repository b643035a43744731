"""Generate the Grafana dashboard (``grafana/dashboards/vicidial-wallboard.json``) as code.

Hand-edited dashboard JSON drifts: a panel copied in the UI keeps a stale query, a threshold is
changed in one panel and not the next, and a review sees a 1,000-line diff nobody reads. Here the
dashboard is Python built with grafana-foundation-sdk, Grafana's own generated builders, pinned to
the variant of the Grafana the compose file runs (11.6), so every field is one Grafana knows.

Run ``python tools/grafana_dashboard.py`` after a change (``--check`` only compares, for CI);
tests/grafana checks that the committed JSON is exactly what this script writes.

Two daemon instances export the same cached figures (only the elected leader polls VICIdial, the
other serves the leader's snapshot from Redis), so Prometheus holds every campaign figure twice,
once per ``instance``. Every gauge query therefore takes ``max by`` the labels it keeps
(:func:`gauge`): one figure per campaign whatever the number of instances, and one instance
being down never hides the figure. Counters are the exception (:func:`counter_rate`): each process
counts its own events (the leader's requests, polls, notifications and pauses; a follower's stay
flat), so their per-instance rates are *summed*; a ``max`` would drop the old leader's share in
the minutes around a failover.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``wallboard`` importable
    sys.path.insert(0, str(ROOT))

from wallboard.config import AlertsConfig  # noqa: E402
from wallboard.windows.grading import Thresholds  # noqa: E402

OUTPUT = ROOT / "grafana" / "dashboards" / "vicidial-wallboard.json"
#: The datasource as grafana/provisioning/datasources/prometheus.yml provisions it.
DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="prometheus")
UID = "vicidial-wallboard"

#: The daemon's default drop-rate lines: drawn on every drop panel so "how close" is visible.
THRESHOLDS = Thresholds()
#: Figures older than this are stale for the daemon (``[alerts] stale_after``).
STALE_AFTER_SECONDS = AlertsConfig().stale_after.total_seconds()

CAMPAIGN = 'campaign=~"$campaign"'
#: Daemon-level alerts carry ``campaign=""``: keep them whichever campaigns are selected.
CAMPAIGN_OR_DAEMON = 'campaign=~"$campaign|"'


def series(metric: str, selector: str = "") -> str:
    return f"{metric}{{{selector}}}" if selector else metric


def percent(ratio: float) -> str:
    """``0.025`` as ``2.5 %``, the way the boards and Slack messages write it."""
    return f"{ratio * 100:g} %"


def gauge(metric: str, by: Sequence[str], selector: str = "") -> str:
    """``max by (labels) (metric{selector})``: one series per label set however many daemon
    instances export the same cached figure."""
    return f"max by ({', '.join(by)}) ({series(metric, selector)})"


def counter_rate(metric: str, by: Sequence[str], window: str, selector: str = "") -> str:
    """``sum by (labels) (rate(metric[window]))``: each process counts only its own events, so
    the instances' rates add up to the real total (a follower's counters stay flat)."""
    return f"sum by ({', '.join(by)}) (rate({series(metric, selector)}[{window}]))"


def counter_increase(metric: str, by: Sequence[str], selector: str = "") -> str:
    """Events in the dashboard's time range, summed over instances like :func:`counter_rate`.

    ``increase()`` counts from a series' first sample: a label set the daemon creates at its
    first event (``0`` never exported) shows that event only once it has happened again.
    """
    return f"sum by ({', '.join(by)}) (increase({series(metric, selector)}[$__range]))"


def query(expr: str, legend: str, ref: str = "A") -> prometheus.Dataquery:
    return (
        prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DATASOURCE)
    )


def drop_thresholds() -> builders.ThresholdsConfig:
    """Green below warn_at, yellow to critical_at, orange to the limit, red at the limit."""
    return (
        builders.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps(
            [
                models.Threshold(None, "green"),
                models.Threshold(THRESHOLDS.warn_at, "yellow"),
                models.Threshold(THRESHOLDS.critical_at, "orange"),
                models.Threshold(THRESHOLDS.limit, "red"),
            ]
        )
    )


def plain_thresholds(*steps: tuple[float | None, str]) -> builders.ThresholdsConfig:
    return (
        builders.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value, color) for value, color in steps])
    )


def up_down_mappings() -> list[models.ValueMapping]:
    return [
        models.ValueMap(
            {
                "0": models.ValueMappingResult(text="DOWN", color="red", index=0),
                "1": models.ValueMappingResult(text="up", color="green", index=1),
            }
        )
    ]


def stat_panel(
    panel_id: int, title: str, description: str, width: int, height: int = 5
) -> stat.Panel:
    return (
        stat.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .span(width)
        .height(height)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
    )


def series_panel(
    panel_id: int, title: str, description: str, width: int, height: int = 8
) -> timeseries.Panel:
    return (
        timeseries.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .span(width)
        .height(height)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    )


def drop_rate_row(dashboard: builders.Dashboard, ids: Iterator[int]) -> None:
    limit = percent(THRESHOLDS.limit)
    windows = (
        ("today", "today", "since the dialer's midnight (VICIdial's own figure)"),
        ("30d", "30 days", "over the last 30 dialer days, today included"),
    )
    for window, label, meaning in windows:
        dashboard.with_panel(
            stat_panel(
                next(ids),
                f"Drop rate {label}",
                f"Dropped / human-answered calls {meaning}. Yellow from "
                f"{percent(THRESHOLDS.warn_at)}, orange from {percent(THRESHOLDS.critical_at)}, "
                f"red at the {limit} limit.",
                8,
            )
            .unit("percentunit")
            .decimals(2)
            .thresholds(drop_thresholds())
            .with_target(
                query(
                    gauge(
                        "vicidial_campaign_drop_ratio",
                        ["campaign"],
                        f'window="{window}", {CAMPAIGN}',
                    ),
                    "{{campaign}}",
                )
            )
        )
    dashboard.with_panel(
        stat_panel(
            next(ids),
            f"Drops left before {limit}",
            "Drops each window can still take at its current human-answered count before "
            "reaching the limit (the campaign's own limit where one is set).",
            8,
        )
        .unit("short")
        .decimals(0)
        .thresholds(plain_thresholds((None, "red"), (1, "orange"), (5, "yellow"), (20, "green")))
        .with_target(
            query(
                gauge(
                    "vicidial_campaign_drops_remaining", ["campaign"], f'window="today", {CAMPAIGN}'
                ),
                "{{campaign}} today",
            )
        )
        .with_target(
            query(
                gauge(
                    "vicidial_campaign_drops_remaining", ["campaign"], f'window="30d", {CAMPAIGN}'
                ),
                "{{campaign}} 30 days",
                "B",
            )
        )
    )
    dashboard.with_panel(
        series_panel(
            next(ids),
            f"Drop rate today and over 30 days (limit {limit})",
            "The dashed lines are the daemon's default warning, critical and legal-limit ratios.",
            24,
            9,
        )
        .unit("percentunit")
        .min(0)
        .axis_soft_max(THRESHOLDS.limit * 1.2)  # the limit line stays in view on a calm day
        .thresholds(drop_thresholds())
        .thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common.GraphThresholdsStyleMode.DASHED
            )
        )
        .with_target(
            query(
                gauge("vicidial_campaign_drop_ratio", ["campaign"], f'window="today", {CAMPAIGN}'),
                "{{campaign}} today",
            )
        )
        .with_target(
            query(
                gauge("vicidial_campaign_drop_ratio", ["campaign"], f'window="30d", {CAMPAIGN}'),
                "{{campaign}} 30 days",
                "B",
            )
        )
    )


def floor_row(dashboard: builders.Dashboard, ids: Iterator[int]) -> None:
    dashboard.with_panel(
        series_panel(
            next(ids),
            "Agents by state",
            "Logged-in agents of the selected campaigns by wallboard state.",
            12,
        )
        .unit("short")
        .min(0)
        .stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
        .fill_opacity(30)
        .with_target(
            query(
                # The sum is over distinct campaigns (groups export no agents), never instances.
                "sum by (state) ("
                + gauge("vicidial_campaign_agents", ["campaign", "state"], CAMPAIGN)
                + ")",
                "{{state}}",
            )
        )
    )
    counts = (
        ("vicidial_campaign_calls_today", "calls"),
        ("vicidial_campaign_answered_calls_today", "human answers"),
        ("vicidial_campaign_dropped_calls_today", "drops"),
    )
    calls = series_panel(
        next(ids),
        "Calls, human answers and drops today",
        "Today's counts since the dialer's midnight; a drop-rate group is campaign=group:NAME.",
        12,
    ).unit("short")
    for ref, (metric, label) in zip("ABC", counts, strict=True):
        calls = calls.with_target(
            query(gauge(metric, ["campaign"], CAMPAIGN), f"{{{{campaign}}}} {label}", ref)
        )
    dashboard.with_panel(calls.min(0))
    dashboard.with_panel(
        series_panel(
            next(ids),
            "Calls waiting by in-group",
            "Inbound calls waiting for an agent. VICIdial reports them per in-group, not per "
            "campaign, so the campaign selector does not filter this panel.",
            8,
        )
        .unit("short")
        .min(0)
        .with_target(query(gauge("vicidial_ingroup_calls_waiting", ["ingroup"]), "{{ingroup}}"))
    )
    dashboard.with_panel(
        series_panel(next(ids), "Dial level", "The campaign's current dial level.", 8)
        .unit("short")
        .min(0)
        .with_target(
            query(gauge("vicidial_campaign_dial_level", ["campaign"], CAMPAIGN), "{{campaign}}")
        )
    )
    dashboard.with_panel(
        series_panel(
            next(ids),
            "Leads in hopper",
            "Leads ready to dial; an empty hopper stops a campaign dialing.",
            8,
        )
        .unit("short")
        .min(0)
        .with_target(
            query(gauge("vicidial_campaign_hopper_leads", ["campaign"], CAMPAIGN), "{{campaign}}")
        )
    )


def alerts_row(dashboard: builders.Dashboard, ids: Iterator[int]) -> None:
    dashboard.with_panel(
        stat_panel(
            next(ids),
            "Open alerts",
            "Open drop-rate and daemon incidents by severity (daemon-level ones, such as stale "
            "data, are shown whichever campaigns are selected).",
            6,
        )
        .unit("short")
        .no_value("0")
        .thresholds(plain_thresholds((None, "green"), (1, "red")))
        .with_target(
            query(
                "sum by (severity) ("
                + gauge("wallboard_alerts_firing", ["campaign", "severity"], CAMPAIGN_OR_DAEMON)
                + ")",
                "{{severity}}",
            )
        )
    )
    dashboard.with_panel(
        series_panel(
            next(ids),
            "Open alerts by campaign",
            "Open incidents per campaign and severity over time (campaign empty: daemon-level).",
            10,
        )
        .unit("short")
        .min(0)
        .with_target(
            query(
                gauge("wallboard_alerts_firing", ["campaign", "severity"], CAMPAIGN_OR_DAEMON),
                "{{campaign}} {{severity}}",
            )
        )
    )
    dashboard.with_panel(
        stat_panel(
            next(ids),
            "Auto-pauses in the time range",
            "Auto-pause actions by outcome: paused, would_pause (dry run), refused, failed.",
            8,
        )
        .unit("short")
        .decimals(0)
        .no_value("0")
        .thresholds(plain_thresholds((None, "blue")))
        .with_target(
            query(
                counter_increase("wallboard_auto_pauses_total", ["campaign", "outcome"], CAMPAIGN),
                "{{campaign}} {{outcome}}",
            ).instant()
        )
    )


def daemon_row(dashboard: builders.Dashboard, ids: Iterator[int]) -> None:
    dashboard.with_panel(
        stat_panel(
            next(ids),
            "VICIdial reachable",
            "1 when the last poll of every VICIdial source succeeded.",
            4,
        )
        .mappings(up_down_mappings())
        .thresholds(plain_thresholds((None, "red"), (1, "green")))
        .with_target(query(gauge("vicidial_up", ["job"]), "VICIdial"))
    )
    dashboard.with_panel(
        stat_panel(next(ids), "Sources up", "The last poll of each VICIdial function.", 10)
        .mappings(up_down_mappings())
        .thresholds(plain_thresholds((None, "red"), (1, "green")))
        .with_target(query(gauge("wallboard_source_up", ["function"]), "{{function}}"))
    )
    dashboard.with_panel(
        stat_panel(
            next(ids),
            "Notifications in the time range",
            "Alert notifications by outcome: sent (Slack), logged (no Slack), retry, rejected.",
            10,
        )
        .unit("short")
        .decimals(0)
        .no_value("0")
        .thresholds(plain_thresholds((None, "blue")))
        .with_target(
            query(
                counter_increase("wallboard_notifications_total", ["outcome"]),
                "{{outcome}}",
            ).instant()
        )
    )
    dashboard.with_panel(
        series_panel(
            next(ids),
            "Data age per daemon instance",
            "Age of the figures each instance serves; the dashed line is the daemon's stale "
            "threshold. An instance far above the others has lost Redis or the leader.",
            12,
        )
        .unit("s")
        .min(0)
        .thresholds(plain_thresholds((None, "green"), (STALE_AFTER_SECONDS, "red")))
        .thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common.GraphThresholdsStyleMode.DASHED
            )
        )
        .with_target(query(gauge("wallboard_data_age_seconds", ["instance"]), "{{instance}}"))
    )
    dashboard.with_panel(
        series_panel(
            next(ids),
            "Poll duration p95",
            "95th percentile of one poll of each source, retries included (leader only).",
            12,
        )
        .unit("s")
        .min(0)
        .with_target(
            query(
                "histogram_quantile(0.95, "
                + counter_rate(
                    "wallboard_poll_duration_seconds_bucket", ["function", "le"], "$__rate_interval"
                )
                + ")",
                "{{function}}",
            )
        )
    )
    dashboard.with_panel(
        series_panel(
            next(ids),
            "VICIdial API requests per minute",
            "The daemon's whole cost to the dialer, by function and outcome (only the leader "
            "polls).",
            12,
        )
        .unit("reqpm")
        .min(0)
        .with_target(
            query(
                counter_rate(
                    "wallboard_api_requests_total", ["function", "outcome"], "$__rate_interval"
                )
                + " * 60",
                "{{function}} {{outcome}}",
            )
        )
    )
    dashboard.with_panel(
        series_panel(
            next(ids),
            "TV streams (SSE clients) per instance",
            "Open board streams; each TV holds one on whichever instance it reached.",
            12,
        )
        .unit("short")
        .min(0)
        .stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
        .with_target(query(gauge("wallboard_stream_clients", ["instance"]), "{{instance}}"))
    )


def campaign_variable() -> builders.QueryVariable:
    # Drop ratios exist for campaigns and drop-rate groups alike (group:NAME).
    values = "label_values(vicidial_campaign_drop_ratio, campaign)"
    return (
        builders.QueryVariable("campaign")
        .label("Campaign")
        .datasource(DATASOURCE)
        .query(values)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(models.VariableOption(text="All", value="$__all"))
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
    )


def build() -> builders.Dashboard:
    """The whole dashboard, rows top to bottom in the order a floor manager reads them."""
    dashboard = (
        builders.Dashboard("VICIdial floor")
        .uid(UID)
        .description(
            "Drop rates, floor, alerts and daemon health from vicidial-wallboard. "
            "Generated by tools/grafana_dashboard.py: edit that, not this JSON."
        )
        .tags(["vicidial", "wallboard"])
        .timezone("browser")
        .refresh("30s")
        .time("now-12h", "now")
        .readonly()
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .with_variable(campaign_variable())
    )
    rows = (
        ("Drop rate", drop_rate_row),
        ("Floor", floor_row),
        ("Alerts and auto-pauses", alerts_row),
        ("Daemon health", daemon_row),
    )
    ids = itertools.count(1)  # stable panel ids: links to a panel survive a regeneration
    for title, fill in rows:
        dashboard.with_row(builders.Row(title).id(next(ids)))
        fill(dashboard, ids)
    return dashboard


def render() -> str:
    """The dashboard JSON exactly as committed: sorted keys, two-space indent, final newline."""
    document = build().build()
    return json.dumps(document, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the JSON")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs; write nothing"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python tools/grafana_dashboard.py")
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
