"""The exception tree for everything that can go wrong talking to VICIdial.

One short tree, caught in one place (the poll job), so callers never see aiohttp or
``ValueError`` internals::

    VicidialError                 base; ``function`` names the API function involved
    ├── TransportError            no usable HTTP answer: connection refused/reset, DNS, TLS,
    │   │                         HTTP status other than 200 (after retries for 5xx)
    │   ├── RequestTimeout        no answer within the configured timeout (after retries)
    │   └── ResponseTooLarge      the body passed ``max_response_bytes``; never retried
    ├── ApiError                  VICIdial answered ``ERROR:`` (or an unexpected ``NOTICE:``)
    │   ├── LoginError            login refused; ``cause`` says why and ``fix`` what to do
    │   └── PermissionDenied      the API user lacks a permission for this function
    └── ParseError                the text is not what this function prints (names the line),
        │                         including an answer cut off (no final newline, short row)
        ├── IncompleteAnswer      well-formed, but an expected campaign has no row
        └── HtmlResponseError     an HTML page (typically a proxy's error page) instead of text

Messages never contain the VICIdial password: the client builds every message from a
redacted URL and runs :func:`redact` over any text that came back from the server, because
VICIdial's login error echoes the password verbatim.
"""

from __future__ import annotations

from enum import StrEnum


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


class ResponseTooLarge(TransportError):
    """The answer grew past ``max_response_bytes``; reading stopped there and the connection
    was closed.

    Never retried: the same request would stream the same oversized (or endless) body again.
    The limit protects the daemon's memory from a runaway dialer answer or a misrouted URL.
    """

    def __init__(self, message: str, *, function: str = "", limit: int) -> None:
        super().__init__(message, function=function)
        self.limit = limit

    @property
    def kind(self) -> str:
        return "too_large"


class ApiError(VicidialError):
    """VICIdial answered with an ``ERROR:`` line (HTTP 200 does not mean success)."""

    @property
    def kind(self) -> str:
        return "api_error"


class LoginCause(StrEnum):
    """Why VICIdial refused the login, as far as its answer tells (API.md §3).

    The values are stable labels for logs, metrics and the poller's login circuit breaker.
    """

    BAD_CREDENTIALS = "bad_credentials"
    """``Login incorrect ... |BAD|``: wrong user or pass, an inactive user, or user level 6
    or below. VICIdial gives the same answer for all of them, so no one can tell them apart."""
    LOCKED = "locked"
    """``Too many login attempts ... |LOCK|``: 10 failed logins within 15 minutes."""
    IP_BLOCKED = "ip_blocked"
    """``Your IP Address is not allowed ... |IPBLOCK|``: the user group's API IP list."""
    TWO_FACTOR = "two_factor"
    """``Login incorrect ... |2FA|``: the system requires 2FA, which an API call cannot do."""


_LOGIN_FIXES: dict[LoginCause, str] = {
    LoginCause.BAD_CREDENTIALS: (
        "VICIdial rejected vicidial.user/vicidial.pass, or the user is inactive or below user "
        "level 7 (VICIdial answers all of these alike): check both settings, and the user's "
        "Active flag and level in VICIdial's Users screen, keeping the pass to letters, "
        "digits, - and _"
    ),
    LoginCause.LOCKED: (
        "VICIdial locked the API user after 10 failed logins in 15 minutes; it unlocks by "
        "itself 15 minutes after the last failure; fix vicidial.user/pass first"
    ),
    LoginCause.IP_BLOCKED: (
        "VICIdial does not accept API calls from this host's address: add it to the API IP "
        "list of the API user's user group, or run the wallboard on an allowed host"
    ),
    LoginCause.TWO_FACTOR: (
        "VICIdial requires two-factor authentication for the API user, which an API call "
        "cannot give: set the user's Two-Factor Override so 2FA is off for it"
    ),
}


class LoginError(ApiError):
    """The API user/pass was rejected (or the account is locked, inactive, level <= 6).

    ``cause`` is what the poller's circuit breaker keys on (a ``locked`` user needs a longer
    pause than a wrong pass); ``fix`` is the one sentence an operator needs.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str = "",
        cause: LoginCause = LoginCause.BAD_CREDENTIALS,
    ) -> None:
        super().__init__(message, function=function)
        self.cause = cause

    @property
    def kind(self) -> str:
        return "login"

    @property
    def fix(self) -> str:
        """What the operator should do about this cause (one sentence, no secrets)."""
        return _LOGIN_FIXES[self.cause]


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


class IncompleteAnswer(ParseError):
    """A well-formed answer without a row the request must produce: ``missing`` names them.

    Raised when an answer cut exactly at a row boundary can be told from a complete one:
    ``call_status_stats`` prints a line for every requested campaign (even one without calls)
    and ``campaigns_list`` must list every configured campaign. It is a :class:`ParseError`
    (kind ``parse``) because a cut answer is the common cause; the message also names the
    other (a campaign deleted on the dialer, or outside the API user's allowed campaigns), as
    the wallboard cannot tell the two apart and must not show the rest as complete either way.
    """

    def __init__(self, message: str, *, function: str = "", missing: tuple[str, ...]) -> None:
        super().__init__(message, function=function)
        self.missing = missing


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
