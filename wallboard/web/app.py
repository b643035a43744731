"""The aiohttp application: routes of CONTRACT §4, each reading only the cache.

No handler can reach VICIdial: the app is given a :class:`~wallboard.web.keys.WebContext`
holding the snapshot store, never the client. That is what keeps N screens as cheap as one.

Hardening (the daemon faces a floor LAN) is wired here and lives in its own modules: security
headers on every response, aiohttp's own ``400``s included, and log filters
(:mod:`~wallboard.web.security`), the optional
access token (:mod:`~wallboard.web.auth`), the page's CSS and JS as cacheable static files
(:mod:`~wallboard.web.assets`) so no page needs inline code.
"""

from __future__ import annotations

from aiohttp import web

from wallboard.snapshot_json import iso
from wallboard.web.assets import REVALIDATE, Assets
from wallboard.web.auth import token_middleware
from wallboard.web.boards import find_board, rotation, theme
from wallboard.web.favicon import favicon_ico
from wallboard.web.keys import CONTEXT, HUB, WebContext
from wallboard.web.metrics_route import metrics_response
from wallboard.web.pages import Pages
from wallboard.web.render import BoardDocuments, UnknownBoard, dumps
from wallboard.web.security import harden, install_log_filters
from wallboard.web.sse import StreamHub

#: The per-board renders shared by ``/api/snapshot`` and the SSE streams.
DOCUMENTS = web.AppKey("documents", BoardDocuments)
ASSETS = web.AppKey("assets", Assets)
PAGES = web.AppKey("pages", Pages)

#: The icon changes only with a release; a day keeps browsers from asking on every load.
FAVICON_CACHE = "max-age=86400"

routes = web.RouteTableDef()


def _json(document: object, status: int = 200) -> web.Response:
    return web.Response(body=dumps(document), status=status, content_type="application/json")


def _board(request: web.Request) -> str | None:
    """``?board=NAME`` narrows the API to one board's campaigns; unknown names are a 404."""
    name = request.query.get("board")
    if name is not None:
        try:
            request.app[DOCUMENTS].campaigns(name)
        except UnknownBoard:
            raise web.HTTPNotFound(
                text=dumps({"error": f"no board named {name!r}"}).decode(),
                content_type="application/json",
            ) from None
    return name


@routes.get("/api/snapshot")
async def snapshot(request: web.Request) -> web.Response:
    document = request.app[DOCUMENTS].document(_board(request))
    if document is None:
        return _json({"error": "no data yet: the first poll has not completed"}, status=503)
    return web.Response(body=document, content_type="application/json")


@routes.get("/api/events")
async def events(request: web.Request) -> web.StreamResponse:
    return await request.app[HUB].serve(request, _board(request))


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """200 when every floor source is fresh; 503 naming what is wrong and, for a blocked
    login, the operator's fix (a rejected login is not "slow data": it never heals alone)."""
    context = request.app[CONTEXT]
    snapshot = context.store.latest()
    if snapshot is None:
        return _json({"ready": False, "reason": "no snapshot yet: waiting for the first poll"}, 503)
    now = context.clock()
    reasons = {}
    for name in snapshot.stale_sources(now):
        status = snapshot.source(name)
        age = status.age(now) if status else None
        reasons[name] = {
            "age_seconds": None if age is None else round(age, 1),
            "error": status.last_error if status else None,
        }
    block = snapshot.login_block
    if block is not None:
        next_probe = iso(block.next_probe)
        return _json(
            {
                "ready": False,
                "reason": f"VICIdial login blocked ({block.cause}): {block.fix}",
                "login": {"cause": block.cause, "fix": block.fix, "next_probe": next_probe},
                "sources": reasons,
            },
            503,
        )
    if reasons:
        return _json({"ready": False, "reason": "stale sources", "sources": reasons}, 503)
    return _json({"ready": True, "age_seconds": snapshot.age_seconds(now)})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition in the format ``Accept`` asks for (text 0.0.4 by default)."""
    return metrics_response(request, request.app[CONTEXT].metrics)


def _html(text: str, status: int = 200) -> web.Response:
    # no-cache: a page names its script by content hash, so after a deployment the browser
    # must fetch the page again to learn the new script's URL.
    return web.Response(
        text=text, status=status, content_type="text/html", headers={"Cache-Control": REVALIDATE}
    )


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    """The list of boards; with only one, that board (the query string goes along)."""
    boards = request.app[CONTEXT].boards
    if len(boards) == 1:
        location = request.rel_url.with_path(f"/boards/{boards[0].name}", keep_query=True)
        raise web.HTTPFound(str(location))
    return _html(request.app[PAGES].index(boards))


@routes.get("/boards/{name}")
async def board(request: web.Request) -> web.Response:
    """One TV page; an unknown name gets a 404 page listing the boards that exist."""
    context = request.app[CONTEXT]
    name = request.match_info["name"]
    found = find_board(context.boards, name)
    if found is None:
        return _html(request.app[PAGES].unknown_board(name, context.boards), status=404)
    page = request.app[PAGES].board(
        found,
        context.boards,
        heartbeat_seconds=context.heartbeat_seconds,
        rotation=rotation(request.query.get("rotate"), context.boards),
        theme=theme(request.query.get("theme")),
        version=request.app[DOCUMENTS].deployment,
    )
    return _html(page)


@routes.get("/static/{name}")
async def static(request: web.Request) -> web.Response:
    asset = request.app[ASSETS].get(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound()
    return asset.response(request)


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.Response:
    return web.Response(
        body=favicon_ico(),
        content_type="image/x-icon",
        headers={"Cache-Control": FAVICON_CACHE},
    )


def build_web_app(context: WebContext) -> web.Application:
    """The app; the caller adds the daemon's ``cleanup_ctx`` (poller, cache, sessions) and
    wires the store's change callback to ``app[HUB].notify`` (and the freshness watcher to
    ``app[HUB].notify_freshness``). With ``context.token`` every route but ``/healthz``,
    ``/readyz`` and ``/favicon.ico`` needs the token."""
    install_log_filters()
    middlewares = [token_middleware(context.token)] if context.token else []
    app = web.Application(middlewares=middlewares)
    app[CONTEXT] = context
    documents = BoardDocuments(context)
    app[DOCUMENTS] = documents
    app[HUB] = StreamHub(documents, heartbeat_seconds=context.heartbeat_seconds)
    assets = Assets.load()
    app[ASSETS] = assets
    app[PAGES] = Pages(assets)
    app.add_routes(routes)
    harden(app)

    async def start_heartbeats(app: web.Application) -> None:
        app[HUB].start()

    async def close_streams(app: web.Application) -> None:
        await app[HUB].close()

    app.on_startup.append(start_heartbeats)
    app.on_shutdown.append(close_streams)
    return app
