#!/usr/bin/env bash
# End-to-end proof of the container path: the Dockerfile and compose.yaml, on
# this machine's Docker engine, which has no registry to pull from.
#
#   1. local stand-ins for the official base images (.ci/images.sh), passed
#      through the compose variables RUST_IMAGE, RUNTIME_IMAGE, PROMETHEUS_IMAGE;
#   2. both app images built by compose from the Dockerfile; their size, user,
#      health check and labels checked;
#   3. server + loadgen + prometheus + alertmanager + inbox up with the
#      project's compose.yaml (a project name of its own, ports on random
#      loopback ports), all healthy; Prometheus has discovered Alertmanager;
#   4. Prometheus: every target up, scraped every 5 s (tests/e2e/containers.py),
#      rules loaded and healthy, every dashboard query returning data
#      (tests/bundle/bundle.py);
#   5. `up --scale loadgen=3`: Prometheus scrapes three load generators,
#      found by DNS, and one again once scaled back;
#      `compose run --rm loadgen --target ...` (the README's command) works;
#   6. faults survived: Prometheus recreated keeps its samples (named volume
#      prometheus-data); the server's process SIGKILLed from the host, as the
#      kernel's OOM killer would, is restarted by the restart policy while the
#      load generator counts connect errors, then is answered again;
#   7. `compose stop server` lets an in-flight /slow finish and exits 0;
#   8. ObslabServerDown reaches the inbox as a page (receiver pager) about
#      70 s later: rule, Alertmanager, webhook, inbox;
#   9. the inbox stopped while an alert fires, then recreated: it keeps its
#      notifications (named volume inbox-data) and receives the one
#      Alertmanager retried.
# Grafana's image cannot be had here: its provisioning is checked statically
# (bundle.py check, plus compose's mounts of it).
#
# Each run has its own compose project and image tags (obslab-e2e-RUN,
# obslab-e2e/server:RUN), so checkouts can run it at once. On exit it removes
# what it made: containers, networks, volumes, its images; the stand-ins of
# .ci/images.sh stay (they are the cache), and so does the build cache of
# the latest build (tagged obslab-e2e/build-cache:builder with the legacy
# builder); older build cache goes (tests/e2e/docker-cleanup.sh). Prints
# `docker system df` before and after.
#
# Skips (exit 0) only when no Docker engine answers. Prints the image sizes and
# the time from `up` to the first scrape. About 3½ minutes once images are
# cached; the first run on a machine builds everything (about 15).
#
# Environment:
#   OBSLAB_COMPOSE   the compose command (default: `docker compose` if present,
#                    else `docker-compose`)
#   E2E_KEEP=1       leave the stack and its images (prints how to remove
#                    them) and keep the work directory
#   OBSLAB_E2E_CACHE_AGE, OBSLAB_E2E_STALE_HOURS, OBSLAB_E2E_BUILD_CACHE
#                    bounds of the cleanup (tests/e2e/docker-cleanup.sh)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
bundle=(python3 "$root/tests/bundle/bundle.py")
containers_py=(python3 "$root/tests/e2e/containers.py")

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
E2E_POLL=0.5
E2E_LOG_LINES=30

# --- is there an engine, and a compose? ------------------------------------------
if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    echo "SKIPPED: no Docker engine answers (docker info failed): container end-to-end test not run"
    exit 0
fi
if [[ -n ${OBSLAB_COMPOSE:-} ]]; then
    read -ra compose_cmd <<<"$OBSLAB_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
    compose_cmd=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose_cmd=(docker-compose)
else
    die "a Docker engine answers but neither \`docker compose\` nor docker-compose is installed"
fi
require python3 curl

run=$(date +%s)-$$
project=obslab-e2e-$run
compose=("${compose_cmd[@]}" -p "$project" -f "$root/compose.yaml")
export OBSLAB_SERVER_IMAGE=obslab-e2e/server:$run
export OBSLAB_LOADGEN_IMAGE=obslab-e2e/loadgen:$run
e2e_init containers

echo "docker system df before:"
docker system df | sed 's/^/  /'

# On exit: the stack's state and logs on failure, then the stack, its
# volumes, network and images go, and the build cache is bounded.
compose_cleanup() {
    if ((e2e_status != 0)); then
        printf '\n---- compose ps / logs (last lines)\n' >&2
        "${compose[@]}" ps >&2 || true
        "${compose[@]}" logs --no-color --tail=30 >&2 || true
    fi
    if [[ ${E2E_KEEP:-0} == 1 ]]; then
        echo "kept the stack: ${compose[*]} down -v; docker rmi $OBSLAB_SERVER_IMAGE $OBSLAB_LOADGEN_IMAGE" >&2
        return
    fi
    printf '\n== cleanup (%ss)\n' "$SECONDS"
    "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
    bash "$root/tests/e2e/docker-cleanup.sh" "$project" "$OBSLAB_SERVER_IMAGE" "$OBSLAB_LOADGEN_IMAGE" || true
    echo "docker system df after:"
    docker system df | sed 's/^/  /'
}
on_exit compose_cleanup

container() { "${compose[@]}" ps -q "$1"; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$(container "$1")"; }
is_healthy() { [[ $(health "$1") == healthy ]]; }
published() { "${compose[@]}" port "$1" "$2" | tail -n 1; }
# The kind and name of what is mounted on $2 in service $1's container.
mount_of() {
    local format="{{range .Mounts}}{{if eq .Destination \"$2\"}}{{.Type}} {{.Name}}{{end}}{{end}}"
    docker inspect -f "$format" "$(container "$1")"
}

echo "compose: ${compose_cmd[*]} ($("${compose_cmd[@]}" version 2>/dev/null | head -n 1))"
echo "engine:  $(docker version -f '{{.Server.Version}}')"

say "static: Grafana provisioning and dashboards (its image cannot be pulled here)"
"${bundle[@]}" check "$root"
# compose must mount what the provisioning files point at (v1 prints
# `src:dst:ro`, v2 `target: dst`).
"${compose[@]}" config >"$work/config.yaml"
for mount in /etc/grafana/provisioning /var/lib/grafana/dashboards /etc/prometheus; do
    grep -Eq -- "[: ]$mount(:|\$)" "$work/config.yaml" || die "compose.yaml does not mount $mount"
done
home=$(sed -n 's/.*GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: *//p' "$work/config.yaml")
[[ -f grafana/dashboards/${home##*/} ]] || die "Grafana's home dashboard $home is not in grafana/dashboards/"
echo "ok: compose mounts grafana/provisioning, grafana/dashboards and prometheus/; home dashboard ${home##*/} exists"

say "stand-in base images (.ci/images.sh)"
images_out=$(bash "$root/.ci/images.sh" 2>"$work/images.log") || die "building the stand-in images failed"
eval "$images_out"
grep -v DEPRECATED "$work/images.log" | grep '^\[images\]' || true
echo "$images_out"

# Loopback only, each published port chosen by the engine (host port 0).
export OBSLAB_BIND=127.0.0.1 OBSLAB_SERVER_PORT=0 PROMETHEUS_PORT=0 GRAFANA_PORT=0 \
    ALERTMANAGER_PORT=0 OBSLAB_INBOX_PORT=0
export OBSLAB_VERSION=e2e

say "building the app images with compose"
build_start=$SECONDS
# A failed legacy build leaves its intermediate container unless --force-rm
# (Compose v1's flag; v2 builds with BuildKit, which leaves none).
force_rm=()
"${compose_cmd[@]}" build --help 2>/dev/null | grep -q -- --force-rm && force_rm=(--force-rm)
"${compose[@]}" build "${force_rm[@]}" server loadgen >"$work/build.log" 2>&1 || die "compose build failed"
echo "built in $((SECONDS - build_start)) s"
# The legacy builder keeps its cache as untagged images, which the cleanup
# prunes: a tag on the builder stage (all cache, a few seconds) keeps the
# latest build's, so that the next run recompiles only what changed.
if [[ ${DOCKER_BUILDKIT:-} != 1 ]] && ! docker buildx version >/dev/null 2>&1; then
    DOCKER_BUILDKIT=0 docker build -q --force-rm --target builder --build-arg "RUST_IMAGE=$RUST_IMAGE" \
        -t obslab-e2e/build-cache:builder "$root" >>"$work/build.log" 2>&1 ||
        die "tagging the builder stage failed"
fi

say "image checks"
for image in "$OBSLAB_SERVER_IMAGE" "$OBSLAB_LOADGEN_IMAGE"; do
    read -r size user title <<<"$(docker image inspect -f \
        '{{.Size}} {{.Config.User}} {{index .Config.Labels "org.opencontainers.image.title"}}' "$image")"
    mb=$(awk -v size="$size" 'BEGIN { printf "%.1f", size / 1e6 }')
    printf '  %-28s %6s MB  user %s  title %s\n' "$image" "$mb" "$user" "$title"
    [[ $user == 65532:65532 ]] || die "$image runs as '$user', not the nonroot user"
    [[ -n $title ]] || die "$image has no OCI title label"
    if ((size > 20000000)); then
        echo "  WARNING: $image is above the 20 MB target"
    fi
done
hc=$(docker image inspect -f '{{json .Config.Healthcheck.Test}}' "$OBSLAB_SERVER_IMAGE")
[[ $hc == '["CMD","/usr/local/bin/obslab-server","healthcheck"]' ]] ||
    die "server image health check is $hc"
docker run --rm "$OBSLAB_SERVER_IMAGE" --version
docker run --rm "$OBSLAB_LOADGEN_IMAGE" --version
docker run --rm --entrypoint /usr/local/bin/obslab "$OBSLAB_SERVER_IMAGE" --version

say "up: server, loadgen, prometheus, alertmanager, inbox"
up_at=$EPOCHREALTIME
"${compose[@]}" up -d server loadgen prometheus alertmanager inbox >"$work/up.log" 2>&1 ||
    die "compose up failed"
wait_until 90 "server healthy" is_healthy server
wait_until 90 "prometheus healthy" is_healthy prometheus
wait_until 90 "alertmanager healthy" is_healthy alertmanager
wait_until 90 "inbox healthy (obslab inbox healthcheck)" is_healthy inbox
for service in server loadgen prometheus alertmanager inbox; do
    echo "  $service: $(health "$service")"
done
prom=http://$(published prometheus 9090)
app=http://$(published server 5000)
inbox=http://$(published inbox 9095)
echo "  app $app, Prometheus $prom, inbox $inbox"

say "Prometheus: every target up and scraped every 5 s"
"${containers_py[@]}" scrapes "$prom" --since "$up_at" --interval 5

wait_until 60 "loadgen healthy (its health check GETs its own /metrics)" is_healthy loadgen
echo "  loadgen: $(health loadgen)"

say "Prometheus sees Alertmanager"
am_discovered() {
    curl -fsS "$prom/api/v1/alertmanagers" |
        python3 -c 'import json,sys; a=json.load(sys.stdin)["data"]["activeAlertmanagers"]; print(a[0]["url"]) if a else sys.exit(1)'
}
wait_until 30 "Prometheus to discover Alertmanager" am_discovered
echo "  sends alerts to $(am_discovered)"

say "Prometheus: rules loaded, dashboards' queries on live data"
for expr in \
    'sum(rate(flask_requests_total[1m])) > 0' \
    'sum(rate(loadgen_requests_total[1m])) > 0' \
    'sum(rate(flask_errors_total{error_type="timeout"}[1m])) > 0'; do
    wait_until 120 "$expr" "${bundle[@]}" query "$prom" "$expr"
done
"${bundle[@]}" dashboards "$root" "$prom" --alerts-may-be-empty
"${bundle[@]}" rules "$prom" "$root/prometheus/rules"

say "compose up --scale loadgen=3: Prometheus finds every replica by DNS"
"${compose[@]}" up -d --no-recreate --scale loadgen=3 loadgen >"$work/scale.log" 2>&1 ||
    die "compose up --scale loadgen=3 failed"
"${containers_py[@]}" generators "$prom" 3
"${compose[@]}" up -d --no-recreate --scale loadgen=1 loadgen >>"$work/scale.log" 2>&1 ||
    die "compose up --scale loadgen=1 failed"
"${containers_py[@]}" generators "$prom" 1

say "compose run --rm loadgen (the README's one-off run)"
"${compose[@]}" run --rm -T --no-deps loadgen \
    --target http://server:5000 --rate 20 --duration 3s --output json \
    >"$work/run.json" 2>"$work/run.log" || die "compose run loadgen failed"
"${containers_py[@]}" loadgen-report "$work/run.json"

say "Prometheus recreated: its samples kept (named volume prometheus-data)"
read -r kind name <<<"$(mount_of prometheus /prometheus)"
[[ $kind == volume && $name == "${project}_prometheus-data" ]] ||
    die "Prometheus' /prometheus is '$kind $name', not the named volume ${project}_prometheus-data"
selector='up{job="obslab-server"}'
read -r first samples <<<"$("${containers_py[@]}" first-sample "$prom" "$selector")"
old_prometheus=$(container prometheus)
"${compose[@]}" up -d --no-deps --force-recreate prometheus >"$work/recreate.log" 2>&1 ||
    die "compose up --force-recreate prometheus failed"
[[ $(container prometheus) != "$old_prometheus" ]] || die "Prometheus' container was not recreated"
wait_until 90 "prometheus healthy again" is_healthy prometheus
prom=http://$(published prometheus 9090)
read -r first_after samples_after <<<"$("${containers_py[@]}" first-sample "$prom" "$selector")"
echo "  earliest sample of $selector: $first before, $first_after after ($samples, then $samples_after samples)"
[[ $first_after == "$first" ]] || die "the recreated Prometheus lost its samples: earliest $first_after, not $first"

say "the server's process SIGKILLed from the host: restarted, the load generator carries on"
server_id=$(container server)
read -r policy restarts pid <<<"$(docker inspect -f \
    '{{.HostConfig.RestartPolicy.Name}} {{.RestartCount}} {{.State.Pid}}' "$server_id")"
[[ $policy == unless-stopped || $policy == always || $policy == on-failure ]] ||
    die "the server's restart policy is '$policy': a killed server would stay down"
if [[ $(id -u) == 0 ]]; then
    connect_before=$("${containers_py[@]}" connect-errors "$prom")
    kill_at=$EPOCHREALTIME
    # Not `docker kill`: the engine counts that as a manual stop, which no
    # restart policy undoes. The kernel's OOM killer sends SIGKILL to the PID.
    kill -KILL "$pid"
    restarted() { (($(docker inspect -f '{{.RestartCount}}' "$server_id") > restarts)); }
    wait_until 30 "the server to be restarted (RestartCount above $restarts)" restarted
    restarted_in=$(elapsed_since "$kill_at")
    wait_until 60 "server healthy again" is_healthy server
    back_at=$EPOCHREALTIME
    read -r count new_pid <<<"$(docker inspect -f '{{.RestartCount}} {{.State.Pid}}' "$server_id")"
    echo "  policy $policy: restart count $restarts -> $count, PID $pid -> $new_pid," \
        "restarted within $restarted_in s and healthy $(elapsed_since "$kill_at") s after the SIGKILL"
    app=http://$(published server 5000)
    "${containers_py[@]}" carried-on "$prom" --back "$back_at" --connect-errors "$connect_before"
else
    echo "  SKIPPED: not root, cannot signal the container's process (restart policy $policy checked)"
fi

say "compose stop server: an in-flight /slow completes, exit status 0"
"${compose[@]}" stop loadgen >/dev/null 2>&1
server_id=$(container server)
curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 "$app/slow" >"$work/slow.out" 2>&1 &
slow_pid=$!
# The request is in flight once the server holds a connection from the
# bridge gateway (the published port's side); prometheus and the health check
# connect from elsewhere.
pid=$(docker inspect -f '{{.State.Pid}}' "$server_id")
gateway=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}' "$server_id")
in_flight() {
    nsenter -t "$pid" -n ss -Htn state established '( sport = :5000 )' | grep -q "$gateway:"
}
if command -v nsenter >/dev/null && command -v ss >/dev/null && [[ $(id -u) == 0 ]]; then
    wait_until 10 "the /slow request to reach the server" in_flight
else
    echo "  (not root or no nsenter/ss: cannot see the connection, waiting 0.5 s instead)"
    sleep 0.5
fi
stop_at=$EPOCHREALTIME
"${compose[@]}" stop server >/dev/null 2>&1
echo "  stop took $(elapsed_since "$stop_at") s"
wait "$slow_pid" || true
read -r code took <"$work/slow.out" || true
echo "  in-flight /slow answered ${code:-nothing} after ${took:-?} s"
[[ $code == 200 || $code == 504 ]] || die "the in-flight /slow got '$(cat "$work/slow.out")', not an answer"
read -r exit_code oom <<<"$(docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' "$server_id")"
echo "  server exit status $exit_code (OOM killed: $oom)"
[[ $exit_code == 0 ]] || die "the server exited with status $exit_code on stop"
docker logs --tail 5 "$server_id" 2>&1 | sed 's/^/  | /'

say "the server down: ObslabServerDown paged to the inbox"
paged() {
    curl -fsS "$inbox/api/notifications" | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    for a in n["alerts"]:
        if a["labels"].get("alertname") == "ObslabServerDown" and a["status"] == "firing":
            print(n["receiver"], n["received_at"]); sys.exit(0)
sys.exit(1)'
}
# 1 m of `for:`, a 5 s evaluation and Alertmanager's 10 s group_wait.
wait_until 150 "ObslabServerDown in the inbox" paged
read -r receiver received <<<"$(paged)"
echo "  page received $received through $receiver, $(elapsed_since "$stop_at") s after the stop"
[[ $receiver == pager ]] || die "ObslabServerDown went through $receiver, not pager"

say "the inbox down while an alert fires, then recreated: history kept, the retry received"
read -r kind name <<<"$(mount_of inbox /var/lib/obslab)"
[[ $kind == volume && $name == "${project}_inbox-data" ]] ||
    die "the inbox's /var/lib/obslab is '$kind $name', not the named volume ${project}_inbox-data"
am=http://$(published alertmanager 9093)
"${containers_py[@]}" inbox-save "$inbox" "$work/inbox-before.json"
failures=$("${containers_py[@]}" webhook-failures "$am")
"${compose[@]}" stop inbox >/dev/null 2>&1
down_at=$EPOCHREALTIME
"${containers_py[@]}" post-alert "$am" ObslabE2EInboxDown
failed_again() { (($("${containers_py[@]}" webhook-failures "$am") > failures)); }
# Alertmanager's group_wait (10 s), then its first attempt.
wait_until 60 "Alertmanager's webhook to fail while the inbox is down" failed_again
echo "  failed webhook requests: $failures before, $("${containers_py[@]}" webhook-failures "$am")" \
    "$(elapsed_since "$down_at") s after the inbox stopped"
"${compose[@]}" up -d --no-deps --force-recreate inbox >"$work/recreate.log" 2>&1 ||
    die "compose up --force-recreate inbox failed"
wait_until 60 "inbox healthy again" is_healthy inbox
inbox=http://$(published inbox 9095)
wait_until 120 "ObslabE2EInboxDown in the recreated inbox (Alertmanager's retry)" \
    "${containers_py[@]}" redelivered "$inbox" ObslabE2EInboxDown --kept "$work/inbox-before.json"
"${containers_py[@]}" redelivered "$inbox" ObslabE2EInboxDown --kept "$work/inbox-before.json"
echo "  $(elapsed_since "$down_at") s after the inbox stopped"

say "containers end to end: ok"
