"""The optional read-only access token (``web.token``) in front of the boards, API and metrics.

Three ways to present it, for three kinds of client:

* ``Authorization: Bearer <token>``: programs (Prometheus' ``authorization`` block, curl);
* ``?token=<token>`` on any guarded URL, once: the answer sets a cookie and redirects to the
  same URL without the token, so a TV is set up by typing one URL and then shows a bare one
  (nothing to read off the screen, nothing in its history beyond that first visit);
* the cookie (``HttpOnly``, ``SameSite=Strict``): what the page and its event stream send.

The cookie holds an HMAC of the token, not the token, so a browser's cookie store never
holds the secret itself; changing the token invalidates every cookie. Comparisons are
constant-time (:func:`hmac.compare_digest`). A credential that is presented must be right:
a wrong ``?token=`` or ``Bearer`` is a 401 even when a good cookie is there too, so a TV set up
with an old token says so instead of working by accident. ``/healthz``, ``/readyz`` and
``/favicon.ico`` stay open for probes and browsers.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from wallboard.web.pages import unauthorized_page

COOKIE = "wallboard_token"
QUERY = "token"
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/favicon.ico"})
#: 400 days, the longest any browser keeps a cookie: a TV is set up once.
COOKIE_MAX_AGE = 400 * 24 * 3600
_COOKIE_CONTEXT = b"vicidial-wallboard cookie v1"


class TokenCheck:
    """The token and its cookie value; compares what a request presents."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self._cookie = hmac.new(self._token, _COOKIE_CONTEXT, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "TokenCheck(<redacted>)"

    @property
    def cookie_value(self) -> str:
        return self._cookie

    def token_matches(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), self._token)

    def cookie_matches(self, presented: str) -> bool:
        return hmac.compare_digest(
            presented.encode("utf-8", "surrogateescape"), self._cookie.encode()
        )

    def verdict(self, request: web.Request) -> bool | None:
        """True: let through; False: a wrong credential; None: none presented."""
        if QUERY in request.query:
            return all(self.token_matches(value) for value in request.query.getall(QUERY))
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            scheme, _, credential = authorization.strip().partition(" ")
            return scheme.lower() == "bearer" and self.token_matches(credential.strip())
        cookie = request.cookies.get(COOKIE)
        if cookie is not None:
            return self.cookie_matches(cookie)
        return None


def token_middleware(token: str) -> Middleware:
    """The middleware guarding every path but :data:`OPEN_PATHS` with ``token``."""
    check = TokenCheck(token)

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        verdict = check.verdict(request)
        if not verdict:
            return unauthorized(request, presented=verdict is False)
        if QUERY in request.query:
            return _remember(request, check)
        return await handler(request)

    return require_token


def _remember(request: web.Request, check: TokenCheck) -> web.StreamResponse:
    """Set the cookie and send the browser to the same URL without the token."""
    location = str(request.rel_url.without_query_params(QUERY))
    response = web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        check.cookie_value,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return response


def unauthorized(request: web.Request, *, presented: bool) -> web.Response:
    """401: JSON for programs (``/api``, ``/metrics``), a short page for a person at a TV."""
    headers = {"WWW-Authenticate": 'Bearer realm="wallboard"', "Cache-Control": "no-store"}
    why = "wrong access token" if presented else "this wallboard needs its access token"
    if request.path.startswith("/api/") or request.path == "/metrics":
        document = {
            "error": f"unauthorized: {why} (send Authorization: Bearer <web.token>)",
        }
        return web.json_response(document, status=401, headers=headers)
    return web.Response(
        status=401, text=unauthorized_page(why), content_type="text/html", headers=headers
    )
