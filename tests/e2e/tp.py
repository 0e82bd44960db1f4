"""End-to-end proof of the classroom guide (docs/tp/) on a live lab
(tests/e2e/tp.sh runs it; the conventions are in tests/harness/guide.py and
docs/testing.md):
  1. without a lab: the Markdown reads (promql block flags, check: comments,
     checked programs only in ```sh blocks);
  2. a harness Lab as compose runs it: obslab-server with compose.yaml's
     environment (its admin token), the inbox, Debian's Alertmanager and
     Prometheus with the project's configurations and rules (compose's
     addresses pointed at this lab), and obslab-loadgen with compose.yaml's
     arguments (its rate, the default mix); when Flask and prometheus_client
     import, the compose profile instrumentation too: séance 9's solution
     (docs/tp/fichiers/corrige/service, job student-service) and
     student-loadgen's arguments driving it;
  3. waits (polling) until every target is up and Prometheus holds the
     history the check: comments need (their largest window, at most
     TP_MAX_WINDOW, 5m by default);
  4. every ```promql query parses and returns data (unless its block is
     `promql empty-ok`); every <!-- check: QUERY ≈ VALUE ± TOL --> holds;
  5. every obslab, obslab-loadgen, promtool, amtool and curl line of a ```sh
     block runs in a copy of the repository with the compose URLs pointed at
     this lab and the load generator's durations capped (TP_MAX_DURATION,
     3s), and must exit 0; a line that needs Grafana or the compose network
     is checked against its --help instead; `obslab reset` after each page
     (tp_commands.py).
Every failure is listed as FILE:LINE. By default the guide (docs/tp, when it
exists) and the fixtures of tests/harness/fixtures/tp, whose failures must be
exactly those listed in their expected-failures.txt (FILE:LINE: words of the
message), run on the same lab: the checks prove they fail when they should.

  tp.py                 docs/tp and the fixtures' self-test
  tp.py PATH...         those Markdown files or folders only (relative to
                        the repository), every failure fatal

About 2 minutes once built for the fixtures alone; a guide whose check:
comments use 5m windows waits 5 minutes for its data, then runs its commands
(a few seconds each).

Environment: TP_MAX_WINDOW (default 5m) caps the history waited for;
TP_MAX_DURATION (default 3s) the load generator's --duration and --stages;
TP_INTERRUPT_AFTER (default 15 s) is when a command still running gets
SIGINT, the student's Ctrl-C. OBSLAB_BIN_DIR, PROMETHEUS, PROMTOOL and
ALERTMANAGER as for the other e2e checks; E2E_KEEP=1 keeps the work directory
(logs, TSDB, each command's output in cmd-NNN.log).
"""

import math
import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure, compose, guide, links, promql  # noqa: E402  (tests/harness/)
from harness.lab import ROOT, Lab, binaries, flask_installed, main, require, say  # noqa: E402
from harness.procs import wait_until  # noqa: E402
from harness.prom import Prometheus, values_of  # noqa: E402
from tp_commands import Found, Runner, copy_repo, run_commands, short  # noqa: E402

FIXTURES = "tests/harness/fixtures/tp"


def env_seconds(name, default):
    text = os.environ.get(name, default)
    secs = guide.seconds(text)
    if secs is None:
        raise Failure(f"{name}={text!r} is not a duration")
    return secs


def read_pages(root, paths):
    """[(relative path, Page)] of the Markdown of paths, sorted."""
    root = Path(root).resolve()
    files = links.markdown_files(root, paths)
    return [(f.relative_to(root), guide.read_page(f.read_text(encoding="utf-8"))) for f in files]


def static_problems(pages):
    return sorted((Found(path, line, msg) for path, page in pages for line, msg in page.problems),
                  key=lambda f: (str(f.path), f.line))


def inventory(pages):
    q = sum(len(p.queries) for _, p in pages)
    empty = sum(q.empty_ok for _, p in pages for q in p.queries)
    checks = sum(len(p.checks) for _, p in pages)
    cmds = [c for _, p in pages for c in p.commands if isinstance(c, guide.Command)]
    helps = sum(1 for c in cmds if c.help_only)
    return (f"{len(pages)} page(s): {q} PromQL queries ({empty} may be empty), {checks} checks, "
            f"{len(cmds) - helps} commands to run, {helps} checked against --help")


def static_check(pages, expected):
    """Prints the inventory; fails on the Markdown's problems unless they are
    expected (the fixtures': the run judges them)."""
    print(inventory(pages))
    problems = static_problems(pages)
    if problems and not expected:
        for f in problems:
            print(f"{f.path}:{f.line}: {f.message}")
        raise Failure("the guide's Markdown has problems")


# ----------------------------------------------------------------- compose ---

def compose_server_env(root):
    """What compose.yaml gives the server: {KEY: value}, OBSLAB_LISTEN and
    the values left to the shell out."""
    services = compose.services((Path(root) / "compose.yaml").read_text(encoding="utf-8"))
    return {key: value for key, value in services["server"]["environment"].items()
            if value is not None and key != "OBSLAB_LISTEN"}


def compose_loadgen_args(root):
    """compose.yaml's load generator command without its --target and
    --metrics-listen (the Lab points them at its own pieces)."""
    services = compose.services((Path(root) / "compose.yaml").read_text(encoding="utf-8"))
    args, seen = [], set()
    for arg in services["loadgen"]["command"]:
        name = arg.split("=", 1)[0]
        seen.add(name)
        if name not in ("--target", "--metrics-listen"):
            args.append(arg)
    for needed in ("--target", "--metrics-listen"):
        if needed not in seen:
            raise Failure(f"compose.yaml: the loadgen's command has no {needed}=... to point here")
    return args


def compose_student_loadgen_args(root):
    """compose.yaml's student-loadgen command without its --target (the Lab
    points it at the solution of séance 9)."""
    services = compose.services((Path(root) / "compose.yaml").read_text(encoding="utf-8"))
    args = services["student-loadgen"]["command"]
    if not any(a.startswith("--target=") for a in args):
        raise Failure("compose.yaml: student-loadgen's command has no --target=... to point here")
    return [a for a in args if not a.startswith("--target=")]


# ---------------------------------------------------------------- the wait ---

def history_needed(expr, whole_window):
    """Seconds of samples expr needs before it means what it says: its
    largest offset, plus its largest range window when `whole_window`."""
    spans = {"range": [0], "offset": [0], "step": [0]}
    for kind, text in promql.durations(expr):
        try:
            spans[kind].append(promql.duration_ms(text) / 1000)
        except Failure:
            pass
    return max(spans["offset"]) + (max(spans["range"]) if whole_window else 0)


def wait_for_lab(prom, pages, cap, student=False):
    """Waits until every target is up, traffic flows (to séance 9's service
    too with `student`), and Prometheus holds the history the checks (whole
    windows) and the queries (offsets) need, capped at `cap` seconds."""
    started = time.monotonic()
    wait_until("every Prometheus target up",
               lambda: prom.query("count(up == 1) == count(up) and count(up) >= 5")["result"],
               90, poll=1)
    exprs = ["sum(rate(flask_requests_total[1m])) > 0",
             "sum(rate(loadgen_requests_total[1m])) > 0"]
    if student:
        exprs.append("sum(rate(bibliotheque_http_requests_total[1m])) > 0")
    for expr in exprs:
        wait_until(expr, lambda e=expr: prom.query(e)["result"], 90, poll=1)
    needs = [(history_needed(c.expr, True), f"check {c.expr}")
             for _, p in pages for c in p.checks]
    needs += [(history_needed(q.expr, False), f"query {q.expr}")
              for _, p in pages for q in p.queries]
    need, why = max(needs, default=(0, ""))
    if need > cap:
        print(f"  {why} wants {need:g} s of history; waiting {cap:g} s (TP_MAX_WINDOW)")
        need = cap
    if need > 0:
        # A full window of samples of both targets: rate() over a window
        # that is not full yet extrapolates less and reads low. The load
        # generator starts last, so its series is the shorter one.
        interval = scrape_interval(prom)
        window = promql.format_ms(int(need * 1000))
        samples = math.floor(need / interval)
        print(f"  waiting for {window} of history ({samples} scrapes of the server and "
              "the load generator)")
        wait_until(f"{window} of samples", lambda: prom.query(
            f'min(count_over_time(up{{job=~"obslab-server|obslab-loadgen"}}[{window}])) '
            f'>= {samples}')["result"], need + 120, poll=2)
    print(f"  lab ready after {time.monotonic() - started:.0f} s")


def scrape_interval(prom):
    """The global scrape interval of the running Prometheus, in seconds."""
    config = yaml.safe_load(prom.api("/api/v1/status/config")["data"]["yaml"])
    interval = (config.get("global") or {}).get("scrape_interval")
    return promql.duration_ms(str(interval)) / 1000 if interval else 60


# ------------------------------------------------------- queries and checks ---

def check_query(prom, query):
    """None when the query passes, else why not."""
    try:
        data = prom.query(query.expr)
    except Failure as e:
        return f"Prometheus refuses the query: {e}"
    result = data["result"]
    if data["resultType"] in ("scalar", "string"):
        return None
    if not result:
        return None if query.empty_ok else \
            "returns nothing (a block whose queries may be empty is ```promql empty-ok)"
    if not query.empty_ok and not any(math.isfinite(v) for v in values_of(result)):
        return "returns only NaN or Inf"
    return None


def check_value(prom, check):
    """(value or None, None when the check passes else why not)."""
    try:
        data = prom.query(check.expr)
    except Failure as e:
        return None, f"Prometheus refuses the query: {e}"
    if data["resultType"] == "scalar":
        value = float(data["result"][1])
    elif data["resultType"] == "vector":
        if len(data["result"]) != 1:
            return None, (f"returns {len(data['result'])} series; a check needs exactly one "
                          "(aggregate it, e.g. sum(...))")
        value = float(data["result"][0]["value"][1])
    else:
        return None, f"returns a {data['resultType']}, not one number"
    if not math.isfinite(value):
        return value, f"is {value}"
    if abs(value - check.value) > check.tolerance:
        return value, (f"is {value:.6g} on the live lab, not {check.value:g} ± {check.tolerance:g} "
                       f"(off by {abs(value - check.value):.4g})")
    return value, None


def run_guide(args, pages):
    """Every query, check and command of `pages` on the live lab of `args`;
    the exit status of the verdict."""
    root = ROOT
    found = static_problems(pages)
    prom = Prometheus(args.prometheus)
    urls = {"server": args.server, "prometheus": args.prometheus,
            "alertmanager": args.alertmanager, "inbox": args.inbox}
    if args.student_service:
        urls["student-service"] = args.student_service
    rewriter = guide.Rewriter(urls, env_seconds("TP_MAX_DURATION", "3s"))

    print("\n== waiting for the lab")
    wait_for_lab(prom, pages, env_seconds("TP_MAX_WINDOW", "5m"), args.student)

    print("\n== PromQL queries and check: comments, on the calm lab")
    for path, page in pages:
        for q in page.queries:
            why = check_query(prom, q)
            tag = " (empty-ok)" if q.empty_ok else ""
            print(f"  {'ok  ' if not why else 'FAIL'} {path}:{q.line}{tag}  {short(q.expr, 80)}")
            if why:
                found.append(Found(path, q.line, f"{why}: {short(q.expr)}"))
        for c in page.checks:
            value, why = check_value(prom, c)
            shown = "no value" if value is None else f"{value:.6g}"
            print(f"  {'ok  ' if not why else 'FAIL'} {path}:{c.line}  {short(c.expr, 60)} = "
                  f"{shown} (≈ {c.value:g} ± {c.tolerance:g})")
            if why:
                found.append(Found(path, c.line, f"check: {short(c.expr)} {why}"))

    print("\n== commands (`obslab reset` after each page's)")
    runner = Runner(args, rewriter, copy_repo(root, Path(args.work) / "repo"),
                    env_seconds("TP_INTERRUPT_AFTER", "15s"))
    for path, page in pages:
        run_commands(runner, path, page, found)
    return verdict(found, args.expect, root)


def read_expectations(path, root):
    """[(path, line, words)] of an --expect file: `FILE:LINE: words`."""
    out = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        m = re.fullmatch(r"([^:]+):(\d+):\s*(.+)", raw)
        if not m:
            raise Failure(f"{path}:{n}: expected `FILE:LINE: words`")
        out.append((Path(m.group(1)), int(m.group(2)), m.group(3)))
    return out


def verdict(found, expect, root):
    found = sorted(found, key=lambda f: (str(f.path), f.line))
    if not expect:
        if found:
            print(f"\nFAILED: {len(found)} problem(s) in the guide:")
            for f in found:
                print(f"  {f.path}:{f.line}: {f.message}")
            return 1
        print("\nok: every query, check and command of the guide holds on the live lab")
        return 0
    expected = read_expectations(expect, root)
    unexpected = [f for f in found if not any(
        f.path == p and f.line == n and w in f.message for p, n, w in expected)]
    missing = [(p, n, w) for p, n, w in expected if not any(
        f.path == p and f.line == n and w in f.message for f in found)]
    print(f"\n{len(found)} failure(s) found, {len(expected)} expected ({expect}):")
    for f in found:
        print(f"  {'expected  ' if f not in unexpected else 'UNEXPECTED'} "
              f"{f.path}:{f.line}: {f.message.splitlines()[0]}")
    for p, n, w in missing:
        print(f"  MISSING    {p}:{n}: no failure saying {w!r}")
    if unexpected or missing:
        print("FAILED: the failures are not the expected ones")
        return 1
    print("ok: exactly the expected failures")
    return 0


def run(paths):
    require(os.environ.get("PROMETHEUS", "prometheus"), os.environ.get("PROMTOOL", "promtool"),
            os.environ.get("ALERTMANAGER", "prometheus-alertmanager"), "amtool", "curl")
    expect = None
    if not paths:
        if (ROOT / "docs/tp").is_dir():
            paths.append("docs/tp")
        else:
            print("docs/tp/ does not exist yet: only the fixtures' self-test runs")
        paths.append(FIXTURES)
        expect = ROOT / FIXTURES / "expected-failures.txt"
    for path in paths:
        if not (ROOT / path).exists():
            raise Failure(f"no {path} in {ROOT}")
    say(f"the guide's Markdown, without a lab: {' '.join(paths)}")
    pages = read_pages(ROOT, paths)
    static_check(pages, expect)
    with Lab("tp", binaries()) as lab:
        server_env = compose_server_env(ROOT)
        token = server_env.get("OBSLAB_ADMIN_TOKEN")
        if not token:
            raise Failure("compose.yaml gives the server no OBSLAB_ADMIN_TOKEN")
        loadgen_args = compose_loadgen_args(ROOT)
        student_args = compose_student_loadgen_args(ROOT) if flask_installed() else None
        say("the lab on 127.0.0.1: server (compose.yaml's environment: "
            f"{' '.join(server_env)}), inbox, Alertmanager, Prometheus, "
            f"obslab-loadgen {' '.join(loadgen_args)} (compose.yaml's command)")
        if student_args is None:
            print("  Flask or prometheus_client does not import: séance 9's service does not "
                  "run, its queries find nothing (pip install flask prometheus_client)")
        else:
            print("  and the profile instrumentation: séance 9's solution, student-loadgen "
                  + " ".join(student_args))
        pieces = lab.whole(server_env=server_env, loadgen_args=loadgen_args,
                           student_loadgen_args=student_args)
        print("  " + ", ".join(f"{name} {s.addr}" for name, s in pieces.items()))

        say("the guide on the live lab")
        args = SimpleNamespace(bin=str(lab.bin), work=str(lab.work), token=token,
                               **{name: pieces[name].url for name in
                                  ("server", "prometheus", "alertmanager", "inbox")},
                               expect=expect, student=student_args is not None,
                               student_service=pieces.get("student-service") and
                               pieces["student-service"].url)
        if run_guide(args, pages) != 0:
            raise Failure("the guide does not hold on the live lab (FILE:LINE above)")
        lab.alive()
    say("guide: ok")


if __name__ == "__main__":
    sys.exit(main(lambda: run(sys.argv[1:])))
