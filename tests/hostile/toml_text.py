"""A small TOML writer for hypothesis-built documents (tomllib reads; nothing here writes).

Every table is written inline (``vicidial = {url = "x"}``), which TOML allows at the top
level, so any nesting hypothesis builds is one ``key = value`` line per top-level key.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_document(document: dict[str, Any]) -> str:
    """``document`` as TOML text, one line per top-level key."""
    return "".join(f"{key_text(key)} = {value_text(value)}\n" for key, value in document.items())


def key_text(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else string_text(key)


def string_text(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = []
    for character in text:
        if character in _ESCAPES:
            out.append(_ESCAPES[character])
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            out.append(f"\\u{ord(character):04x}")
        else:
            out.append(character)
    return '"' + "".join(out) + '"'


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)  # inf, -inf and exponents are spelled as TOML spells them
    if isinstance(value, str):
        return string_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{key_text(k)} = {value_text(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"not a TOML value: {value!r}")
