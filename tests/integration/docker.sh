#!/usr/bin/env bash
# Integration test of docker/: builds the image, runs it with host networking beside a
# coap-server-notls on loopback and checks that it proxies, runs as "hcproxy", becomes healthy
# and stops on SIGTERM.
#
#     tests/integration/docker.sh [SOURCE_ROOT]
#
# SOURCE_ROOT defaults to $MESON_SOURCE_ROOT, then to this file's ../.. . Exit 0 pass, 1 fail,
# 77 skipped (meson's skip code) when there is no Docker engine.
# Knobs: DOCKER (client, default /usr/bin/docker), TEST_HCPROXY_IMAGE (tag, default hcproxy:test),
# TEST_HCPROXY_NO_BUILD=1 (test an image already built under that tag).
set -euo pipefail

DOCKER=${DOCKER:-/usr/bin/docker}
IMAGE=${TEST_HCPROXY_IMAGE:-hcproxy:test}
SRC=${1:-${MESON_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}}
NAME=hcproxy-docker-test-$$
. "$(dirname "${BASH_SOURCE[0]}")/docker_lib.sh"

require_docker
for tool in coap-server-notls curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f "$SRC/docker/Dockerfile" ] || fail "no docker/Dockerfile under source root '$SRC'"

TMP=$(mktemp -d)
COAP_PID=
CONTAINER=

cleanup() {
    local rc=$?
    trap - EXIT
    if [ -n "$CONTAINER" ]; then
        if [ "$rc" -ne 0 ]; then
            say "container log (last 40 lines):"
            "$DOCKER" logs --tail 40 "$NAME" 2>&1 | sed 's/^/    /' || true
        fi
        "$DOCKER" rm -f "$NAME" "$NAME-flag" >/dev/null 2>&1 || true
    fi
    if [ -n "$COAP_PID" ]; then
        kill "$COAP_PID" 2>/dev/null || true
        wait "$COAP_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

# A port the kernel has just handed out on 127.0.0.1 for the socket type $1 (SOCK_STREAM|SOCK_DGRAM).
free_port() {
    /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, getattr(socket, sys.argv[1]))
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}

# ---------------------------------------------------------------------------------------- image
build_image

# ---------------------------------------------------------------------------- CoAP server, proxy
COAP_PORT=$(free_port SOCK_DGRAM)
HTTP_PORT=$(free_port SOCK_STREAM)
BASE=http://127.0.0.1:$HTTP_PORT

say "starting coap-server-notls on udp 127.0.0.1:$COAP_PORT"
coap-server-notls -A 127.0.0.1 -p "$COAP_PORT" >"$TMP/coap.log" 2>&1 &
COAP_PID=$!
coap_ready() {
    kill -0 "$COAP_PID" 2>/dev/null || fail "coap-server-notls exited: $(cat "$TMP/coap.log")"
    if command -v coap-client-notls >/dev/null; then
        coap-client-notls -B 1 "coap://127.0.0.1:$COAP_PORT/" 2>/dev/null | grep -q libcoap
    else
        grep -q ":$(printf '%04X' "$COAP_PORT") " /proc/net/udp
    fi
}
poll 10 "coap-server-notls ready" coap_ready
ok "coap-server-notls answers"

say "starting $IMAGE as $NAME: --network host, HCPROXY_HTTP_LISTEN=127.0.0.1:$HTTP_PORT"
CONTAINER=$("$DOCKER" run -d --name "$NAME" --network host \
    -e "HCPROXY_HTTP_LISTEN=127.0.0.1:$HTTP_PORT" -e "HCPROXY_COAP_LISTEN=127.0.0.1:0" \
    --health-interval 1s --health-timeout 5s --health-start-period 30s --health-retries 3 \
    "$IMAGE")

running() {
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$NAME")" = true ] ||
        fail "container exited with $("$DOCKER" inspect -f '{{.State.ExitCode}}' "$NAME")"
}
healthz() {
    running
    curl -fs --max-time 2 -o /dev/null "$BASE/healthz"
}
poll 30 "GET /healthz answers 200" healthz
ok "GET $BASE/healthz -> 200"

# -------------------------------------------------------------------------------------- checks
say "check: GET /hc/coap://127.0.0.1:$COAP_PORT/ -> 200 with coap-server-notls's text"
code=$(curl -s --max-time 10 -o "$TMP/body" -w '%{http_code}' \
    "$BASE/hc/coap://127.0.0.1:$COAP_PORT/") || true
[ "$code" = 200 ] || fail "status $code, body: $(head -c 300 "$TMP/body" 2>/dev/null)"
grep -q libcoap "$TMP/body" || fail "body lacks 'libcoap': $(head -c 300 "$TMP/body")"
ok "200, body: $(head -n 1 "$TMP/body")"

say "check: the image's default allow-list is loopback only (coap://10.0.0.1/ -> 403)"
code=$(curl -s --max-time 10 -o "$TMP/body" -w '%{http_code}' "$BASE/hc/coap://10.0.0.1/") || true
[ "$code" = 403 ] || fail "status $code for a non-loopback target, body: $(head -c 300 "$TMP/body")"
ok "403"

say "check: the container runs as user hcproxy, not root"
user=$("$DOCKER" inspect -f '{{.Config.User}}' "$NAME")
[ "$user" = hcproxy ] || fail "docker inspect .Config.User is '$user'"
pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$NAME")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
want=$("$DOCKER" exec "$NAME" id -u hcproxy)
[ "$uid" = "$want" ] && [ "$uid" != 0 ] || fail "process $pid runs as uid $uid, hcproxy is $want"
ok "Config.User=hcproxy, hcproxy (host pid $pid) runs as uid $uid"

say "check: the HEALTHCHECK reports healthy"
healthy() {
    running
    local s
    s=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$NAME")
    [ "$s" != unhealthy ] || fail "health is unhealthy: $("$DOCKER" inspect -f \
        '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' "$NAME")"
    [ "$s" = healthy ]
}
poll 40 "health becomes healthy" healthy
ok "health: healthy ($("$DOCKER" inspect -f \
    '{{with index .State.Health.Log 0}}exit {{.ExitCode}}{{end}}' "$NAME"))"

say "check: the HEALTHCHECK follows a listen address given by flag, not the image's variable"
FLAG_PORT=$(free_port SOCK_STREAM)
FLAG_NAME=$NAME-flag
"$DOCKER" run -d --name "$FLAG_NAME" --network host -e "HCPROXY_COAP_LISTEN=127.0.0.1:0" \
    --health-interval 1s --health-timeout 5s --health-start-period 30s --health-retries 3 \
    "$IMAGE" --http-listen "127.0.0.1:$FLAG_PORT" >/dev/null
flag_healthy() {
    local s
    s=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$FLAG_NAME")
    [ "$s" != unhealthy ] || fail "--http-listen 127.0.0.1:$FLAG_PORT: unhealthy: $("$DOCKER" inspect \
        -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$FLAG_NAME")"
    [ "$s" = healthy ]
}
poll 40 "health with --http-listen becomes healthy" flag_healthy
ok "health: healthy with --http-listen 127.0.0.1:$FLAG_PORT ($("$DOCKER" inspect -f \
    '{{with index .State.Health.Log 0}}{{.Output}}{{end}}' "$FLAG_NAME" | tr -d '\n'))"
"$DOCKER" rm -f "$FLAG_NAME" >/dev/null

say "check: docker stop (SIGTERM to hcproxy as PID 1) ends it promptly and cleanly"
start=$SECONDS
"$DOCKER" stop -t 10 "$NAME" >/dev/null
took=$((SECONDS - start))
exit_code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$took" -lt 8 ] || fail "docker stop took ${took}s: SIGTERM was not acted on (SIGKILL after 10s)"
[ "$exit_code" = 0 ] || fail "exit code $exit_code after SIGTERM"
ok "stopped in ${took}s, exit code 0"

say "check: the image sets no configuration of its own, so a mounted file is not overridden"
env_keys=$("$DOCKER" image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" |
    grep -v '^HCPROXY_CONFIG=' | grep '^HCPROXY_' || true)
[ -z "$env_keys" ] || fail "the image sets $env_keys"
ok "no HCPROXY_* setting in the image's environment"

say "check: a CoAP listener open to the network that would reach loopback origins is refused"
out=$("$DOCKER" run --rm --network none -e HCPROXY_COAP_LISTEN=0.0.0.0:5683 "$IMAGE" 2>&1) && status=0 || status=$?
[ "$status" = 2 ] || fail "exit status $status (want 2): $out"
grep -q 'an open proxy to this host' <<<"$out" || fail "no reason given: $out"
ok "exit 2: $out"

say "PASS"
