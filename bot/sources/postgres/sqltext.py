"""Reading SQL text without trusting it: what kind of statement it is, and a form safe to show.

    shown("SELECT * FROM orders WHERE email = 'ann@example.com' /* user 7 */")
    # 'SELECT * FROM orders WHERE email = ? '
    is_plannable_select("SELECT id FROM orders WHERE id = $1")   # True
    parameter_count("SELECT $1, $3")                             # 3

`pg_stat_statements` replaces constants with `$n`, but not everywhere (utility statements,
comments), and `pg_stat_activity` shows statements exactly as sent. `shown` therefore drops
comments and replaces every string, dollar-quoted and numeric literal before any text leaves
the database package; text it cannot read to the end (an unterminated quote, a statement cut
at `track_activity_query_size`) is cut where reading stopped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

OWN_MARKER = "/* triage-bot */"
SHOWN_CHARS = 240
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>[Ee]'(?:[^'\\]|''|\\.)*'|(?:[BbXxNn]|[Uu]&)?'(?:[^']|'')*')
  | (?P<dollar>\$(?P<tag>[^\W\d]\w*|)\$.*?\$(?P=tag)\$)
  | (?P<ident>"(?:[^"]|"")*")
  | (?P<param>\$\d+)
  | (?P<number>(?:\d[\w]*(?:\.\w*)?|\.\d\w*)(?:[eE][+-]?\d+)?)
  | (?P<word>[^\W\d][\w$]*)
  | (?P<other>[^\s'"$\w])
    """,
    re.VERBOSE | re.DOTALL,
)
_LITERALS = {"string", "dollar", "number"}
_WRITES = {"INSERT", "UPDATE", "DELETE", "MERGE", "INTO", "COPY", "CALL", "DO"}
_READS = {"SELECT", "WITH", "VALUES", "TABLE"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(sql: str) -> Iterator[Token]:
    """SQL tokens in order; stops at the first character it cannot read (an open quote)."""
    position = 0
    while position < len(sql):
        match = _TOKEN.match(sql, position)
        if match is None:
            return
        kind = match.lastgroup or "other"
        if kind == "tag":
            kind = "dollar"
        yield Token(kind, match.group())
        position = match.end()


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, limit: int = 63) -> str:
    """A name from the database (an application name, a state) without control characters."""
    return _CONTROL.sub("?", text)[:limit]


def shown(sql: str, limit: int = SHOWN_CHARS) -> str:
    """The statement with comments dropped, literals replaced by `?` and spacing collapsed
    (control characters, which a terminal would act on, become spaces)."""
    parts: list[str] = []
    for token in tokens(_CONTROL.sub(" ", sql)):
        if token.kind == "comment":
            if parts and parts[-1] != " ":
                parts.append(" ")
            continue
        if token.kind == "space":
            if parts and parts[-1] != " ":
                parts.append(" ")
        elif token.kind in _LITERALS:
            parts.append("?")
        else:
            parts.append(token.text)
    text = "".join(parts).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def keywords(sql: str) -> list[str]:
    return [t.text.upper() for t in tokens(sql) if t.kind == "word"]


def is_own(sql: str) -> bool:
    """A statement this bot sent (they all start with the marker comment)."""
    return sql.lstrip().startswith(OWN_MARKER)


def is_plannable_select(sql: str) -> bool:
    """A single statement that only reads: safe to hand to EXPLAIN (which never runs it anyway).

    Rejects anything that writes or creates (`SELECT … INTO`, data-modifying CTEs), more than
    one statement, and text that could not be read to its end.
    """
    words = keywords(sql)
    if not words or words[0] not in _READS or _WRITES & set(words):
        return False
    read = "".join(token.text for token in tokens(sql))
    if len(read) != len(sql):
        return False
    body = [t for t in tokens(sql) if t.kind not in {"space", "comment"}]
    semicolons = [i for i, t in enumerate(body) if t.text == ";"]
    return not semicolons or semicolons == [len(body) - 1]


def parameter_count(sql: str) -> int:
    """The highest `$n` placeholder in the statement (0 when there is none)."""
    numbers = [int(t.text[1:]) for t in tokens(sql) if t.kind == "param"]
    return max(numbers, default=0)


def quote_ident(name: str) -> str:
    """An identifier as PostgreSQL reads it back: bare when it is plain lower case."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


# Reserved words that cannot be bare table or column names (PostgreSQL's list, abridged to
# those likely to name a table or column).
_RESERVED = frozenset(
    {
        "ALL",
        "ANALYSE",
        "ANALYZE",
        "AND",
        "ANY",
        "ARRAY",
        "AS",
        "ASC",
        "ASYMMETRIC",
        "BOTH",
        "CASE",
        "CAST",
        "CHECK",
        "COLLATE",
        "COLUMN",
        "CONSTRAINT",
        "CREATE",
        "CURRENT_CATALOG",
        "CURRENT_DATE",
        "CURRENT_ROLE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "CURRENT_USER",
        "DEFAULT",
        "DEFERRABLE",
        "DESC",
        "DISTINCT",
        "DO",
        "ELSE",
        "END",
        "EXCEPT",
        "FALSE",
        "FETCH",
        "FOR",
        "FOREIGN",
        "FROM",
        "GRANT",
        "GROUP",
        "HAVING",
        "IN",
        "INITIALLY",
        "INTERSECT",
        "INTO",
        "LATERAL",
        "LEADING",
        "LIMIT",
        "LOCALTIME",
        "LOCALTIMESTAMP",
        "NOT",
        "NULL",
        "OFFSET",
        "ON",
        "ONLY",
        "OR",
        "ORDER",
        "PLACING",
        "PRIMARY",
        "REFERENCES",
        "RETURNING",
        "SELECT",
        "SESSION_USER",
        "SOME",
        "SYMMETRIC",
        "TABLE",
        "THEN",
        "TO",
        "TRAILING",
        "TRUE",
        "UNION",
        "UNIQUE",
        "USER",
        "USING",
        "VARIADIC",
        "WHEN",
        "WHERE",
        "WINDOW",
        "WITH",
    }
)
