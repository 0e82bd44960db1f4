"""The one PromQL scanner of the harness, and what is built on it.

PromQL is read here as a flat list of tokens, which is all the checks need:
string literals and comments are single tokens (so a `[5m]` or an `offset`
inside them is never touched), a range window or subquery `[5m:30s]` is a
single token, and `offset` is a keyword only when a duration follows it.

  tokens(expr)                  the token list (lossless: the texts join back)
  rewrite_durations(expr, fn)   every range window, subquery step and offset
                                duration replaced by fn(kind, text)
  durations(expr)               [(kind, text)] of the same, to look at
  split_threshold(expr)         (query, "op threshold") of an alert's expr
  names(expr)                   the identifiers (metrics, functions, labels)
  duration_ms / format_ms       Prometheus durations <-> milliseconds
  dashboard_queries(board)      the PromQL of a Grafana dashboard
  markdown_queries(text)        the PromQL of ```promql blocks in Markdown
  block_queries(lines, first)   the queries of one such block
"""

import re
from collections import namedtuple

from . import Failure, markdown

Token = namedtuple("Token", "kind text start")
Range = namedtuple("Range", "span step subquery")

_SPACE = re.compile(r"\s+")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")  # Grafana's $var, ${var}, ${var:fmt}
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"[0-9.][A-Za-z0-9_.]*")  # 0.95, 1e3, 5m, 1h30m
_OP = re.compile(r"==|!=|>=|<=|=~|!~|[-+*/%^<>=,@]")
_RANGE = re.compile(r"\s*(\$\{[^}]*\}|[^\s:\]]+)\s*(?::\s*(\$\{[^}]*\}|[^\s\]]+)?\s*)?")

COMPARISONS = {"==", "!=", ">=", "<=", ">", "<"}

# Operators and keywords that make a line of a Markdown block continue the
# query of the line before (or the next line continue this one).
_SEAM_OPS = {"+", "-", "*", "/", "%", "^"} | COMPARISONS
_SEAM_WORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring",
               "group_left", "group_right"}


def tokens(expr):
    """The tokens of expr. Kinds: string, comment, range (`[...]` whole),
    open / close (`(`, `{` / `)`, `}`), space, variable (Grafana's), name,
    number (durations included), op, other. Fails on an unterminated string
    or an unbalanced `[`."""
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                # Backslash escapes, except in raw (backquoted) strings.
                j += 2 if expr[j] == "\\" and c != "`" else 1
            if j >= n:
                raise Failure(f"unterminated string at {i} in {expr!r}")
            kind, j = "string", j + 1
        elif c == "#":
            j = expr.find("\n", i)
            kind, j = "comment", n if j < 0 else j
        elif c == "[":
            j = expr.find("]", i)
            if j < 0:
                raise Failure(f"unbalanced [ at {i} in {expr!r}")
            kind, j = "range", j + 1
        elif c == "]":
            raise Failure(f"unbalanced ] at {i} in {expr!r}")
        elif c in "({":
            kind, j = "open", i + 1
        elif c in ")}":
            kind, j = "close", i + 1
        else:
            for kind, pattern in (("space", _SPACE), ("variable", _VARIABLE),
                                  ("name", _NAME), ("number", _NUMBER), ("op", _OP)):
                m = pattern.match(expr, i)
                if m:
                    j = m.end()
                    break
            else:
                kind, j = "other", i + 1
        out.append(Token(kind, expr[i:j], i))
        i = j
    return out


def parse_range(text):
    """Range(span, step, subquery) of a range token `[5m]`, `[1h:1m]`, `[1h:]`;
    spans may be Grafana variables (`[$__rate_interval]`)."""
    m = _RANGE.fullmatch(text[1:-1])
    if not m:
        raise Failure(f"cannot read the range {text!r}")
    return Range(m.group(1), m.group(2) or "", ":" in text)


def _offset_at(toks, i):
    """(end index, text before the duration, duration) when toks[i] is the
    `offset` keyword followed by `[-]DURATION`, else None. A label or metric
    named `offset` is not followed by a number."""
    if toks[i].kind != "name" or toks[i].text != "offset":
        return None
    j, between = i + 1, ""
    for want in ("space", "op", "space"):
        if j < len(toks) and toks[j].kind == want and (want != "op" or toks[j].text == "-"):
            between += toks[j].text
            j += 1
    if j < len(toks) and toks[j].kind == "number":
        return j + 1, between, toks[j].text
    return None


def rewrite_durations(expr, fn):
    """expr with the duration of every range window, subquery step and offset
    replaced by fn(kind, text), kind being "range", "step" or "offset";
    everything else (strings and comments included) is copied as is. Range
    brackets come out without inner spaces: `[ 5m ]` becomes `[5m]`."""
    toks, out, i = tokens(expr), [], 0
    while i < len(toks):
        t = toks[i]
        offset = _offset_at(toks, i)
        if t.kind == "range":
            r = parse_range(t.text)
            inner = fn("range", r.span)
            if r.subquery:
                inner += ":" + (fn("step", r.step) if r.step else "")
            out.append(f"[{inner}]")
        elif offset:
            end, between, duration = offset
            out.append(f"offset{between}{fn('offset', duration)}")
            i = end
            continue
        else:
            out.append(t.text)
        i += 1
    return "".join(out)


def durations(expr):
    """[(kind, text)] of every range window ("range"), subquery step ("step")
    and offset ("offset") of expr, in order."""
    found = []
    rewrite_durations(expr, lambda kind, text: found.append((kind, text)) or text)
    return found


def split_threshold(expr):
    """(query, 'op threshold') at the last comparison of expr outside any
    bracket, string or comment; (expr, "") when it has none."""
    depth, last = 0, None
    for t in tokens(expr):
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
        elif depth == 0 and t.kind == "op" and t.text in COMPARISONS:
            last = t.start
    if last is None:
        return expr, ""
    return expr[:last].strip(), expr[last:].strip()


def names(expr):
    """The identifiers of expr outside strings and comments: metric names,
    functions, keywords, label names."""
    return {t.text for t in tokens(expr) if t.kind == "name"}


def strip_comments(expr):
    """expr without its `#` comments (a `#` inside a string stays)."""
    return "".join(t.text for t in tokens(expr) if t.kind != "comment")


# --------------------------------------------------------------- durations ---

UNITS = [("y", 365 * 86400_000), ("w", 7 * 86400_000), ("d", 86400_000),
         ("h", 3600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
_DURATION = re.compile(r"(?:\d+(?:y|w|d|h|ms|m|s))+")


def duration_ms(text):
    """Milliseconds of a Prometheus duration (`1h30m`, `250ms`)."""
    if not _DURATION.fullmatch(text):
        raise Failure(f"not a Prometheus duration: {text!r}")
    units = dict(UNITS)
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|y|w|d|h|m|s)", text))


def format_ms(ms):
    """The shortest Prometheus spelling of a whole number of milliseconds."""
    if ms <= 0:
        raise Failure("a duration of 0 or less")
    out = ""
    for unit, size in UNITS:
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out


# -------------------------------------------------------------- extraction ---

def walk_panels(panels):
    """Every panel, those inside collapsed rows included."""
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def annotation_expr(ann):
    """The PromQL of a Prometheus annotation: Grafana 10+ keeps it in
    `target.expr`, older dashboards at the top level."""
    return (ann.get("target") or {}).get("expr") or ann.get("expr") or ""


def dashboard_queries(board, datasource):
    """(label, expr, kind) of every query of a Grafana dashboard (a parsed
    JSON model): the targets of every panel (kind "panel") and the
    annotations on `datasource` (kind "annotation")."""
    for panel in walk_panels(board.get("panels", [])):
        for t in panel.get("targets", []):
            yield f"{board['uid']} / {panel.get('title')} / {t['refId']}", t["expr"], "panel"
    for ann in board.get("annotations", {}).get("list", []):
        if not ann.get("builtIn") and ann.get("datasource") == datasource:
            yield f"{board['uid']} / annotation {ann.get('name')}", annotation_expr(ann), "annotation"


def markdown_queries(text):
    """[(line, query)] of the ```promql fenced blocks of a Markdown text
    (whatever words follow `promql` in the info string), line numbers from
    1; see block_queries."""
    out = []
    for block in markdown.fenced_blocks(text):
        if block.language == "promql":
            out += block_queries(block.lines, block.first_line)
    return out


def _code(line):
    try:
        return strip_comments(line).rstrip()
    except Failure:  # a string running on to the next line
        return line.rstrip()


def _open_brackets(text):
    try:
        toks = tokens(text)
    except Failure:
        return True
    return sum((t.kind == "open") - (t.kind == "close") for t in toks) > 0


def _seam(text, side):
    """The significant token at the end (side -1) or start (0) of text."""
    toks = [t for t in tokens(text) if t.kind not in ("space", "comment")]
    return toks[side] if toks else None


def _joins(current, line):
    if _open_brackets(current) or line[:1].isspace():
        return True
    for t in (_seam(current, -1), _seam(line, 0)):
        if t and ((t.kind == "op" and t.text in _SEAM_OPS) or
                  (t.kind == "name" and t.text in _SEAM_WORDS)):
            return True
    return False


def block_queries(lines, first_line):
    """[(line, query)] of the lines of a PromQL block whose first line is
    number first_line. `#` comments go, and each query starts on a line of
    its own; it continues on the next lines while its brackets are open,
    while they are indented, or when an operator joins them (a line ending
    with `/` or starting with `and`)."""
    queries, current, start = [], [], 0

    def flush():
        text = "\n".join(current).strip()
        if text:
            queries.append((start, text))
        current.clear()

    for k, line in enumerate(lines):
        code = _code(line)
        if not code.strip():
            if current and not _open_brackets("\n".join(current)):
                flush()
            continue
        try:
            joined = current and _joins("\n".join(current), code)
        except Failure:
            joined = True
        if not joined:
            flush()
            start = first_line + k
        current.append(code)
    flush()
    return queries
