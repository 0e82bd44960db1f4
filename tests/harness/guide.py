"""The conventions of a guide proven on a live lab (docs/tp/): what its
Markdown asks the test to evaluate, run and check. Parsing and rewriting
only; tests/e2e/tp.py does the running.

  read_page(text)        Page: queries, checks, commands, static problems
  Rewriter(ports, ...)   a command as the test runs it: the compose lab's
                         published URLs pointed at the test's lab, load
                         generator durations capped
  check_flags(argv, run_help)   the flags of a command that its --help
                         does not list

The conventions, as the guide's authors follow them:

- PromQL in fenced blocks whose info string starts with `promql`; `promql
  empty-ok` marks a block whose queries may return nothing (ALERTS,
  absent()). One query per block, or several each starting on a line of its
  own (a blank line between them reads best); `#` comments allowed.
- Shell commands in ```sh blocks, one per line, `#` comments and `\\`
  continuations allowed, no `$` prompt. Lines starting with obslab,
  obslab-loadgen, promtool, amtool or curl (after `VAR=value` assignments)
  are run or checked; so are those of `docker compose run/exec` whose
  program is one of them (checked only). `export NAME=value` lines set the
  environment of the page's next commands.
- `<!-- check: QUERY ≈ VALUE ± TOL -->` on one line: QUERY, evaluated on the
  live lab, gives one series whose value is within TOL of VALUE (a decimal
  comma is read as a point).
"""

import re
import shlex
from collections import namedtuple

from . import Failure, markdown, promql

PROGRAMS = ("obslab", "obslab-loadgen", "promtool", "amtool", "curl")
PROMQL_FLAGS = {"empty-ok"}
# Blocks whose commands the test does not read: a checked program there is a
# mistake of fence, reported.
OTHER_SHELLS = {"bash", "shell", "console", "zsh", "shell-session", "sh-session", "terminal"}

Query = namedtuple("Query", "line expr empty_ok")
Check = namedtuple("Check", "line expr value tolerance")
Command = namedtuple("Command", "line text argv program via help_only status_shown")
Command.__doc__ = """A command line of a ```sh block. `text` is the code as the
shell gets it (comments out, continuations joined, a here-document kept),
`argv` the words of the checked program's own command (after any `docker
compose run/exec` wrapping, `via` then names it), `help_only` why it is only
checked against --help (None: it is run), `status_shown` whether the next
line prints `$?` (then the status 1 is part of the lesson)."""
Export = namedtuple("Export", "line assignments")
Page = namedtuple("Page", "queries checks commands problems")


def read_page(text):
    """Everything the test does with one Markdown page, and the problems
    found without a lab: [(line, message)]."""
    queries, checks, commands, problems = [], [], [], []
    for block in markdown.fenced_blocks(text):
        if block.language == "promql":
            flags = block.info.split()[1:]
            unknown = [f for f in flags if f not in PROMQL_FLAGS]
            if unknown:
                problems.append((block.fence_line, f"unknown promql block flag(s) {unknown}: "
                                 f"known: {sorted(PROMQL_FLAGS)}"))
            for line, expr in promql.block_queries(block.lines, block.first_line):
                queries.append(Query(line, expr, "empty-ok" in flags))
                try:
                    promql.tokens(expr)
                except Failure as e:
                    problems.append((line, f"PromQL: {e}"))
        elif block.language == "sh":
            found, block_problems = shell_commands(block.lines, block.first_line)
            commands += found
            problems += block_problems
        elif block.language in OTHER_SHELLS:
            for n, line in enumerate(block.lines):
                words = line.lstrip("$ ").split()
                if words and words[0] in PROGRAMS:
                    problems.append((block.first_line + n, f"{words[0]} in a ```{block.language} "
                                     "block, which the test does not read: use ```sh"))
    for line, text_line in markdown.prose_lines(text):
        if "<!--" in text_line and re.search(r"<!--\s*check\s*:", text_line):
            try:
                checks.append(parse_check(line, text_line))
            except Failure as e:
                problems.append((line, str(e)))
    return Page(queries, checks, commands, problems)


# ------------------------------------------------------------------ checks ---

_CHECK = re.compile(r"<!--\s*check\s*:(.*?)-->")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?")


def parse_check(line, text):
    """Check of a `<!-- check: QUERY ≈ VALUE ± TOL -->` line; Failure names
    what is wrong with a malformed one."""
    m = _CHECK.search(text)
    if not m:
        raise Failure("a check: comment must hold on one line: "
                      "<!-- check: QUERY ≈ VALUE ± TOL -->")
    body = m.group(1)
    if body.count("≈") != 1 or body.count("±") != 1 or body.index("≈") > body.index("±"):
        raise Failure("check: wants `QUERY ≈ VALUE ± TOL` (one ≈, then one ±), "
                      f"got {body.strip()!r}")
    expr, rest = body.split("≈")
    value, tolerance = (s.strip() for s in rest.split("±"))
    expr = expr.strip()
    if not expr:
        raise Failure("check: no query before ≈")
    numbers = []
    for what, s in (("value", value), ("tolerance", tolerance)):
        if not _NUMBER.fullmatch(s):
            raise Failure(f"check: the {what} {s!r} is not a number")
        numbers.append(float(s.replace(",", ".")))
    if numbers[1] < 0:
        raise Failure("check: a negative tolerance")
    try:
        promql.tokens(expr)
    except Failure as e:
        raise Failure(f"check: PromQL: {e}") from None
    return Check(line, expr, numbers[0], numbers[1])


# ---------------------------------------------------------------- commands ---

_OPERATOR = set("();<>|&")
_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def strip_comment(text):
    """(code, open quote or None): text without its shell comments (a `#`
    that starts a word, outside quotes), and the quote left open at its end."""
    out, quote, i, word_start = [], None, 0, True
    while i < len(text):
        c = text[i]
        if quote == "'":
            quote = None if c == "'" else quote
        elif quote == '"':
            if c == "\\" and i + 1 < len(text):
                out.append(text[i:i + 2])
                i += 2
                continue
            quote = None if c == '"' else quote
        elif c == "\\" and i + 1 < len(text):
            out.append(text[i:i + 2])
            i += 2
            word_start = False
            continue
        elif c == "#" and word_start:
            end = text.find("\n", i)
            if end < 0:
                break
            i = end
            continue
        elif c in "'\"":
            quote = c
        out.append(c)
        word_start = quote is None and (c.isspace() or c in _OPERATOR)
        i += 1
    return "".join(out), quote


def logical_lines(lines, first_line):
    """[(line number, code)] of a block's shell text: comments out, `\\`
    continuations and quotes left open joined with the next line, a
    here-document's body kept after its command."""
    out, k = [], 0
    while k < len(lines):
        start, text = k, lines[k]
        code, quote = strip_comment(text)
        while (quote or code.rstrip().endswith("\\")) and k + 1 < len(lines):
            k += 1
            text += "\n" + lines[k]
            code, quote = strip_comment(text)
        k += 1
        code = re.sub(r"\\\n", " ", code).strip()
        for m in _HEREDOC.finditer(code):
            if code[max(0, m.start() - 1):m.start()] == "<":
                continue  # <<< is a here-string
            body = []
            while k < len(lines):
                line = lines[k]
                k += 1
                body.append(line)
                if (line.lstrip("\t") if m.group(1) else line) == m.group(3):
                    break
            code += "\n" + "\n".join(body)
        if code:
            out.append((first_line + start, code))
    return out


def words(code):
    """The shell words of the first line of code, operators (`|`, `&&`,
    `>`...) as words of their own; Failure on a quote left open."""
    lexer = shlex.shlex(code.split("\n", 1)[0], posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as e:
        raise Failure(f"cannot split the command into words: {e}") from None


def is_operator(word):
    return bool(word) and set(word) <= _OPERATOR


def simple_command(all_words):
    """The words of the first simple command (up to the first operator),
    leading `VAR=value` assignments left out: (assignments, argv)."""
    argv = []
    for w in all_words:
        if is_operator(w):
            break
        argv.append(w)
    k = 0
    while k < len(argv) and _ASSIGNMENT.match(argv[k]):
        k += 1
    return argv[:k], argv[k:]


# compose's own options that take a value, and those of `run` and `exec`.
_COMPOSE_VALUED = {"-f", "--file", "-p", "--project-name", "--project-directory", "--env-file",
                   "--profile", "--ansi", "--parallel", "--progress", "-H", "--host"}
_RUN_VALUED = {"-e", "--env", "-l", "--label", "--name", "-p", "--publish", "-u", "--user",
               "-v", "--volume", "-w", "--workdir", "--entrypoint", "--pull", "--cap-add",
               "--cap-drop", "--env-file", "--index"}
# The program a service runs when `compose run SERVICE` gets only flags
# (compose.yaml: the loadgen image's entrypoint, the inbox's `entrypoint:`).
SERVICE_PROGRAMS = {"loadgen": "obslab-loadgen", "inbox": "obslab"}


def _skip_options(argv, k, valued):
    """The index of the first word from k on that is not an option (or the
    value of one that takes a value)."""
    while k < len(argv) and argv[k].startswith("-"):
        k += 2 if argv[k] in valued else 1
    return k


def unwrap_compose(argv):
    """(argv of the program, "docker compose run SERVICE") for a `docker
    compose run|exec` (or docker-compose) of a checked program, else None."""
    if argv[:2] == ["docker", "compose"]:
        k = 2
    elif argv[:1] == ["docker-compose"]:
        k = 1
    else:
        return None
    k = _skip_options(argv, k, _COMPOSE_VALUED)
    if k >= len(argv) or argv[k] not in ("run", "exec"):
        return None
    verb, options_at = argv[k], k + 1
    k = _skip_options(argv, options_at, _RUN_VALUED)
    if k >= len(argv):
        return None
    service, rest = argv[k], argv[k + 1:]
    entrypoint = None
    for i in range(options_at, k):
        if argv[i] == "--entrypoint" and i + 1 < k:
            entrypoint = argv[i + 1]
        elif argv[i].startswith("--entrypoint="):
            entrypoint = argv[i].split("=", 1)[1]
    via = f"docker compose {verb} {service}"
    if entrypoint:
        program = entrypoint.rsplit("/", 1)[-1]
        return ([program] + rest, via) if program in PROGRAMS else None
    if rest and rest[0].rsplit("/", 1)[-1] in PROGRAMS:
        return [rest[0].rsplit("/", 1)[-1]] + rest[1:], via
    if verb == "run" and service in SERVICE_PROGRAMS and (not rest or rest[0].startswith("-")):
        return [SERVICE_PROGRAMS[service]] + rest, via
    return None


_GRAFANA = re.compile(r"\b(?:localhost|127\.0\.0\.1|grafana):3000\b")
_COMPOSE_HOST = re.compile(
    r"\b(?:student-service|server|loadgen|prometheus|alertmanager|inbox):\d+\b")


def help_only_reason(code, via):
    """Why a command is checked against --help instead of run, or None."""
    if via:
        return f"runs in the compose lab ({via})"
    if _GRAFANA.search(code):
        return "needs Grafana, which cannot run here"
    m = _COMPOSE_HOST.search(code)
    if m:
        return f"names {m.group(0)}, an address inside the compose network"
    return None


def shell_commands(lines, first_line):
    """([Command | Export], [(line, problem)]) of a ```sh block."""
    found, problems = [], []
    logical = logical_lines(lines, first_line)
    for i, (line, code) in enumerate(logical):
        if code.startswith("$ "):
            problems.append((line, "no `$` prompt in ```sh blocks: the test runs the line as is"))
            code = code[2:]
        try:
            assignments, argv = simple_command(words(code))
        except Failure as e:
            first = code.split()[0] if code.split() else ""
            if first in PROGRAMS:
                problems.append((line, str(e)))
            continue
        if not argv:
            continue
        if argv[0] == "export":
            found.append(Export(line, [a for a in argv[1:] if "=" in a]))
            continue
        via = None
        unwrapped = unwrap_compose(argv)
        if unwrapped:
            argv, via = unwrapped
        if argv[0] not in PROGRAMS:
            continue
        shown = i + 1 < len(logical) and "$?" in logical[i + 1][1]
        found.append(Command(line, code, argv, argv[0], via, help_only_reason(code, via), shown))
    return found, problems


# --------------------------------------------------------------- rewriting ---

# The compose lab's published ports (compose.yaml), by role.
PUBLISHED = {"server": 5000, "prometheus": 9090, "alertmanager": 9093, "inbox": 9095,
             "student-service": 8000}
_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "secs": 1, "m": 60, "min": 60, "mins": 60,
          "h": 3600, "hr": 3600, "hrs": 3600}
_HUMANTIME = re.compile(r"\s*(?:(\d+(?:\.\d+)?)\s*(ms|secs?|s|mins?|m|hrs?|h)\s*)+")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|secs?|s|mins?|m|hrs?|h)")


def seconds(text):
    """Seconds of a humantime duration (`30s`, `2m`, `1m30s`, `500ms`), or
    None when text is not one."""
    if not _HUMANTIME.fullmatch(text):
        return None
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))


def format_seconds(secs):
    """A humantime spelling of secs, at least 100 ms."""
    ms = max(100, round(secs * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


class Rewriter:
    """A command of the guide as the test runs it.

    urls: {role: base URL of the test's lab}, roles as in PUBLISHED; every
    `localhost:PORT` and `127.0.0.1:PORT` of the compose lab's published
    ports becomes the test's address. For obslab-loadgen, `--duration` is
    capped to `max_seconds` and `--stages` scaled to last at most that."""

    def __init__(self, urls, max_seconds):
        self.max_seconds = max_seconds
        self.addresses = {}
        for role, url in urls.items():
            self.addresses[str(PUBLISHED[role])] = re.sub(r"^\w+://", "", url).rstrip("/")
        ports = "|".join(self.addresses)
        self._url = re.compile(rf"\b(?:localhost|127\.0\.0\.1):({ports})\b")

    def urls(self, text):
        return self._url.sub(lambda m: self.addresses[m.group(1)], text)

    def durations(self, text):
        def duration(m):
            secs = seconds(m.group(3))
            if secs is None or secs <= self.max_seconds:
                return m.group(0)
            return f"{m.group(1)}{m.group(2)}{format_seconds(self.max_seconds)}{m.group(2)}"

        def stages(m):
            parts = [p.split(":", 1) for p in m.group(3).split(",")]
            if any(len(p) != 2 or seconds(p[0]) is None for p in parts):
                return m.group(0)
            total = sum(seconds(d) for d, _ in parts)
            if total <= self.max_seconds:
                return m.group(0)
            scale = self.max_seconds / total
            scaled = ",".join(f"{format_seconds(seconds(d) * scale)}:{r}" for d, r in parts)
            return f"{m.group(1)}{m.group(2)}{scaled}{m.group(2)}"

        text = re.sub(r"(--duration(?:=|\s+))(['\"]?)([0-9][0-9a-z. ]*?)\2(?=\s|$|;|\|)",
                      duration, text)
        return re.sub(r"(--stages(?:=|\s+))(['\"]?)([0-9][^'\"\s]*)\2", stages, text)

    def command(self, cmd):
        """The text of a Command as run: URLs, then durations."""
        text = self.urls(cmd.text)
        return self.durations(text) if cmd.program == "obslab-loadgen" else text


# ------------------------------------------------------------ --help check ---

def flags(argv):
    """The options a command line uses: long ones without their `=value`,
    and short clusters (`-sS`) as they are written."""
    out = []
    for w in argv[1:]:
        if w == "--":
            break
        if w.startswith("--") and len(w) > 2:
            out.append(w.split("=", 1)[0])
        elif w.startswith("-") and len(w) > 1 and not w[1].isdigit():
            out.append(w)
    return out


def _long_in(flag, text):
    name = re.escape(flag[2:])
    negated = flag[2:].startswith("no-") and re.escape(flag[5:])
    pattern = rf"(?<![\w-])--(?:\[no-\])?{name}(?![\w-])"
    if negated:
        pattern += rf"|(?<![\w-])--\[no-\]{negated}(?![\w-])"
    return re.search(pattern, text)


def _short_problems(cluster, text):
    """The letters of a short cluster `-sS` that the help does not list; a
    letter that takes a value (`-XPOST`) ends the cluster."""
    missing = []
    for letter in cluster[1:]:
        m = re.search(rf"(?<![\w-])-{re.escape(letter)}(?![\w-])(.*)$", text, re.M)
        if not m:
            missing.append(f"-{letter}")
            continue
        synopsis = m.group(1).split("  ")[0]
        if "<" in synopsis or "=" in synopsis:
            break  # the rest of the cluster is this option's value
    return missing


def command_path(argv, run_help):
    """(words, help text) of the deepest (sub)command of argv whose --help
    answers: each word that is not an option is tried after the path so far,
    and kept when the help it gives differs (a subcommand) and dropped
    otherwise (an argument, or an option's value).

    run_help(words) -> (exit status, text) runs `PROGRAM WORDS --help`."""
    status, text = run_help([])
    if status != 0:
        raise Failure(f"`{argv[0]} --help` exits {status}")
    path = []
    for w in argv[1:]:
        if w == "--":
            break
        if w.startswith("-"):
            continue
        status, deeper = run_help(path + [w])
        if status == 0 and deeper != text:
            path, text = path + [w], deeper
    return path, text


def check_flags(argv, run_help):
    """(subcommand path, [flags of argv that the --help of that (sub)command
    does not list])."""
    path, text = command_path(argv, run_help)
    missing = []
    for f in flags(argv):
        if f.startswith("--"):
            if not _long_in(f, text):
                missing.append(f)
        else:
            missing += _short_problems(f, text)
    return path, missing
