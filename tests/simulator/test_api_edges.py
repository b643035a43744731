"""The API script against a tiny hand-built world: exact texts for states the model rarely hits.

The real dialer model decides by itself when a hopper runs dry or nobody is logged in; these
tests build those worlds by hand (a small object with the ``DialerWorld`` interface) and call
``VicidialApi.respond`` directly, so every branch is reached on purpose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from wallboard.simulator.api import RequestLog, VicidialApi
from wallboard.simulator.auth import ApiUser, LoginGate, api_user
from wallboard.simulator.types import (
    AgentDayLog,
    DayStats,
    HopperLead,
    SimAgent,
    SimCampaign,
    SimInGroup,
)

NOW = datetime(2025, 1, 15, 15, 0, tzinfo=UTC)  # winter: no DST


class TinyWorld:
    """Just enough of ``World`` for the API: fixed records, no dynamics."""

    def __init__(self) -> None:
        self.campaigns = {
            "SALES1": SimCampaign(
                "SALES1", "Sales One", True, "ADMIN", "RATIO", 2.0, closer_campaigns=("INB1",)
            ),
            "EMPTY": SimCampaign("EMPTY", "Empty hopper", True, "ADMIN", "RATIO", 1.0),
        }
        self.agents: dict[str, SimAgent] = {}
        self.ingroups = {"INB1": SimInGroup("INB1", total_calls=3, calls_waiting=1)}
        self.user_groups = ["AGENTS"]
        self._now = NOW
        self.active_calls: list[tuple[str, bool]] = []
        self.logs = [AgentDayLog("1001", "SALES1", calls=2, login_sec=900, talk_sec=300)]

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def local_now(self) -> datetime:
        return (self._now - timedelta(hours=5)).replace(tzinfo=None)

    @property
    def dst(self) -> bool:
        return False

    def local_today(self) -> date:
        return self.local_now.date()

    def advance(self, now: datetime) -> None:
        self._now = now

    def day_stats(self, code: str, day: date) -> DayStats:
        if day == self.local_today():
            stats = DayStats(calls=10, human_answered=4, statuses={"SALE": 3, "DROP": 1, "NA": 6})
            stats.hourly[9] = 10
            return stats
        return DayStats(calls=1, human_answered=0, statuses={"NA": 1})

    def hopper(self, campaign_id: str) -> list[HopperLead]:
        if campaign_id == "EMPTY":
            return []
        return [
            HopperLead(0, 0, 796292, 107, "9999001095", "1", "NY", "NEW", 7, "-4.00", 0, "",
                       "S", "1001095", "A321", 2681, "1 YEARS"),
        ]  # fmt: skip

    def set_active(self, campaign_id: str, active: bool) -> None:
        self.active_calls.append((campaign_id, active))

    def steer(
        self,
        campaign_id: str,
        *,
        drop_ratio: float | None = None,
        answered_today: int | None = None,
        dropped_today: int | None = None,
    ) -> None:
        raise AssertionError("the API never steers")

    def agent_day_logs(self, start: datetime, end: datetime) -> list[AgentDayLog]:
        return list(self.logs) if start <= self.local_now and end >= start else []

    def state(self) -> dict[str, object]:
        return {}


def make_api(world: TinyWorld, **user: object) -> VicidialApi:
    account = api_user("6666", "1234", **user)  # type: ignore[arg-type]
    return VicidialApi(world, LoginGate([account]), RequestLog())


def ask(api: VicidialApi, function: str, **params: str) -> str:
    query = {"user": "6666", "pass": "1234", "source": "test", "function": function, **params}
    return api.respond(query, NOW).body


def test_version_in_winter_keeps_the_raw_tz_string() -> None:
    body = ask(make_api(TinyWorld()), "version")
    assert body == (
        "VERSION: 2.14-202|BUILD: 250720-1841|DATE: 2025-01-15 10:00:00|EPOCH: 1736953200|"
        "DST: 0|TZ: -5.00|TZNOW: -5.00|\n"
    )


def test_no_logged_in_agents() -> None:
    assert ask(make_api(TinyWorld()), "logged_in_agents") == (
        "ERROR: logged_in_agents NO LOGGED IN AGENTS: 6666|\n"
    )


def test_hopper_errors_and_row() -> None:
    api = make_api(TinyWorld())
    assert ask(api, "hopper_list", campaign_id="EMPTY") == (
        "ERROR: hopper_list THERE ARE NO LEADS IN THE HOPPER FOR THIS CAMPAIGN: 6666|EMPTY\n"
    )
    assert ask(api, "hopper_list", campaign_id="NOPE") == (
        "ERROR: hopper_list THIS CAMPAIGN DOES NOT EXIST: |6666|NOPE\n"
    )
    assert ask(api, "hopper_list") == "ERROR: hopper_list THIS CAMPAIGN DOES NOT EXIST: |6666|\n"
    assert ask(api, "hopper_list", campaign_id="SALES1", stage="csv") == (
        "0,0,796292,107,9999001095,1,NY,NEW,7,-4.00,0,,S,1001095,A321,2681,1 YEARS\n"
    )


def test_agent_status_not_logged_in_versus_not_found() -> None:
    api = make_api(TinyWorld())
    assert ask(api, "agent_status", agent_user="1001") == (
        "ERROR: agent_status AGENT NOT LOGGED IN: 6666|1001\n"
    )
    assert ask(api, "agent_status", agent_user="4321") == (
        "ERROR: agent_status AGENT NOT FOUND: 6666|4321\n"
    )


def test_call_status_stats_with_in_groups_and_past_days() -> None:
    api = make_api(TinyWorld())
    hours_today = ",".join(f"{h:02d}-{10 if h == 9 else 0}" for h in range(24))
    hours_zero = ",".join(f"{h:02d}-0" for h in range(24))
    today = f"|10|4|{hours_today}|DROP-1,NA-6,SALE-3|\n"
    assert ask(api, "call_status_stats", campaigns="SALES1-NOPE") == (f"SALES1{today}INB1{today}")
    past = f"|1|0|{hours_zero}|NA-1|\n"
    assert ask(api, "call_status_stats", campaigns="SALES1", query_date="2025-01-10") == (
        f"SALES1{past}INB1{past}"
    )
    # an explicit ingroups list replaces closer_campaigns; a future day has no calls
    assert (
        ask(
            api,
            "call_status_stats",
            campaigns="ALLCAMPAIGNS",
            ingroups="NOPE",
            query_date="2026-01-01",
        )
        == f"EMPTY|0|0|{hours_zero}||\nSALES1|0|0|{hours_zero}||\n"
    )


def test_in_group_status_totals() -> None:
    body = ask(make_api(TinyWorld()), "in_group_status", in_groups="INB1|NOPE", header="YES")
    assert body == (
        "ingroups|total_calls|calls_waiting|agents_logged_in|agents_in_calls|agents_waiting|"
        "agents_paused|agents_in_dispo|agents_in_dial\nINB1 NOPE|3|1|0|0|0|0|0|0\n"
    )


def test_agent_stats_export_windows() -> None:
    api = make_api(TinyWorld())
    body = ask(
        api,
        "agent_stats_export",
        datetime_start="2025-01-15+00:00:00",
        datetime_end="2025-01-15+23:59:59",
        stage="pipe",
    )
    assert body.startswith("1001|||2|0:15:00|0:05:00|0:02:30|")
    future = ask(
        api,
        "agent_stats_export",
        datetime_start="2025-01-16+00:00:00",
        datetime_end="2025-01-16+23:59:59",
    )
    assert future == (
        "ERROR: agent_stats_export NO RECORDS FOUND - "
        "6666||2025-01-16 00:00:00|2025-01-16 23:59:59|\n"
    )
    assert ask(api, "agent_stats_export", agent_user="1000", datetime_start="2025-01-01") == (
        "ERROR: agent_stats_export INVALID SEARCH PARAMETERS: 6666|1000|2025-01-01||\n"
    )


def test_update_campaign_validation_order_and_texts() -> None:
    world = TinyWorld()
    api = make_api(world)
    assert ask(api, "update_campaign", campaign_id="X") == (
        "ERROR: update_campaign YOU MUST USE ALL REQUIRED FIELDS: |6666|X||X\n"
    )
    assert ask(api, "update_campaign", campaign_id="BADCAMP", active="N") == (
        "ERROR: update_campaign CAMPAIGN DOES NOT EXIST: |6666|BADCAMP\n"
    )
    assert ask(api, "update_campaign", campaign_id="SALES1", auto_dial_level="9") == (
        "ERROR: update_campaign AUTO DIAL LEVEL MUST BE FROM 0 TO 4.001, "
        "THIS IS AN OPTIONAL FIELD: |6666|9\n"
    )
    assert ask(api, "update_campaign", campaign_id="SALES1", dial_method="FOO", active="N") == (
        "ERROR: update_campaign DIAL METHOD IS NOT VALID, THIS IS AN OPTIONAL FIELD: |6666|FOO\n"
    )
    assert ask(api, "update_campaign", campaign_id="SALES1", active="X") == (
        "ERROR: update_campaign ACTIVE MUST BE Y OR N, THIS IS AN OPTIONAL FIELD: |6666|X\n"
    )
    assert world.active_calls == []
    assert ask(api, "update_campaign", campaign_id="SALES1", active="Y") == (
        "SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - 6666|SALES1\n"
    )
    assert world.active_calls == [("SALES1", True)]


def test_coffee_is_a_teapot() -> None:
    answer = make_api(TinyWorld()).respond({"function": "brew_coffee"}, NOW)
    assert (answer.status, answer.body) == (418, "Coffee: brew_coffee|Error 418 I'm a teapot")


def test_inactive_user_gets_the_login_error() -> None:
    world = TinyWorld()
    gate = LoginGate([ApiUser("6666", "1234", active=False)])
    api = VicidialApi(world, gate, RequestLog())
    assert api.respond({"user": "6666", "pass": "1234", "function": "x"}, NOW).body == (
        "ERROR: Login incorrect, please try again: |6666|1234|BAD|\n"
    )
