#!/usr/bin/env python3
"""obslab-loadgen against a server it was not written with (tests/e2e/nginx.sh
runs it): Debian's nginx, started by the harness Lab as the current user on
loopback ports (no system service). The ports are SERVERS below:
  - plain HTTP/1.1;
  - plain h2c (`listen PORT http2;` without ssl: prior knowledge only);
  - TLS with `ssl http2` (ALPN offers h2 and http/1.1), its certificate
    signed by a CA made here with openssl;
  - the same with the self-signed CA:TRUE certificate of the usual openssl
    one-liner (SPEC §8: trusted with --ca-cert, as curl --cacert does), and
    one made by that command for another name (refused).
Every request is logged with `$server_protocol`. Each case of CASES is one
line (name, server, expected protocol, options): the run ends by
--requests, its JSON report must say every request was answered (no error,
nothing dropped, status 200 only), and nginx's access log must hold exactly
one line per answer, each with the expected protocol and a path of the mix;
nginx closes every connection after 100 requests, so reconnections are part
of every run. Each case of REFUSED (no --ca-cert, no --insecure) must exit 2
naming the target and the reason, write no report, before nginx logs any
request. A new case is one line of a table (and, for a new certificate, one
item of SERVERS and one of CERTS). About 10 seconds once built.

Environment: OBSLAB_BIN_DIR (the obslab-loadgen there, else a cargo build),
NGINX (default: nginx from PATH, Debian's /usr/sbin/nginx), E2E_REQUESTS
(requests per case, 300), E2E_KEEP=1 (keep the work directory:
configuration, logs, reports).
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Failure  # noqa: E402  (tests/harness/)
from harness.lab import Lab, binaries, main, require, say  # noqa: E402

MIX = "GET /=3,GET /health=1"
PATHS = ("/", "/health")
OK = 'location / { return 200 "ok\\n"; }'

# The certificates made with openssl before nginx starts: {name: commands},
# each run in the certificates' folder. `ca` signs a leaf for 127.0.0.1 (the
# usual chain); `self` is a self-signed CA:TRUE certificate the server
# presents as itself.
CERTS = {
    "ca": [
        "openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2"
        " -subj '/CN=obslab e2e CA' -keyout ca.key -out ca.pem",
        "openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256"
        " -subj /CN=127.0.0.1 -keyout server.key -out server.csr",
        "printf 'basicConstraints=critical,CA:FALSE\\nsubjectAltName=IP:127.0.0.1\\n' >server.ext",
        "openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
        " -extfile server.ext -out server.pem",
        "openssl verify -CAfile ca.pem server.pem",
    ],
    # The usual one-liner (SPEC §8): self-signed and marked CA:TRUE, which
    # `curl --cacert` accepts, and so must --ca-cert; `other` is the same
    # command for another name.
    "self": [
        "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout self.key -out self.pem",
        "openssl x509 -in self.pem -noout -ext basicConstraints | grep -q CA:TRUE",
    ],
    "other": [
        "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=elsewhere"
        " -addext subjectAltName=DNS:elsewhere.example -keyout other.key -out other.pem",
    ],
}


def tls(cert, key):
    return f"ssl_certificate {{certs}}/{cert}; ssl_certificate_key {{certs}}/{key}; {OK}"


# nginx's ports: {name: (listen options, server block body)}; {certs} is the
# certificates' folder.
SERVERS = {
    "h1": ("", OK),
    "h2c": ("http2", OK),
    "tls": ("ssl http2", tls("server.pem", "server.key")),
    "self": ("ssl http2", tls("self.pem", "self.key")),
    "other": ("ssl http2", tls("other.pem", "other.key")),
}

# The runs that must be answered: name, server, protocol nginx must log
# ("alpn": what ALPN gives, HTTP/2.0 once the client offers h2), options
# ({certs} is the certificates' folder), and whether it needs --http2.
CASES = [
    ("http1", "h1", "HTTP/1.1", "--rate 300", False),
    ("http1-closed", "h1", "HTTP/1.1", "--concurrency 2", False),
    ("tls-ca-cert", "tls", "alpn", "--ca-cert {certs}/ca.pem --rate 300", False),
    ("tls-insecure", "tls", "alpn", "--insecure --concurrency 2", False),
    ("h2c", "h2c", "HTTP/2.0", "--http2 --rate 300", True),
    ("h2c-closed", "h2c", "HTTP/2.0", "--http2 --concurrency 8", True),
    ("h2-tls", "tls", "HTTP/2.0", "--http2 --ca-cert {certs}/ca.pem --concurrency 8", True),
    ("h2-tls-open", "tls", "HTTP/2.0", "--http2 --insecure --rate 300", True),
    ("h1-tls-forced", "tls", "HTTP/1.1", "--http1 --ca-cert {certs}/ca.pem --rate 300", True),
    ("self-signed", "self", "alpn", "--ca-cert {certs}/self.pem --rate 300", False),
    ("self-signed-closed", "self", "alpn", "--ca-cert {certs}/self.pem --concurrency 2", False),
]

# The runs that must be refused: name, server, options, and the reason
# stderr gives on the line "TARGET: TLS certificate not trusted: ...".
REFUSED = [
    ("tls-untrusted", "tls", "", "UnknownIssuer"),
    # The server's own certificate given, but for another name.
    ("self-signed-wrong-name", "other", "--ca-cert {certs}/other.pem",
     'not valid for name "127.0.0.1"'),
    # A self-signed CA:TRUE certificate that is not the one presented is
    # judged as before.
    ("self-signed-other-cert", "self", "--ca-cert {certs}/other.pem", "CaUsedAsEndEntity"),
]


def url(server, port):
    return f"{'https' if 'ssl' in SERVERS[server][0] else 'http'}://127.0.0.1:{port}"


class Nginx:
    def __init__(self, lab, loadgen, certs, requests):
        self.lab, self.loadgen, self.certs, self.requests = lab, loadgen, certs, requests
        self.ports, self.access = lab.nginx({name: (opts, body.replace("{certs}", str(certs)))
                                             for name, (opts, body) in SERVERS.items()},
                                            # Every connection closed after 100 requests
                                            # (HTTP/1.1: "Connection: close" on the 100th
                                            # answer; HTTP/2: GOAWAY), several times a run:
                                            # the counts then also prove reconnecting sends
                                            # nothing twice.
                                            http="keepalive_requests 100;")

    def logged(self, port):
        """The lines of the access log for `port`, so far, split in words."""
        return [line.split() for line in self.access.read_text().splitlines()
                if line.split(" ", 1)[0] == str(port)]

    def run(self, name, target, options):
        """(exit status, report path, stderr path) of one run."""
        report, log = self.lab.work / f"{name}.json", self.lab.work / f"{name}.log"
        argv = [self.loadgen, "--target", target, "--mix", MIX, "--requests",
                str(self.requests), "--progress", "off", "--output", "json",
                *options.replace("{certs}", str(self.certs)).split()]
        with open(report, "wb") as out, open(log, "wb") as err:
            status = subprocess.run(argv, stdout=out, stderr=err).returncode
        return status, report, log

    def case(self, name, server, options, outcome):
        """(port, target, lines logged before, exit status, report, stderr
        path) of one case's run."""
        port = self.ports[server]
        target = url(server, port)
        say(f"{name}: {target} {options} → {outcome}")
        before = len(self.logged(port))
        return (port, target, before, *self.run(name, target, options))

    def answered(self, name, server, protocol, options):
        n = self.requests
        port, _, before, status, report, log = self.case(name, server, options, protocol)
        if status != 0:
            raise Failure(f"{name}: obslab-loadgen exited {status} (see {log.name} below)")
        doc = json.loads(report.read_text())
        errors = sum(doc["errors"].values())
        if (doc["requests"], doc["responses"], doc["dropped"], errors) != (n, n, 0, 0):
            raise Failure(f"{name}: report: requests {doc['requests']}, responses "
                          f"{doc['responses']}, dropped {doc['dropped']}, errors "
                          f"{doc['errors']}; expected {n} answered")
        if doc["status_codes"] != {"200": n}:
            raise Failure(f"{name}: report: status codes {doc['status_codes']}, "
                          "expected 200 only")
        # nginx writes a line once the answer is sent: the last ones may land
        # just after the client has read them.
        self.lab.wait_until(f"{n} lines in nginx's access log for {name}",
                            lambda: len(self.logged(port)) - before >= n, 10, poll=0.2)
        lines = self.logged(port)[before:]
        if len(lines) != n:
            raise Failure(f"{name}: nginx logged {len(lines)} requests, the report says "
                          f"{n} answered")
        wrong = [" ".join(w) for w in lines
                 if w[1] != protocol or w[3] not in PATHS or w[5] != "200"][:3]
        if wrong:
            raise Failure(f"{name}: lines of nginx's log that are not \"{protocol}\" GET / or "
                          f"/health, 200: {wrong}")
        connections = len(Counter(w[6] for w in lines))
        if connections * 100 < len(lines):
            raise Failure(f"{name}: {len(lines)} requests on {connections} connections, "
                          "above nginx's 100 per connection")
        print(f"{name}: {n} answered, nginx logged {len(lines)} lines on {connections} "
              f"connections, every one {protocol}")
        return log

    def refused(self, name, server, options, reason):
        port, target, before, status, report, log = self.case(name, server, options, "refused")
        if status != 2:
            raise Failure(f"{name}: exit status {status}, expected 2 (see {log.name} below)")
        stderr = log.read_text()
        said = [line for line in stderr.splitlines()
                if f"{target}: TLS certificate not trusted:" in line and reason in line]
        if not said:
            raise Failure(f"{name}: stderr does not name the target and \"{reason}\": {stderr}")
        if report.stat().st_size:
            raise Failure(f"{name}: a report was written")
        if len(self.logged(port)) != before:
            raise Failure(f"{name}: nginx logged requests")
        print(f"{name}: exit 2, {said[0]}")


def curl_http2(nginx):
    """The HTTP/2 cases can only fail on the load generator's side if nginx's
    ports speak what they should: curl checks that first."""
    for server, flags in (("h2c", ["--http2-prior-knowledge"]),
                          ("tls", ["--http2", "--cacert", f"{nginx.certs}/ca.pem"]),
                          ("self", ["--http2", "--cacert", f"{nginx.certs}/self.pem"])):
        target = f"{url(server, nginx.ports[server])}/"
        done = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_version}",
                               *flags, target], capture_output=True, text=True)
        if done.returncode != 0:
            raise Failure(f"curl {' '.join(flags)} {target} failed: {done.stderr}")
        if done.stdout != "2":
            raise Failure(f"curl {target}: HTTP/{done.stdout}, not HTTP/2: nginx's "
                          "configuration is wrong")
    print("curl: HTTP/2 with prior knowledge on h2c, by ALPN on tls and on self"
          " (curl --cacert trusts the self-signed CA:TRUE certificate)")


def run():
    require("openssl", "curl")
    requests = int(os.environ.get("E2E_REQUESTS", "300"))
    loadgen = str(binaries("obslab-loadgen") / "obslab-loadgen")
    with Lab("nginx", poll=0.2) as lab:
        say("certificates made with openssl: " + ", ".join(CERTS))
        certs = lab.work / "certs"
        certs.mkdir()
        for name, commands in CERTS.items():
            for command in commands:
                done = subprocess.run(command, shell=True, cwd=certs, capture_output=True,
                                      text=True)
                if done.returncode != 0:
                    raise Failure(f"certificate {name}: `{command}` failed: {done.stderr}")
        say("nginx on 127.0.0.1: " + ", ".join(f"{n} ({o or 'plain'})"
                                                for n, (o, _) in SERVERS.items()))
        nginx = Nginx(lab, loadgen, certs, requests)
        curl_http2(nginx)
        http2 = "--http2" in subprocess.run([loadgen, "--help"], capture_output=True,
                                            text=True).stdout
        logs = {}
        for name, server, protocol, options, needs_http2 in CASES:
            if needs_http2 and not http2:
                say(f"{name} skipped: this obslab-loadgen has no --http2")
                continue
            if protocol == "alpn":
                protocol = "HTTP/2.0" if http2 else "HTTP/1.1"
            logs[name] = nginx.answered(name, server, protocol, options)
        for case in REFUSED:
            nginx.refused(*case)
        if "insecure" not in logs["tls-insecure"].read_text():
            raise Failure("tls-insecure: no --insecure warning on stderr")
    say("nginx agrees with every report")


if __name__ == "__main__":
    sys.exit(main(run))
