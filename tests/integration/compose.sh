#!/usr/bin/env bash
# Integration test of docker/compose.yaml: brings the application stand-in and the hcproxy
# sidecar up with the locally built image, probes hcproxy from inside the application's network
# namespace (where it listens, on loopback), checks the least-privilege settings took effect,
# reloads it with SIGHUP, stops it (SIGTERM: the drain) and tears everything down.
#
#     tests/integration/compose.sh [SOURCE_ROOT]
#
# Exit 0 pass, 1 fail, 77 skipped (meson's skip code) without a Docker engine or docker-compose.
# Knobs as docker.sh: DOCKER, TEST_HCPROXY_IMAGE (default hcproxy:compose-test, a tag of its own
# so that a docker.sh run elsewhere cannot swap the image), TEST_HCPROXY_NO_BUILD=1.
set -euo pipefail

DOCKER=${DOCKER:-/usr/bin/docker}
IMAGE=${TEST_HCPROXY_IMAGE:-hcproxy:compose-test}
SRC=${1:-${MESON_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}}
PROJECT=hcproxy-compose-test-$$
. "$(dirname "${BASH_SOURCE[0]}")/docker_lib.sh"

require_docker
command -v docker-compose >/dev/null || { echo "SKIP: docker-compose is not installed"; exit 77; }

TMP=$(mktemp -d)
UP=
compose() {
    HCPROXY_IMAGE=$IMAGE APP_IMAGE=$IMAGE docker-compose -f "$SRC/docker/compose.yaml" -p "$PROJECT" "$@"
}
cleanup() {
    local rc=$?
    trap - EXIT
    if [ -n "$UP" ]; then
        if [ "$rc" -ne 0 ]; then
            say "hcproxy's log (last 40 lines):"
            compose logs --no-color --tail 40 hcproxy 2>&1 | sed 's/^/    /' || true
        fi
        compose down --volumes --remove-orphans -t 1 >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

build_image

say "docker-compose up (project $PROJECT)"
UP=1
compose up -d --no-build >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log"; fail "docker-compose up"; }
HC=$(compose ps -q hcproxy)
[ -n "$HC" ] || fail "no hcproxy container"

# get PATH: "GET PATH" to hcproxy on 127.0.0.1:8080, sent from inside the application's
# container with bash's /dev/tcp (neither image has curl); prints the status line's code.
get() {
    compose exec -T app bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 || exit 1
        printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n\r\n" "$1" >&3
        IFS=" " read -r _ code _ <&3 && echo "$code"' _ "$1" 2>/dev/null
}
healthz() { [ "$(get /healthz)" = 200 ]; }
poll 30 "GET /healthz from the application's container" healthz
ok "the application reaches hcproxy on 127.0.0.1:8080: /healthz -> 200"

code=$(get /hc/coap://10.0.0.1/)
[ "$code" = 403 ] || fail "a CoAP server outside upstream.allow got $code, not 403"
ok "the default allow-list refuses coap://10.0.0.1/ (403)"

say "check: least privilege in effect"
read -r user ro caps nnp <<<"$("$DOCKER" inspect -f \
    '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}' "$HC")"
[ "$user $ro $caps" = "10001:10001 true [ALL]" ] || fail "user/read-only/cap_drop: $user $ro $caps"
[[ $nnp == *no-new-privileges* ]] || fail "security_opt: $nnp"
pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$HC")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 10001 ] || fail "hcproxy runs as uid $uid"
ok "uid 10001, read-only root, capabilities [ALL] dropped, no-new-privileges"

healthy() {
    local s
    s=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$HC")
    [ "$s" != unhealthy ] || fail "health is unhealthy"
    [ "$s" = healthy ]
}
poll 40 "the healthcheck reports healthy" healthy
ok "health: healthy"

say "check: SIGHUP reloads (hcproxy is PID 1, where SIGHUP used to be ignored)"
compose kill -s HUP hcproxy >/dev/null 2>&1
reloaded() { compose logs --no-color hcproxy 2>&1 | grep -q '"reload: '; }
poll 10 "a reload line in the log" reloaded
healthz || fail "not serving after SIGHUP"
ok "reloaded, still serving"

say "check: docker-compose stop drains (drain.delay_s = 5) and exits 0"
start=$SECONDS
compose stop hcproxy >/dev/null 2>&1
took=$((SECONDS - start))
code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$HC")
[ "$code" = 0 ] || fail "exit code $code"
[ "$took" -ge 4 ] && [ "$took" -lt 25 ] || fail "stop took ${took}s: drain.delay_s is 5, stop_grace_period 30s"
compose logs --no-color hcproxy 2>&1 | grep -q 'drain: no new connections' || fail "no drain in the log"
ok "stopped in ${took}s after the drain, exit code 0"

say "PASS"
