#!/usr/bin/env bash
# End-to-end proof of `obslab-loadgen --html` in a real browser: a short run
# against obslab-server on 127.0.0.1 writes the page, then Debian's headless
# Chromium
#   1. parses it (--dump-dom): the three charts' <svg> elements, with their
#      lines, and every section are in the DOM;
#   2. logs no console message (--enable-logging=stderr prints each one as a
#      CONSOLE line; a control page with a console error proves the check
#      sees one);
#   3. takes a screenshot (1280x2400), kept as a file for people to look at.
# About 20 seconds once built.
#
# Environment:
#   OBSLAB_BIN_DIR       use the binaries there instead of building them
#   CHROMIUM             the browser (default: chromium, Debian's package)
#   HTML_REPORT_OUT      where to keep the page and the screenshot
#                        (default: target/e2e/ of the repository)
#   E2E_KEEP=1           keep the temporary directory (logs, DOM)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
chromium=${CHROMIUM:-chromium}
out=${HTML_REPORT_OUT:-$root/target/e2e}

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
require "$chromium" curl python3
e2e_init html-report
find_binaries obslab-server obslab-loadgen
mkdir -p "$out"

# Headless Chromium as root needs --no-sandbox; its own profile directory
# keeps the user's out of it. $1: a log file; the rest: Chromium's options.
browse() {
    local log=$1
    shift
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$work/chromium" --enable-logging=stderr --v=0 "$@" 2>"$log"
}

say "obslab-server on 127.0.0.1 and a 6-second run with --html"
port=$(free_port)
start server "$bin/obslab-server" --listen "127.0.0.1:$port"
wait_until 30 "obslab-server to answer" curl -fsS "http://127.0.0.1:$port/livez"
page=$out/html-report.html
"$bin/obslab-loadgen" --target "http://127.0.0.1:$port" --rate 100 --duration 6s \
    --progress off --threshold 'p99<5s' --html "$page" --output json \
    >"$work/report.json" 2>"$work/loadgen.log" || die "the run failed (exit $?)"
[[ -s $page ]] || die "no page at $page"
echo "page: $(wc -c <"$page") bytes"

say "Chromium parses it: the charts and sections are in the DOM"
browse "$work/dom.log" --dump-dom "file://$page" >"$work/dom.html" || die "chromium --dump-dom failed"
svgs=$(grep -o '<svg' "$work/dom.html" | wc -l)
((svgs == 3)) || die "$svgs <svg> elements in the DOM, not 3 (the spectrum, rates, latency)"
for id in figures spectrum rates latency statuses endpoints settings; do
    grep -q "id=\"$id\"" "$work/dom.html" || die "no element #$id in the DOM"
done
# Series are drawn 2 or 3 wide (the grid 1), with more than the two points
# of a legend's stroke: in the spectrum, all requests and each endpoint that
# answered; sent, answered and no answer; p50 and p99 (a second without an
# answer may break those in pieces).
series=$(python3 - "$work/dom.html" "$work/report.json" <<'PY'
import json, re, sys
dom, report = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
def lines(section):
    part = dom.split(f'<section id="{section}">')[1].split("</section>")[0]
    return len(re.findall(r'<polyline [^>]*stroke-width="[23]" points="(?:\d+,\d+ ){3}', part))
answered = sum(e["responses"] > 0 for e in report["endpoints"])
counts = lines("spectrum"), lines("rates"), lines("latency")
if counts[0] != answered + 1 or counts[1] != 3 or counts[2] < 2:
    sys.exit(f"lines drawn (spectrum, rates, latency): {counts}, not ({answered + 1}, 3, >= 2)")
print(sum(counts))
PY
) || die "a chart misses lines"
echo "$svgs charts, $series lines"

say "no console message"
if grep -E 'CONSOLE|Uncaught' "$work/dom.log"; then
    die "Chromium logged console messages for the page"
fi
# The check itself: a page with a console error is caught.
printf '<!DOCTYPE html><title>control</title><script>console.error("control error")</script>\n' \
    >"$work/control.html"
browse "$work/control.log" --dump-dom "file://$work/control.html" >/dev/null || true
grep -q 'CONSOLE.*control error' "$work/control.log" \
    || die "the console check does not see a console error (see $work/control.log)"

say "a screenshot, kept"
shot=$out/html-report.png
rm -f "$shot"
browse "$work/shot.log" --hide-scrollbars --screenshot="$shot" --window-size=1280,2400 \
    "file://$page" || die "chromium --screenshot failed"
[[ $(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || die "$shot is not a PNG"
size=$(wc -c <"$shot")
((size > 50000)) || die "$shot is only $size bytes: an empty page?"
echo "screenshot: $shot ($size bytes)"

say "the HTML report renders in Chromium"
