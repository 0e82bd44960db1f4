#!/usr/bin/env python3
"""End-to-end proof of `obslab-loadgen --html` in a real browser
(tests/e2e/html-report.sh runs it): a short run against obslab-server on
127.0.0.1 (a harness Lab) writes the page, then Debian's headless Chromium
  1. parses it (--dump-dom): the three charts' <svg> elements, with their
     lines, and every section are in the DOM;
  2. logs no console message (--enable-logging=stderr prints each one as a
     CONSOLE line; a control page with a console error proves the check
     sees one);
  3. takes a screenshot (1280x2400), kept as a file for people to look at.
About 20 seconds once built.

Environment: OBSLAB_BIN_DIR (the binaries, else a cargo build), CHROMIUM
(default: chromium, Debian's package), HTML_REPORT_OUT (where to keep the
page and the screenshot; default: target/e2e/ of the repository), E2E_KEEP=1
(keep the work directory: logs, DOM).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure  # noqa: E402  (tests/harness/)
from harness.lab import ROOT, Lab, binaries, main, require, say  # noqa: E402

SECTIONS = ("figures", "spectrum", "rates", "latency", "statuses", "endpoints", "settings")


def browse(lab, chromium, log, *args):
    """Headless Chromium (as root it needs --no-sandbox; its own profile
    directory keeps the user's out of it); stderr to `log`. Its exit status
    and stdout."""
    with open(log, "wb") as err:
        done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                               "--no-first-run", f"--user-data-dir={lab.work / 'chromium'}",
                               "--enable-logging=stderr", "--v=0", *args],
                              stdout=subprocess.PIPE, stderr=err, timeout=120)
    return done.returncode, done.stdout.decode(errors="replace")


def lines(dom, section):
    """Series drawn 2 or 3 wide (the grid 1), with more than the two points
    of a legend's stroke."""
    part = dom.split(f'<section id="{section}">')[1].split("</section>")[0]
    return len(re.findall(r'<polyline [^>]*stroke-width="[23]" points="(?:\d+,\d+ ){3}', part))


def run():
    chromium = os.environ.get("CHROMIUM", "chromium")
    require(chromium)
    out = Path(os.environ.get("HTML_REPORT_OUT", ROOT / "target/e2e"))
    out.mkdir(parents=True, exist_ok=True)
    with Lab("html-report", binaries("obslab-server", "obslab-loadgen")) as lab:
        say("obslab-server on 127.0.0.1 and a 6-second run with --html")
        server = lab.server(ready="/livez")
        page = out / "html-report.html"
        with open(lab.work / "report.json", "wb") as report, \
                open(lab.work / "loadgen.log", "wb") as log:
            status = subprocess.run([lab.exe("obslab-loadgen"), "--target", server.url,
                                     "--rate", "100", "--duration", "6s", "--progress", "off",
                                     "--threshold", "p99<5s", "--html", page, "--output",
                                     "json"], stdout=report, stderr=log).returncode
        if status != 0:
            raise Failure(f"the run failed (exit {status})")
        if not page.is_file() or not page.stat().st_size:
            raise Failure(f"no page at {page}")
        print(f"page: {page.stat().st_size} bytes")

        say("Chromium parses it: the charts and sections are in the DOM")
        status, dom = browse(lab, chromium, lab.work / "dom.log", "--dump-dom", f"file://{page}")
        if status != 0:
            raise Failure("chromium --dump-dom failed")
        (lab.work / "dom.html").write_text(dom)
        svgs = dom.count("<svg")
        if svgs != 3:
            raise Failure(f"{svgs} <svg> elements in the DOM, not 3 (the spectrum, rates, "
                          "latency)")
        for section in SECTIONS:
            if f'id="{section}"' not in dom:
                raise Failure(f"no element #{section} in the DOM")
        # In the spectrum, all requests and each endpoint that answered;
        # sent, answered and no answer; p50 and p99 (a second without an
        # answer may break those in pieces).
        report = json.loads((lab.work / "report.json").read_text())
        answered = sum(e["responses"] > 0 for e in report["endpoints"])
        counts = lines(dom, "spectrum"), lines(dom, "rates"), lines(dom, "latency")
        if counts[0] != answered + 1 or counts[1] != 3 or counts[2] < 2:
            raise Failure(f"a chart misses lines: drawn (spectrum, rates, latency) {counts}, "
                          f"not ({answered + 1}, 3, >= 2)")
        print(f"{svgs} charts, {sum(counts)} lines")

        say("no console message")
        logged = [line for line in (lab.work / "dom.log").read_text(errors="replace")
                  .splitlines() if "CONSOLE" in line or "Uncaught" in line]
        if logged:
            raise Failure("Chromium logged console messages for the page:\n" + "\n".join(logged))
        # The check itself: a page with a console error is caught.
        control = lab.work / "control.html"
        control.write_text('<!DOCTYPE html><title>control</title>'
                           '<script>console.error("control error")</script>\n')
        browse(lab, chromium, lab.work / "control.log", "--dump-dom", f"file://{control}")
        if not re.search(r"CONSOLE.*control error", (lab.work / "control.log").read_text(
                errors="replace")):
            raise Failure("the console check does not see a console error (see control.log)")

        say("a screenshot, kept")
        shot = out / "html-report.png"
        shot.unlink(missing_ok=True)
        status, _ = browse(lab, chromium, lab.work / "shot.log", "--hide-scrollbars",
                           f"--screenshot={shot}", "--window-size=1280,2400", f"file://{page}")
        if status != 0:
            raise Failure("chromium --screenshot failed")
        if shot.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            raise Failure(f"{shot} is not a PNG")
        size = shot.stat().st_size
        if size <= 50000:
            raise Failure(f"{shot} is only {size} bytes: an empty page?")
        print(f"screenshot: {shot} ({size} bytes)")
    say("the HTML report renders in Chromium")


if __name__ == "__main__":
    sys.exit(main(run))
