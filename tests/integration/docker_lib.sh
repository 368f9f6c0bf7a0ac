# What tests/integration/docker.sh and compose.sh share: their progress lines, the skip without a
# Docker engine, polling and the image build. Each sets DOCKER, IMAGE, SRC and TMP, then sources
# this file (set -euo pipefail is theirs).

# say TEXT: a progress line, "[docker.sh 12:00:00] TEXT"; fail TEXT ends the test with it.
say() { printf '[%s %(%H:%M:%S)T] %s\n' "$(basename "$0")" -1 "$*"; }
fail() { say "FAIL: $*"; exit 1; }
ok() { say "ok: $*"; }

# require_docker: exits 77 (meson's skip code) without a Docker engine.
require_docker() {
    if ! [ -x "$DOCKER" ] || ! "$DOCKER" info >/dev/null 2>&1; then
        echo "SKIP: no Docker engine (docker/README.md: Build)"
        exit 77
    fi
}

# poll SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; fails naming WHAT
# after SECONDS.
poll() {
    local deadline_s=$1 what=$2
    shift 2
    local end=$((SECONDS + deadline_s))
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || fail "$what: not within ${deadline_s}s"
        sleep 0.2
    done
}

# build_image: builds $IMAGE from docker/Dockerfile with the legacy builder (its layer cache makes a
# rebuild quick), the log in $TMP/build.log; with TEST_HCPROXY_NO_BUILD=1 the image is used as it is.
build_image() {
    local start=$SECONDS

    if [ "${TEST_HCPROXY_NO_BUILD:-0}" = 1 ]; then
        say "using the existing image $IMAGE (TEST_HCPROXY_NO_BUILD=1)"
        return
    fi
    say "building $IMAGE from $SRC (legacy builder, log in $TMP/build.log)"
    if ! DOCKER_BUILDKIT=0 "$DOCKER" build --force-rm -f "$SRC/docker/Dockerfile" -t "$IMAGE" "$SRC" \
        >"$TMP/build.log" 2>&1; then
        sed 's/^/    /' "$TMP/build.log" | tail -60
        fail "docker build"
    fi
    ok "image built in $((SECONDS - start))s, $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" |
        awk '{printf "%.1f MB", $1 / 1e6}')"
}
