"""``GET /metrics``: the exposition format the scraper asks for, from what the daemon renders.

Prometheus says in ``Accept`` which formats it reads (OpenMetrics first, then the text formats);
prometheus-client's ``choose_encoder`` picks one, and the answer's ``Content-Type`` names it, so
a scraper is never told one format and given another. ``make_aiohttp_handler`` would do the
negotiation too, but renders the whole registry on every scrape: the daemon's
:class:`~wallboard.metrics.DaemonMetrics` instead reuses the bytes of the snapshot families
until the snapshot changes.

``WebContext.metrics`` may also be a plain callable returning text-format bytes (tests, or
anything that cannot negotiate): it is answered as text 0.0.4, as before negotiation existed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from aiohttp import hdrs, web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from wallboard.metrics import Exposition


@runtime_checkable
class NegotiatedMetrics(Protocol):
    """Renders the exposition in the format an ``Accept`` header asks for."""

    def exposition(self, accept: str | None = None) -> Exposition: ...


def metrics_response(
    request: web.Request, metrics: Callable[[], bytes] | NegotiatedMetrics | None
) -> web.Response:
    """The answer to a scrape; 404 when the daemon exports no metrics."""
    if metrics is None:
        raise web.HTTPNotFound()
    if isinstance(metrics, NegotiatedMetrics):
        body, content_type = metrics.exposition(request.headers.get(hdrs.ACCEPT))
    else:
        body, content_type = metrics(), CONTENT_TYPE_PLAIN_0_0_4
    # The header is set whole: aiohttp's content_type= would drop version= and escaping=.
    return web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})
