#!/usr/bin/env bash
# obslab-loadgen against a server it was not written with: Debian's nginx,
# started here as the current user on loopback ports, with its prefix, pid
# file, logs and temp directories in a temporary directory (no system
# service). Three ports:
#   - plain HTTP/1.1;
#   - plain h2c (`listen PORT http2;` without ssl: prior knowledge only);
#   - TLS with `ssl http2` (ALPN offers h2 and http/1.1), its certificate
#     signed by a CA made here with openssl.
# Every request is logged with `$server_protocol`. Each case below is one
# line (name, target, expected protocol, options): the run ends by
# --requests, its JSON report must say every request was answered (no
# error, nothing dropped), and nginx's access log must hold exactly one line
# per answer, each with the expected protocol and a path of the mix; nginx
# closes every connection after 100 requests, so reconnections are part of
# every run. The
# refused case (no --ca-cert, no --insecure) must exit 2 naming the target
# and the reason, before nginx logs any request.
#
# Last, self_signed_ca_cert: a second nginx serving the self-signed CA:TRUE
# certificate of the plain `openssl req -x509` one-liner, trusted with
# --ca-cert as curl --cacert trusts it; the wrong name and another
# certificate refused.
#
# The HTTP/2 cases (--http2, --http1) run when the binary has those options
# (`obslab-loadgen --help`); with them, an https:// target negotiates h2
# by ALPN, so the TLS cases without a forcing option expect HTTP/2.0.
# About 10 seconds once built.
#
# Environment:
#   OBSLAB_BIN_DIR   use the obslab-loadgen there instead of building it
#   NGINX            the nginx binary (default: nginx from PATH, Debian's
#                    /usr/sbin/nginx)
#   E2E_REQUESTS     requests per case (default 300)
#   E2E_KEEP=1       keep the temporary directory (configuration, logs,
#                    reports)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
nginx=${NGINX:-nginx}
requests=${E2E_REQUESTS:-300}
mix="GET /=3,GET /health=1"

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
PATH=$PATH:/usr/sbin
require "$nginx" openssl curl python3
E2E_POLL=0.2
e2e_init nginx
find_binaries obslab-loadgen
loadgen=$bin/obslab-loadgen

say "a CA and a certificate for 127.0.0.1 signed by it (openssl)"
certs=$work/certs
mkdir -p "$certs"
# The chain case: a leaf signed by a CA, the CA given with --ca-cert. The
# plain self-signed certificate of `openssl req -x509` is its own case,
# self_signed_ca_cert below.
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 \
    -subj "/CN=obslab e2e CA" -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -subj "/CN=127.0.0.1" -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1\n' >"$certs/server.ext"
openssl x509 -req -days 2 -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
    -CAcreateserial -extfile "$certs/server.ext" -out "$certs/server.pem" 2>/dev/null
openssl verify -CAfile "$certs/ca.pem" "$certs/server.pem" >/dev/null ||
    die "openssl: the server certificate does not verify against the CA"

say "nginx $("$nginx" -v 2>&1 | sed 's#.*/##') on 127.0.0.1: HTTP/1.1, h2c, TLS with h2"
h1=$(free_port) h2c=$(free_port) tls=$(free_port)
ngx=$work/nginx
mkdir -p "$ngx/logs" "$ngx/tmp"
# As root, the master would hand the workers to `nobody`, who cannot
# write the temp directories here: keep them the current user's.
user_line=
if (($(id -u) == 0)); then
    user_line="user $(id -un) $(id -gn);"
fi
# The start of an nginx configuration whose prefix is DIR (pid file, error
# log, temp directories there), up to the access log format `e2e`, inside
# `http {`.
nginx_conf_head() {
    local dir=$1
    cat <<EOF
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log info;
events { worker_connections 1024; }
http {
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    log_format e2e '\$server_port \$server_protocol "\$request" \$status \$connection';
EOF
}
# An nginx `server` on 127.0.0.1:PORT, TLS with h2 by ALPN, presenting
# CERT (its key KEY) and answering 200 "ok".
nginx_tls_server() {
    cat <<EOF
    server {
        listen 127.0.0.1:$1 ssl http2;
        ssl_certificate $2;
        ssl_certificate_key $3;
        location / { return 200 "ok\n"; }
    }
EOF
}
cat >"$ngx/nginx.conf" <<EOF
$(nginx_conf_head "$ngx")
    access_log $ngx/logs/access.log e2e;
    # Every connection closed after 100 requests (HTTP/1.1: "Connection:
    # close" on the 100th answer; HTTP/2: GOAWAY), several times a run: the
    # counts below then also prove reconnecting sends nothing twice.
    keepalive_requests 100;
    default_type text/plain;
    server {
        listen 127.0.0.1:$h1;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:$h2c http2;
        location / { return 200 "ok\n"; }
    }
$(nginx_tls_server "$tls" "$certs/server.pem" "$certs/server.key")
}
EOF
"$nginx" -t -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" >"$work/nginx-t.log" 2>&1 ||
    die "nginx -t refused the configuration: $(cat "$work/nginx-t.log")"
start nginx "$nginx" -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" -g 'daemon off;'
for port in "$h1" "$h2c" "$tls"; do
    wait_until 10 "nginx on port $port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
done
access=$ngx/logs/access.log
touch "$access"

# The HTTP/2 cases can only fail on the load generator's side if nginx's
# ports speak what they should: curl checks that first.
for check in "--http2-prior-knowledge http://127.0.0.1:$h2c/" "--http2 --cacert $certs/ca.pem https://127.0.0.1:$tls/"; do
    # shellcheck disable=SC2086  # the words of $check are curl's arguments
    version=$(curl -sS -o /dev/null -w '%{http_version}' $check) || die "curl $check failed"
    [[ $version == 2 ]] || die "curl $check: HTTP/$version, not HTTP/2: nginx's configuration is wrong"
done
echo "curl: HTTP/2 with prior knowledge on port $h2c, by ALPN on port $tls"

# Lines of the access log for `port`, so far.
logged() {
    awk -v p="$1" '$1 == p' "$access" | wc -l
}

# Whether `port` has logged at least $3 lines more than $2.
logged_since() {
    (($(logged "$1") - $2 >= $3))
}

# run_case NAME TARGET PROTOCOL [OPTION...]: one run of $requests requests,
# every one answered, and nginx's log agrees line for line.
run_case() {
    local name=$1 target=$2 protocol=$3 port=${2##*:}
    shift 3
    say "$name: $target $* → $protocol"
    local before report=$work/$name.json
    before=$(logged "$port")
    "$loadgen" --target "$target" --mix "$mix" --requests "$requests" --progress off \
        --output json "$@" >"$report" 2>"$work/$name.log" ||
        die "$name: obslab-loadgen exited $? (see $name.log below)"
    local answered
    answered=$(python3 - "$report" "$requests" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
errors = sum(doc["errors"].values())
if (doc["requests"], doc["responses"], doc["dropped"], errors) != (n, n, 0, 0):
    sys.exit(f"report: requests {doc['requests']}, responses {doc['responses']}, "
             f"dropped {doc['dropped']}, errors {doc['errors']}; expected {n} answered")
if doc["status_codes"] != {"200": n}:
    sys.exit(f"report: status codes {doc['status_codes']}, expected 200 only")
print(doc["responses"])
PY
    ) || die "$name: the report is not $requests answers (see $name.json)"
    # nginx writes a line once the answer is sent: the last ones may land
    # just after the client has read them.
    wait_until 10 "$answered lines in nginx's access log for $name" \
        logged_since "$port" "$before" "$answered"
    local lines=$(($(logged "$port") - before))
    ((lines == answered)) || die "$name: nginx logged $lines requests, the report says $answered answered"
    local wrong connections
    awk -v p="$port" '$1 == p' "$access" | tail -n "$lines" >"$work/$name.access.log"
    wrong=$(awk -v proto="$protocol" '$2 != proto || ($4 != "/" && $4 != "/health") || $6 != 200' \
        "$work/$name.access.log" | head -3)
    [[ -z $wrong ]] || die "$name: lines of nginx's log that are not \"$protocol\" GET / or /health, 200: $wrong"
    connections=$(awk '{ print $7 }' "$work/$name.access.log" | sort -u | wc -l)
    ((connections * 100 >= lines)) ||
        die "$name: $lines requests on $connections connections, above nginx's 100 per connection"
    printf '%s: %s answered, nginx logged %s lines on %s connections, every one %s\n' \
        "$name" "$answered" "$lines" "$connections" "$protocol"
}

# refused NAME TARGET [OPTION...]: exit 2 naming the target and why,
# nothing in nginx's log.
refused() {
    local name=$1 target=$2 port=${2##*:}
    shift 2
    say "$name: $target $* → refused"
    local before status=0
    before=$(logged "$port")
    "$loadgen" --target "$target" --mix "$mix" --requests "$requests" --progress off \
        --output json "$@" >"$work/$name.json" 2>"$work/$name.log" || status=$?
    ((status == 2)) || die "$name: exit status $status, expected 2 (see $name.log below)"
    grep -qF "$target: TLS certificate not trusted: UnknownIssuer" "$work/$name.log" ||
        die "$name: stderr does not name the target and the reason: $(cat "$work/$name.log")"
    [[ ! -s $work/$name.json ]] || die "$name: a report was written"
    (($(logged "$port") == before)) || die "$name: nginx logged requests"
    printf '%s: exit 2, %s\n' "$name" "$(grep -F 'not trusted' "$work/$name.log")"
}

http2=0
"$loadgen" --help | grep -q -- --http2 && http2=1
# Over TLS without a forcing option, ALPN decides: h2 once the client offers it.
alpn=HTTP/1.1
((http2)) && alpn=HTTP/2.0

plain=http://127.0.0.1:$h1 h2c_url=http://127.0.0.1:$h2c https=https://127.0.0.1:$tls
ca=$certs/ca.pem
#        name              target     protocol  options
run_case http1             "$plain"   HTTP/1.1  --rate 300
run_case http1-closed      "$plain"   HTTP/1.1  --concurrency 2
run_case tls-ca-cert       "$https"   "$alpn"   --ca-cert "$ca" --rate 300
run_case tls-insecure      "$https"   "$alpn"   --insecure --concurrency 2
refused tls-untrusted   "$https"
if ((http2)); then
    run_case h2c           "$h2c_url" HTTP/2.0  --http2 --rate 300
    run_case h2c-closed    "$h2c_url" HTTP/2.0  --http2 --concurrency 8
    run_case h2-tls        "$https"   HTTP/2.0  --http2 --ca-cert "$ca" --concurrency 8
    run_case h2-tls-open   "$https"   HTTP/2.0  --http2 --insecure --rate 300
    run_case h1-tls-forced "$https"   HTTP/1.1  --http1 --ca-cert "$ca" --rate 300
else
    say "HTTP/2 cases skipped: this obslab-loadgen has no --http2"
fi

grep -q "insecure" "$work/tls-insecure.log" || die "tls-insecure: no --insecure warning on stderr"

# ---------------------------------------------------------------------------
# self_signed_ca_cert: the certificate of the usual one-liner (SPEC §8).
#
# `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext
# subjectAltName=DNS:localhost,IP:127.0.0.1` makes a self-signed certificate
# marked CA:TRUE; `curl --cacert cert.pem` accepts it, and so must
# `--ca-cert cert.pem`. A second nginx, its own prefix in $work/self-signed,
# its access log the one above, serves on two TLS ports (HTTP/1.1 and h2 by
# ALPN):
#   - $good: that certificate (cert.pem, key.pem);
#   - $named: one made by the same command for another name
#     (other.pem, other.key: /CN=elsewhere, DNS:elsewhere.example).
# Checks: the certificate is CA:TRUE; curl --cacert cert.pem answers 200 on
# $good; the load generator with --ca-cert cert.pem answers every request
# of a run in each model (run_case: the report and nginx's log agree); with
# --ca-cert other.pem on $named (the server's own certificate, the wrong
# name) and with --ca-cert other.pem on $good (not the certificate
# presented) it exits 2 naming the reason, before nginx logs a request.
self_signed_ca_cert() {
    local dir=$work/self-signed
    mkdir -p "$dir/logs" "$dir/tmp"
    say "self-signed CA:TRUE certificate of the plain openssl one-liner, served by nginx"
    (cd "$dir" && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout key.pem -out cert.pem 2>/dev/null)
    (cd "$dir" && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=elsewhere \
        -addext subjectAltName=DNS:elsewhere.example -keyout other.key -out other.pem 2>/dev/null)
    openssl x509 -in "$dir/cert.pem" -noout -ext basicConstraints | grep -q 'CA:TRUE' ||
        die "self-signed: openssl's certificate is not CA:TRUE, so this case proves nothing"
    local good named
    good=$(free_port) named=$(free_port)
    cat >"$dir/nginx.conf" <<EOF
$(nginx_conf_head "$dir")
    access_log $access e2e;
    keepalive_requests 100;
    default_type text/plain;
$(nginx_tls_server "$good" "$dir/cert.pem" "$dir/key.pem")
$(nginx_tls_server "$named" "$dir/other.pem" "$dir/other.key")
}
EOF
    start nginx-self-signed "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" -g 'daemon off;'
    for port in "$good" "$named"; do
        wait_until 10 "nginx on port $port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    done
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$dir/cert.pem" "https://127.0.0.1:$good/") ||
        die "self-signed: curl --cacert cert.pem refused nginx's certificate"
    [[ $code == 200 ]] || die "self-signed: curl --cacert cert.pem: HTTP $code"
    echo "curl --cacert cert.pem: 200 on port $good"

    run_case self-signed        "https://127.0.0.1:$good" "$alpn" --ca-cert "$dir/cert.pem" --rate 300
    run_case self-signed-closed "https://127.0.0.1:$good" "$alpn" --ca-cert "$dir/cert.pem" --concurrency 2

    refused_because self-signed-wrong-name "$named" 'not valid for name "127.0.0.1"' "$dir/other.pem"
    refused_because self-signed-other-cert "$good" CaUsedAsEndEntity "$dir/other.pem"
}

# refused_because NAME PORT REASON CA: a run at https://127.0.0.1:PORT with
# --ca-cert CA exits 2, stderr says the target's "TLS certificate not
# trusted" and REASON, no report is written and nginx logs nothing.
refused_because() {
    local name=$1 port=$2 reason=$3 ca=$4 target=https://127.0.0.1:$2
    say "$name: $target --ca-cert ${ca##*/} → refused ($reason)"
    local before status=0
    before=$(logged "$port")
    "$loadgen" --target "$target" --mix "$mix" --requests 10 --progress off \
        --output json --ca-cert "$ca" >"$work/$name.json" 2>"$work/$name.log" || status=$?
    ((status == 2)) || die "$name: exit status $status, expected 2 (see $name.log below)"
    grep -F "$target: TLS certificate not trusted:" "$work/$name.log" | grep -qF "$reason" ||
        die "$name: stderr does not name the target and \"$reason\": $(cat "$work/$name.log")"
    [[ ! -s $work/$name.json ]] || die "$name: a report was written"
    (($(logged "$port") == before)) || die "$name: nginx logged requests"
    printf '%s: exit 2, %s\n' "$name" "$(grep -F 'not trusted' "$work/$name.log")"
}

self_signed_ca_cert
# ---------------------------------------------------------------------------
say "nginx agrees with every report"
