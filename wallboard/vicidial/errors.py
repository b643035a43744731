"""The exception tree for everything that can go wrong talking to VICIdial.

One short tree, caught in one place (the poll job), so callers never see aiohttp or
``ValueError`` internals::

    VicidialError                 base; ``function`` names the API function involved
    ├── TransportError            no usable HTTP answer: connection refused/reset, DNS, TLS,
    │   │                         HTTP status other than 200 (after retries for 5xx)
    │   └── RequestTimeout        no answer within the configured timeout (after retries)
    ├── ApiError                  VICIdial answered ``ERROR:`` (or an unexpected ``NOTICE:``)
    │   ├── LoginError            ``Login incorrect`` / too many attempts / IP blocked
    │   └── PermissionDenied      the API user lacks a permission for this function
    └── ParseError                the text is not what this function prints (names the line)
        └── HtmlResponseError     an HTML page (typically a proxy's error page) instead of text

Messages never contain the VICIdial password: the client builds every message from a
redacted URL and runs :func:`redact` over any text that came back from the server, because
VICIdial's login error echoes the password verbatim.
"""

from __future__ import annotations


class VicidialError(Exception):
    """Base of every error raised by :mod:`wallboard.vicidial`."""

    def __init__(self, message: str, *, function: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.function = function

    def __str__(self) -> str:
        return self.message

    def redacted(self, secret: str) -> VicidialError:
        """Return this error with ``secret`` masked in its message (same class, same fields)."""
        if secret and secret in self.message:
            self.message = self.message.replace(secret, "***")
            self.args = (self.message,)
        return self

    @property
    def kind(self) -> str:
        """A short stable label for metrics and logs (``transport``, ``timeout``, ...)."""
        return "error"


class TransportError(VicidialError):
    """No usable HTTP answer (refused, reset, DNS, TLS, non-200 status)."""

    def __init__(self, message: str, *, function: str = "", status: int | None = None) -> None:
        super().__init__(message, function=function)
        self.status = status

    @property
    def kind(self) -> str:
        return "transport"


class RequestTimeout(TransportError):
    """VICIdial did not answer within the configured timeout."""

    @property
    def kind(self) -> str:
        return "timeout"


class ApiError(VicidialError):
    """VICIdial answered with an ``ERROR:`` line (HTTP 200 does not mean success)."""

    @property
    def kind(self) -> str:
        return "api_error"


class LoginError(ApiError):
    """The API user/pass was rejected (or the account is locked, inactive, level <= 6)."""

    @property
    def kind(self) -> str:
        return "login"


class PermissionDenied(ApiError):
    """The API user may not call this function; the message says which setting to fix."""

    @property
    def kind(self) -> str:
        return "permission"


class ParseError(VicidialError):
    """The answer is not in the format this function prints."""

    def __init__(self, message: str, *, function: str = "", line: int | None = None) -> None:
        where = f" (line {line})" if line is not None else ""
        prefix = f"{function}: " if function else ""
        super().__init__(f"{prefix}{message}{where}", function=function)
        self.line = line

    @property
    def kind(self) -> str:
        return "parse"


class HtmlResponseError(ParseError):
    """An HTML page came back instead of plain text (usually a proxy or PHP error page)."""

    @property
    def kind(self) -> str:
        return "html"


def redact(text: str, *secrets: str) -> str:
    """Mask every non-empty secret in ``text`` (used on URLs and echoed server text)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
