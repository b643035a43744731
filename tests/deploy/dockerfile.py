"""The Dockerfile read the way the builder reads it, for the tests that cannot run a build here.

Only what the Dockerfile in this repository uses: parser directives and comments (dropped, also
inside continued lines, as the builder does), backslash continuations, stages with ``AS``,
``ARG`` defaults substituted into later instructions (``${NAME}``, ``$NAME``), flags such as
``--from=build``, and the JSON (exec) form of ``CMD`` and ``HEALTHCHECK CMD``. And the
``.dockerignore`` rules, to tell whether a COPY source reaches the build context.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field

from tests.deploy.compose_file import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    flags: tuple[str, ...]  # "--from=build", "--interval=30s", ...
    value: str  # the rest, ARGs substituted

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK CMD)."""
        text = (
            self.value.removeprefix("CMD").strip() if self.keyword == "HEALTHCHECK" else self.value
        )
        parsed = json.loads(text)
        assert isinstance(parsed, list), self.value
        return [str(part) for part in parsed]

    def flag(self, name: str) -> str | None:
        for flag in self.flags:
            if flag.startswith(f"--{name}="):
                return flag.split("=", 1)[1]
        return None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        """Every ENV of the stage (``KEY=value`` pairs, the form used here)."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in _split_words(instruction.value):
                key, _, value = pair.partition("=")
                values[key] = value
        return values


def logical_lines(text: str) -> list[str]:
    """Instructions, one per string: comments dropped, continuations joined."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue  # a comment (also within a continued instruction) or a blank line
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile, ARG defaults substituted.

    As in the builder: ARGs before the first FROM are usable in FROM lines only; a stage sees
    the ARGs it declares itself (``ARG NAME`` alone takes the global default).
    """
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    scope: dict[str, str] = global_args
    for line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        flags, rest = _flags(rest.strip())
        if keyword == "ARG":
            name, has_default, default = rest.partition("=")
            scope[name] = _substitute(default, scope) if has_default else global_args.get(name, "")
            continue
        rest = _substitute(rest, global_args if keyword == "FROM" else scope)
        if keyword == "FROM":
            words = rest.split()
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=alias))
            scope = {}
            continue
        assert stages, f"{keyword} before FROM"
        stages[-1].instructions.append(Instruction(keyword, tuple(flags), rest))
    return stages


def load() -> list[Stage]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


def _flags(rest: str) -> tuple[list[str], str]:
    flags: list[str] = []
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.strip()
    return flags, rest


def _substitute(text: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), m.group(0)), text)


def _split_words(text: str) -> list[str]:
    return shlex.split(text)


# --- .dockerignore ---------------------------------------------------------------------------


def ignore_rules() -> list[tuple[bool, str]]:
    """(negated, pattern) in file order; the last matching rule decides, as in Docker."""
    rules: list[tuple[bool, str]] = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, line.removeprefix("!").strip().strip("/")))
    return rules


def ignored(path: str) -> bool:
    """Whether ``path`` (POSIX, relative to the context) stays out of the build context.

    Docker's rules: a pattern is matched against the whole relative path, component by
    component (``*`` never crosses a ``/``), and a match on a directory covers everything in
    it; ``**/`` matches any number of leading directories; the last matching rule wins.
    """
    parts = path.strip("/").split("/")
    verdict = False
    for negated, pattern in ignore_rules():
        if any(_matches(parts[: end + 1], pattern) for end in range(len(parts))):
            verdict = not negated
    return verdict


def _matches(parts: list[str], pattern: str) -> bool:
    if pattern.startswith("**/"):
        tail = pattern[3:]
        return any(_matches(parts[start:], tail) for start in range(len(parts)))
    wanted = pattern.split("/")
    return len(wanted) == len(parts) and all(
        fnmatch.fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=True)
    )
