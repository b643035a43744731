"""The page's own files (``/static/...``), read once and named by their content.

The CSP forbids inline script and style, so the page's CSS and JS are separate files served by
the daemon itself (still self-contained: no other host is ever named). Pages link them as
``/static/board.js?v=<hash of the content>``: a URL that can only ever mean those bytes may be
cached for a year, and a deployment that changes the file changes the URL, so a TV that
reloads gets the new script at once. A request without the current ``v`` (an old page, a
person) is answered ``no-cache`` with an ``ETag``, so it revalidates instead of guessing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

from aiohttp import web

#: What ``/static`` may serve, by file suffix; everything else there (the HTML templates)
#: is not a static file.
CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
#: The files a board page links; a package without them cannot serve a board.
REQUIRED = ("board.css", "board.js", "pages.css")

IMMUTABLE = "private, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file: its bytes, type and content hash (the ``v`` of its URL)."""

    name: str
    body: bytes
    content_type: str
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @property
    def url(self) -> str:
        return f"/static/{self.name}?v={self.version}"

    def response(self, request: web.Request) -> web.Response:
        """The file, or 304 when the browser already has these bytes."""
        cache = IMMUTABLE if request.query.get("v") == self.version else REVALIDATE
        headers = {"ETag": self.etag, "Cache-Control": cache}
        if self.etag in _etags(request.headers.get("If-None-Match", "")):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=self.body, content_type=self.content_type, charset="utf-8", headers=headers
        )


def _etags(header: str) -> set[str]:
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return tags - {""}


class Assets:
    """Every static file of the package, by name."""

    def __init__(self, assets: Mapping[str, Asset]) -> None:
        self._assets = dict(assets)

    @classmethod
    def load(cls) -> Assets:
        """Read ``wallboard/web/static`` (once, at start-up: a deployment restarts)."""
        directory = files("wallboard.web").joinpath("static")
        assets: dict[str, Asset] = {}
        for entry in directory.iterdir():
            suffix = "." + entry.name.rpartition(".")[2]
            if not entry.is_file() or suffix not in CONTENT_TYPES:
                continue
            body = entry.read_bytes()
            version = hashlib.sha256(body).hexdigest()[:16]
            assets[entry.name] = Asset(entry.name, body, CONTENT_TYPES[suffix], version)
        missing = [name for name in REQUIRED if name not in assets]
        if missing:
            raise FileNotFoundError(f"wallboard/web/static lacks {', '.join(missing)}")
        return cls(assets)

    def get(self, name: str) -> Asset | None:
        return self._assets.get(name)

    def url(self, name: str) -> str:
        """The versioned URL of a file pages link (``KeyError`` for a file that is not there)."""
        return self._assets[name].url
