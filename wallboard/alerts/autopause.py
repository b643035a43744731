"""The one place the daemon changes the dialer: ``update_campaign active=N``, and its verdict.

VICIdial has no PAUSED state (API.md §7): stopping a campaign is ``active=N`` (uppercase, or
VICIdial silently ignores it). The engine decides *whether* (guarded, at most once per
incident, never in dry run); this turns VICIdial's answer into an outcome and one sentence an
operator can act on. It never re-activates a campaign.
"""

from __future__ import annotations

from wallboard.vicidial.client import VicidialClient
from wallboard.vicidial.errors import (
    ApiError,
    LoginError,
    PermissionDenied,
    TransportError,
    VicidialError,
)

_PERMISSION_FIX = (
    "give the API user Modify Campaigns (user level 8+) and update_campaign in its API "
    "Allowed Functions"
)


async def pause_campaign(client: VicidialClient, campaign: str) -> tuple[str, str]:
    """Set ``campaign`` inactive; returns ``(outcome, detail)``, outcome one of ``paused``,
    ``refused`` (VICIdial said no: the detail has the fix), ``unknown`` (no answer: the
    request may have been carried out; it is never sent again) or ``failed``."""
    try:
        update = await client.set_campaign_active(campaign, False)
    except PermissionDenied as error:
        return "refused", f"VICIdial refused: {error}; {_PERMISSION_FIX}"
    except LoginError as error:
        return "refused", f"VICIdial refused the login: {error}"
    except ApiError as error:
        text = str(error)
        if "DOES NOT EXIST" in text:
            return "refused", (
                f"VICIdial refused: {text}; the campaign does not exist or is not in the API "
                "user group's allowed campaigns"
            )
        return "refused", f"VICIdial refused: {text}"
    except TransportError as error:
        return "unknown", (
            f"no answer from VICIdial ({error}); the pause may or may not have happened and is "
            f"not sent again: check {campaign}'s Active setting in VICIdial"
        )
    except VicidialError as error:
        return "failed", f"VICIdial's answer was not understood ({error}); check {campaign}"
    if update.outcome == "updated":
        return "paused", f"VICIdial: {' '.join(update.lines)}"
    return "refused", (
        f"VICIdial changed nothing ({' '.join(update.lines)}); the campaign is still active"
    )
