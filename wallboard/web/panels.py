"""The panels a board may show, by the names ``[[boards]] panels`` uses.

Kept apart from the web handlers so the configuration can validate the names without
importing aiohttp: the page (``board.js``) hides the panels a board's ``data-panels`` leaves
out, and ``wallboard check`` rejects a name the page would not know.
"""

from __future__ import annotations

#: Every panel, in the order the page lays them out. ``inbound`` is the in-groups' calls
#: waiting (the board's ``ingroups``); ``alerts`` the banner of active alerts.
PANELS: tuple[str, ...] = ("campaigns", "agents", "alerts", "inbound")
