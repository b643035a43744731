"""The compliance settings as plain values: what each campaign's (and group's) windows need.

Built once from ``[alerts]``, ``[alerts.campaigns.<ID>]`` and ``[[drop_groups]]`` by
:func:`compliance_from_config`, so the poller (which composes the windows and the forecast),
``wallboard check`` (the settings lint) and ``wallboard ledger`` read the same merged values
and never the pydantic config. The alert timing lives in :mod:`wallboard.alerts.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from types import MappingProxyType
from typing import TYPE_CHECKING

from wallboard.windows.grading import Thresholds
from wallboard.windows.ofcom import OfcomStatuses

if TYPE_CHECKING:
    from wallboard.config import AlertsConfig, Settings

__all__ = ["CampaignCompliance", "ComplianceSettings", "DropGroup", "compliance_from_config"]


@dataclass(frozen=True, slots=True)
class CampaignCompliance:
    """One campaign's (or group's) compliance settings, overrides merged."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    period_start: date | None = None  # None: the first day with calls in the durable store
    uk_ofcom: bool = False
    ofcom: OfcomStatuses = field(default_factory=OfcomStatuses)
    shift_end: time | None = None  # dialer time; None: midnight
    drop_call_seconds: int | None = None  # operator-declared (VICIdial's API does not say)
    safe_harbor_message: bool | None = None  # operator-declared


@dataclass(frozen=True, slots=True)
class DropGroup:
    """Campaigns pooled into one figure, named ``group:NAME`` everywhere."""

    name: str
    campaigns: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"group:{self.name}"


@dataclass(frozen=True)
class ComplianceSettings:
    """Every campaign's compliance settings: the defaults, the targets that differ, groups."""

    default: CampaignCompliance = field(default_factory=CampaignCompliance)
    targets: Mapping[str, CampaignCompliance] = field(default_factory=dict)
    groups: tuple[DropGroup, ...] = ()

    def for_target(self, target: str) -> CampaignCompliance:
        """A campaign ID's or ``group:NAME``'s settings (the defaults when not overridden)."""
        return self.targets.get(target, self.default)


def compliance_from_config(settings: Settings) -> ComplianceSettings:
    """The plain compliance settings of ``settings``."""
    alerts = settings.alerts
    return ComplianceSettings(
        default=_campaign(alerts),
        targets=MappingProxyType(
            {target: _campaign(alerts.for_campaign(target)) for target in alerts.campaigns}
        ),
        groups=tuple(
            DropGroup(name=group.name, campaigns=tuple(group.campaigns))
            for group in settings.drop_groups
        ),
    )


def _campaign(alerts: AlertsConfig) -> CampaignCompliance:
    return CampaignCompliance(
        thresholds=Thresholds(
            limit=alerts.limit,
            warn_at=alerts.warn_at,
            critical_at=alerts.critical_at,
            min_answered=alerts.min_answered,
        ),
        period_start=alerts.period_start,
        uk_ofcom=alerts.uk_ofcom,
        ofcom=OfcomStatuses(
            people=tuple(alerts.ofcom_people_statuses),
            machines=tuple(alerts.ofcom_machine_statuses),
        ),
        shift_end=alerts.shift_end,
        drop_call_seconds=alerts.drop_call_seconds,
        safe_harbor_message=alerts.safe_harbor_message,
    )
