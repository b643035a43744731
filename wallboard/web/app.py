"""The aiohttp application: routes of CONTRACT §4, each reading only the cache.

No handler can reach VICIdial: the app is given a :class:`~wallboard.web.keys.WebContext`
holding the snapshot store, never the client. That is what keeps N screens as cheap as one.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wallboard.snapshot_json import api_document
from wallboard.web.keys import CONTEXT, HUB, WebContext
from wallboard.web.pages import board_page, index_page
from wallboard.web.sse import StreamHub, dumps

routes = web.RouteTableDef()


def _board_campaigns(context: WebContext, request: web.Request) -> list[str] | None:
    """``?board=NAME`` narrows the API to one board's campaigns; unknown names are a 404."""
    name = request.query.get("board")
    if name is None:
        return None
    for board in context.boards:
        if board.name == name:
            return None if board.campaigns == "all" else list(board.campaigns)
    raise web.HTTPNotFound(
        text=dumps({"error": f"no board named {name!r}"}), content_type="application/json"
    )


def _document(context: WebContext, campaigns: list[str] | None) -> dict[str, Any] | None:
    snapshot = context.store.latest()
    if snapshot is None:
        return None
    return api_document(
        snapshot,
        context.clock(),
        limit=context.limit,
        alerts=context.alerts(),
        campaigns=campaigns,
        warn_at=context.warn_at,
        critical_at=context.critical_at,
    )


@routes.get("/api/snapshot")
async def snapshot(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    document = _document(context, _board_campaigns(context, request))
    if document is None:
        return web.json_response(
            {"error": "no data yet: the first poll has not completed"}, status=503
        )
    return web.json_response(document, dumps=dumps)


@routes.get("/api/events")
async def events(request: web.Request) -> web.StreamResponse:
    context = request.app[CONTEXT]
    campaigns = _board_campaigns(context, request)

    def render() -> str | None:
        document = _document(context, campaigns)
        return None if document is None else dumps(document)

    return await request.app[HUB].serve(request, render)


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    snapshot = context.store.latest()
    if snapshot is None:
        return web.json_response(
            {"ready": False, "reason": "no snapshot yet: waiting for the first poll"}, status=503
        )
    now = context.clock()
    stale = snapshot.stale_sources(now)
    if stale:
        reasons = {}
        for name in stale:
            status = snapshot.source(name)
            age = status.age(now) if status else None
            reasons[name] = {
                "age_seconds": None if age is None else round(age, 1),
                "error": status.last_error if status else None,
            }
        return web.json_response(
            {"ready": False, "reason": "stale sources", "sources": reasons}, status=503
        )
    return web.json_response({"ready": True, "age_seconds": snapshot.age_seconds(now)})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    if context.metrics is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=context.metrics(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    boards = request.app[CONTEXT].boards
    if len(boards) == 1:
        raise web.HTTPFound(f"/boards/{boards[0].name}")
    return web.Response(text=index_page(boards), content_type="text/html")


@routes.get("/boards/{name}")
async def board(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    for candidate in request.app[CONTEXT].boards:
        if candidate.name == name:
            return web.Response(
                text=board_page(candidate.name, candidate.title), content_type="text/html"
            )
    raise web.HTTPNotFound(text=f"no board named {name!r}")


def build_web_app(context: WebContext) -> web.Application:
    """The app; the caller adds the daemon's ``cleanup_ctx`` (poller, cache, sessions)."""
    app = web.Application()
    app[CONTEXT] = context
    hub = StreamHub()
    app[HUB] = hub
    app.add_routes(routes)

    async def close_streams(app: web.Application) -> None:
        await app[HUB].close()

    app.on_shutdown.append(close_streams)
    return app
