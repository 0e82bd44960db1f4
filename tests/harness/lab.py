"""The one orchestrator of the end-to-end tests: a lab on 127.0.0.1.

    with Lab("doctor") as lab:
        server = lab.server()                  # --listen 127.0.0.1:0, read back
        inbox = lab.inbox()
        am = lab.alertmanager(inbox)           # the project's alertmanager.yml
        prom = lab.prometheus({"obslab-server": server.addr, ...}, alertmanager=am)
        env = lab.obslab_env(server, prom, am, inbox)
        lab.obslab("doctor", env=env, check=True)   # the real CLI, on this lab

    `lab.whole()` starts all of them as compose does, the load generator last.

A `Lab` owns a work directory (removed on exit unless E2E_KEEP=1), starts
every process with its log in WORK/NAME.log, stops them all (last started
first) on exit, and when the block ends by an exception prints the last lines
(E2E_LOG_LINES, 20) of every log. Ports are read back from a `:0` bind where
the program logs what it bound (obslab-server, obslab inbox), else picked
free (`free_port`). Configurations are the project's, written through
harness.promconfig. `main(run)` is the scripts' entry: FAILED: and exit 1 on
a Failure. The binaries are OBSLAB_BIN_DIR's, else built by cargo
(OBSLAB_E2E_PROFILE, debug by default).
"""

import grp
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import namedtuple
from pathlib import Path

from . import Failure, procs, promconfig

ROOT = Path(__file__).resolve().parents[2]

# A started piece of the lab: its process, host:port and base URL.
Service = namedtuple("Service", "proc addr url")

_PACKAGES = {"obslab": "obslab-lab"}

# Séance 9 of the TP: the Flask service students instrument, and its solution.
STUDENT_SKELETON = ROOT / "docs/tp/fichiers/service"
STUDENT_SOLUTION = ROOT / "docs/tp/fichiers/corrige/service"


def flask_installed():
    """Whether Flask and prometheus_client import here (the service of
    séance 9: `pip install flask prometheus_client`)."""
    return all(importlib.util.find_spec(m) for m in ("flask", "prometheus_client"))


def say(message, started=[time.monotonic()]):  # noqa: B006 (the script's start)
    print(f"\n== {message} ({time.monotonic() - started[0]:.0f}s)", flush=True)


def require(*tools):
    """Fails naming the first tool missing from PATH."""
    for tool in tools:
        if not shutil.which(tool):
            raise Failure(f"{tool} not found (Debian: apt-get install prometheus "
                          "prometheus-alertmanager nginx chromium curl)")


def binaries(*wanted):
    """The folder of the binaries `wanted`: OBSLAB_BIN_DIR, else a cargo build."""
    wanted = wanted or ("obslab-server", "obslab-loadgen", "obslab")
    if os.environ.get("OBSLAB_BIN_DIR"):
        folder = Path(os.environ["OBSLAB_BIN_DIR"])
    else:
        profile = os.environ.get("OBSLAB_E2E_PROFILE", "debug")
        say(f"building {' '.join(wanted)} ({profile})")
        flags = ["--release"] if profile == "release" else []
        for want in wanted:
            flags += ["-p", _PACKAGES.get(want, want)]
        subprocess.run(["cargo", "build", "--quiet", *flags], cwd=ROOT, check=True)
        folder = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / profile
    for want in wanted:
        if not os.access(folder / want, os.X_OK):
            raise Failure(f"no {want} in {folder}")
    return folder.resolve()


def bundle(*args, check=True):
    """(exit status, output) of tests/bundle/bundle.py ARGS; with `check`,
    its output printed and a non-zero exit a Failure."""
    done = subprocess.run([sys.executable, str(ROOT / "tests/bundle/bundle.py"),
                           *map(str, args)], capture_output=True, text=True)
    if check:
        print(done.stdout + done.stderr, end="", flush=True)
        if done.returncode != 0:
            raise Failure(f"bundle.py {args[0]} failed")
    return done.returncode, done.stdout + done.stderr


def http_ok(url, timeout=5):
    """Whether GET url answers 2xx."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return 200 <= resp.status < 300


class Lab:
    def __init__(self, name, bin_dir=None, poll=0.5, keep_env=True):
        self.name = name
        self.keep = None if keep_env else False  # E2E_KEEP=1 keeps the directory
        self.bin = bin_dir
        self.poll = poll
        self.procs = []
        self.work = None
        self._workdir = None

    # -------------------------------------------------------- the context ---

    def __enter__(self):
        self._workdir = procs.workdir(self.name, self.keep)
        self.work = self._workdir.__enter__()
        return self

    def __exit__(self, kind, exc, tb):
        # All told at once, then waited for: servers drain for a while.
        for proc in reversed(self.procs):
            proc.signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            proc.stop()
        if exc is not None:
            lines = int(os.environ.get("E2E_LOG_LINES", "20"))
            for log in sorted(self.work.glob("*.log")):
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
                print(f"\n---- last lines of {log.name}\n{tail}", file=sys.stderr)
        self._workdir.__exit__(kind, exc, tb)
        return False

    # ---------------------------------------------------------- processes ---

    def start(self, name, argv, env=None, **kwargs):
        """A process of the lab (procs.start), stopped when the lab ends."""
        proc = procs.start(name, argv, self.work, env=env, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        """Stops one process now (SIGTERM); it leaves the lab."""
        proc.stop()
        self.procs.remove(proc)

    def alive(self):
        """Fails at once naming a process of the lab that has exited."""
        for proc in self.procs:
            if not proc.alive():
                raise Failure(f"{proc.name} exited with status {proc.returncode()} "
                              f"(see {proc.log_path.name} below)")

    def wait_until(self, what, check, timeout, poll=None):
        """procs.wait_until, failing at once when a process of the lab exits."""
        return procs.wait_until(what, check, timeout, poll=poll or self.poll, procs=self.procs)

    def wait_http(self, what, url, timeout=30):
        return self.wait_until(what, lambda: http_ok(url), timeout)

    def exe(self, name):
        if self.bin is None:
            self.bin = binaries()
        return str(Path(self.bin) / name)

    # ------------------------------------------------------------- pieces ---

    def server(self, name="server", args=(), env=None, ready="/readyz"):
        """obslab-server on 127.0.0.1:0 (JSON log, read back), ready."""
        proc = self.start(name, [self.exe("obslab-server"), "--listen", "127.0.0.1:0",
                                 "--log-format", "json", *args], env=env)
        addr = self.wait_until(f"{name}'s listen address in its log",
                               lambda: procs.listen_address(proc.log()), 15, poll=0.1)
        url = f"http://{addr}"
        if ready:
            self.wait_http(f"{name} {ready}", url + ready, 30)
        return Service(proc, addr, url)

    def inbox(self, name="inbox"):
        """`obslab inbox` on 127.0.0.1:0 (read back from its log), live."""
        proc = self.start(name, [self.exe("obslab"), "inbox", "--listen", "127.0.0.1:0"])
        addr = self.wait_until(f"{name}'s listen address in its log",
                               lambda: procs.listen_address(proc.log()), 15, poll=0.1)
        url = f"http://{addr}"
        self.wait_http(f"{name} /livez", url + "/livez", 15)
        return Service(proc, addr, url)

    def loadgen(self, target, args=(), name="loadgen", metrics=None, wait=True):
        """obslab-loadgen against `target` with its metrics on `metrics` (a
        free port by default: it does not log the address it bound)."""
        metrics = metrics or f"127.0.0.1:{procs.free_port()}"
        proc = self.start(name, [self.exe("obslab-loadgen"), "--target", target,
                                 "--metrics-listen", metrics, *args])
        url = f"http://{metrics}"
        if wait:
            self.wait_http(f"{name} /metrics", url + "/metrics", 30)
        return Service(proc, metrics, url)

    def student_service(self, folder=STUDENT_SOLUTION, name="student-service"):
        """The Flask service of séance 9 of the TP (`python3 app.py` in
        `folder`: the solution by default, the skeleton with
        STUDENT_SKELETON) on a free 127.0.0.1 port, its home page answering."""
        port = procs.free_port()
        proc = self.start(name, [sys.executable, "app.py"], cwd=folder,
                          env={"HOST": "127.0.0.1", "PORT": str(port),
                               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"})
        url = f"http://127.0.0.1:{port}"
        self.wait_http(f"{name} /", url + "/", 30)
        return Service(proc, f"127.0.0.1:{port}", url)

    def alertmanager(self, inbox, speed=1, name="alertmanager"):
        """Alertmanager (ALERTMANAGER, Debian's prometheus-alertmanager)
        running the project's alertmanager.yml pointed at `inbox`, ready."""
        exe = os.environ.get("ALERTMANAGER", "prometheus-alertmanager")
        config = self.work / "alertmanager.yml"
        config.write_text(promconfig.alertmanager_config(
            (ROOT / "alertmanager/alertmanager.yml").read_text(encoding="utf-8"),
            inbox.url, speed), encoding="utf-8")
        addr = f"127.0.0.1:{procs.free_port()}"
        proc = self.start(name, [exe, f"--config.file={config}",
                                 f"--storage.path={self.work / 'alertmanager'}",
                                 f"--web.listen-address={addr}", "--cluster.listen-address="])
        url = f"http://{addr}"
        self.wait_http("Alertmanager /-/ready", url + "/-/ready", 30)
        return Service(proc, addr, url)

    def prometheus(self, jobs, alertmanager=None, rules=None, global_=None, name="prometheus"):
        """Prometheus (PROMETHEUS) running the project's prometheus.yml with
        `jobs` ({job: address or [addresses]}; its own job added) pointed at
        this lab, the rules of `rules` (default: prometheus/rules), checked
        by promtool first; ready. The optional job student-service has no
        target unless `jobs` gives it one, as in compose without its profile."""
        exe = os.environ.get("PROMETHEUS", "prometheus")
        folder = self.work / "prometheus"
        (folder / "rules").mkdir(parents=True, exist_ok=True)
        for path in sorted(Path(rules or ROOT / "prometheus/rules").glob("*.yml")):
            shutil.copy(path, folder / "rules" / path.name)
        addr = f"127.0.0.1:{procs.free_port()}"
        config = folder / "prometheus.yml"
        config.write_text(promconfig.local_config(
            (ROOT / "prometheus/prometheus.yml").read_text(encoding="utf-8"),
            {"prometheus": addr, "student-service": [], **jobs},
            alertmanager and alertmanager.addr, global_),
            encoding="utf-8")
        check = subprocess.run([os.environ.get("PROMTOOL", "promtool"), "check", "config",
                                str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise Failure(f"promtool check config {config}:\n{check.stdout}{check.stderr}")
        proc = self.start(name, [exe, f"--config.file={config}",
                                 f"--storage.tsdb.path={self.work / 'tsdb'}",
                                 f"--web.listen-address={addr}"])
        url = f"http://{addr}"
        self.wait_http("Prometheus /-/ready", url + "/-/ready", 60)
        return Service(proc, addr, url)

    def nginx(self, servers, http=""):
        """Debian's nginx (NGINX, default nginx) as the current user, its
        prefix, pid file, logs and temp directories in the work directory;
        one `server` block per item of `servers` ({name: (listen options,
        server block body)}) on a free port, every request logged to
        nginx/logs/access.log as `$server_port $server_protocol "$request"
        $status $connection`; `http` goes in the http block. Returns
        ({name: port}, the access log's path) once every port accepts."""
        exe = shutil.which(os.environ.get("NGINX", "nginx"),
                           path=f"{os.environ.get('PATH', '')}:/usr/sbin")
        if not exe:
            raise Failure("nginx not found (Debian: apt-get install nginx)")
        ngx = self.work / "nginx"
        (ngx / "logs").mkdir(parents=True, exist_ok=True)
        (ngx / "tmp").mkdir(exist_ok=True)
        ports = {name: procs.free_port() for name in servers}
        blocks = "".join(f"    server {{\n        listen 127.0.0.1:{ports[name]}{' ' + opts if opts else ''};\n"
                         f"        {body}\n    }}\n" for name, (opts, body) in servers.items())
        # As root, the master would hand the workers to `nobody`, who cannot
        # write the temp directories here: keep them the current user's.
        user = ""
        if os.getuid() == 0:
            user = (f"user {pwd.getpwuid(os.getuid()).pw_name} "
                    f"{grp.getgrgid(os.getgid()).gr_name};")
        temp = "".join(f"    {kind}_temp_path {ngx}/tmp/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        access = ngx / "logs" / "access.log"
        (ngx / "nginx.conf").write_text(f"""{user}
worker_processes 1;
pid {ngx}/nginx.pid;
error_log {ngx}/logs/error.log info;
events {{ worker_connections 1024; }}
http {{
{temp}    log_format e2e '$server_port $server_protocol "$request" $status $connection';
    access_log {access} e2e;
    default_type text/plain;
    {http}
{blocks}}}
""", encoding="utf-8")
        argv = [exe, "-p", ngx, "-c", ngx / "nginx.conf", "-e", ngx / "logs" / "error.log"]
        test = subprocess.run([*map(str, argv), "-t"], capture_output=True, text=True)
        if test.returncode != 0:
            raise Failure(f"nginx -t refused the configuration: {test.stdout}{test.stderr}")
        self.start("nginx", [*argv, "-g", "daemon off;"])
        for name, port in ports.items():
            self.wait_until(f"nginx's {name} port {port}", lambda p=port: _accepts(p), 10,
                            poll=0.2)
        access.touch()
        return ports, access

    def whole(self, server_args=(), server_env=None, loadgen_args=(), student_loadgen_args=None):
        """The compose lab on 127.0.0.1: server, inbox, Alertmanager,
        Prometheus (every job pointed here), and the load generator last;
        with `student_loadgen_args` (a list), the profile `instrumentation`
        too: the solution of séance 9 (job student-service) and a load
        generator with those arguments driving it. {piece: Service}."""
        server = self.server(args=server_args, env=server_env)
        inbox = self.inbox()
        am = self.alertmanager(inbox)
        loadgen_addr = f"127.0.0.1:{procs.free_port()}"
        jobs = {"obslab-server": server.addr, "obslab-loadgen": loadgen_addr,
                "obslab-inbox": inbox.addr}
        pieces = {"server": server, "inbox": inbox, "alertmanager": am}
        if student_loadgen_args is not None:
            pieces["student-service"] = self.student_service()
            jobs["student-service"] = pieces["student-service"].addr
        pieces["prometheus"] = self.prometheus(jobs, alertmanager=am)
        if student_loadgen_args is not None:
            pieces["student-loadgen"] = self.loadgen(pieces["student-service"].url,
                                                     student_loadgen_args, name="student-loadgen")
        pieces["loadgen"] = self.loadgen(server.url, loadgen_args, metrics=loadgen_addr)
        return pieces

    # ----------------------------------------------------------- the CLI ---

    def obslab_env(self, server=None, prometheus=None, alertmanager=None, inbox=None,
                   token=None, **_):
        """The environment `obslab` reads, pointed at these pieces (`off`
        for those not given; Grafana always off: it cannot run here);
        `lab.obslab_env(**lab.whole())` points it at the whole lab."""
        env = {"OBSLAB_URL": server.url if server else "off",
               "OBSLAB_PROMETHEUS_URL": prometheus.url if prometheus else "off",
               "OBSLAB_ALERTMANAGER_URL": alertmanager.url if alertmanager else "off",
               "OBSLAB_INBOX_URL": inbox.url if inbox else "off",
               "OBSLAB_GRAFANA_URL": "off"}
        if token:
            env["OBSLAB_ADMIN_TOKEN"] = token
        return env

    def obslab(self, *args, env=None, check=False, timeout=60):
        """(exit status, stdout + stderr) of the real `obslab ARGS` with `env`
        added; with `check`, a non-zero exit fails naming the command."""
        done = subprocess.run([self.exe("obslab"), *args], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        output = done.stdout + done.stderr
        if check and done.returncode != 0:
            raise Failure(f"obslab {' '.join(args)} exited {done.returncode}:\n{output}")
        return done.returncode, output


def _accepts(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def main(run):
    """Runs run() as a script: FAILED: MESSAGE and exit 1 on a Failure."""
    try:
        run()
    except (Failure, OSError, subprocess.CalledProcessError) as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        return 1
    return 0
