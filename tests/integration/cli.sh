#!/usr/bin/env bash
# The command line and the configuration: --help, --version, --check-config, and precise
# "where: key: what is wrong" errors with a non-zero exit.
. "$(dirname "$0")/lib.sh"

out=$("$HCPROXY" --help)
expect_match "--help lists the flags" "--http-listen" "$out"
expect_match "--help lists the environment variables" "HCPROXY_UPSTREAM_ALLOW" "$out"
expect_match "--version prints the version" "^hcproxy [0-9]+\.[0-9]+\.[0-9]+" "$("$HCPROXY" --version)"

out=$("$HCPROXY" --check-config 2>&1)
expect_match "--check-config accepts the embedded defaults" "configuration OK" "$out"
expect_match "--check-config prints the effective configuration" "127.0.0.1:8080" "$out"

printf 'http: {\n  listen = [ "127.0.0.1:8080" ];\n  max_connections = 0;\n};\n' >"$WORK/bad.conf"
status=0; out=$("$HCPROXY" --config "$WORK/bad.conf" --check-config 2>&1) || status=$?
expect_eq "a bad value in the file exits 2" 2 "$status"
expect_match "... naming file:line: key" "bad.conf:3: http.max_connections: " "$out"

printf 'http: {\n  lisen = "x";\n};\n' >"$WORK/typo.conf"
status=0; out=$("$HCPROXY" --config "$WORK/typo.conf" --check-config 2>&1) || status=$?
expect_eq "an unknown key exits 2" 2 "$status"
expect_match "... naming file:line: key" "typo.conf:2: http.lisen: unknown key" "$out"

status=0; out=$("$HCPROXY" --no-such-flag 2>&1) || status=$?
expect_eq "an unknown flag exits 2" 2 "$status"
expect_match "... naming the flag" "--no-such-flag" "$out"

status=0; out=$(HCPROXY_UPSTREAM_TIMEOUT_MS=soon "$HCPROXY" --check-config 2>&1) || status=$?
expect_eq "a bad environment value exits 2" 2 "$status"
expect_match "... naming the variable" "HCPROXY_UPSTREAM_TIMEOUT_MS" "$out"

out=$(HCPROXY_UPSTREAM_TIMEOUT_MS=1234 "$HCPROXY" --check-config 2>/dev/null)
expect_match "the environment overrides the defaults" "timeout_ms = 1234" "$out"
out=$(HCPROXY_UPSTREAM_TIMEOUT_MS=1234 "$HCPROXY" --upstream-timeout-ms 999 --check-config 2>/dev/null)
expect_match "a flag overrides the environment" "timeout_ms = 999" "$out"

printf 'upstream: {\n  timeout_ms = 500;\n  nstart = 2;\n};\n' >"$WORK/src.conf"
out=$(HCPROXY_UPSTREAM_TIMEOUT_MS=700 "$HCPROXY" --config "$WORK/src.conf" --upstream-nstart 3 \
      --check-config 2>&1)
expect_match "--check-config says a value is the default" "hc_path = \"/hc/\"; # default" "$out"
expect_match "... or which variable set it" "timeout_ms = 700; # HCPROXY_UPSTREAM_TIMEOUT_MS" "$out"
expect_match "... or which flag" "nstart = 3; # --upstream-nstart" "$out"
expect_match "... and warns that the variable overrides the file" \
    "warning: HCPROXY_UPSTREAM_TIMEOUT_MS overrides upstream.timeout_ms, set at $WORK/src.conf:2" "$out"
out=$("$HCPROXY" --config "$WORK/src.conf" --check-config 2>&1)
expect_match "... or which line of the file" "nstart = 2; # $WORK/src.conf:3" "$out"

# Kubernetes writes HCPROXY_SERVICE_HOST and friends for a Service named hcproxy: not keys, no exit.
status=0; out=$(HCPROXY_SERVICE_HOST=10.96.0.11 HCPROXY_SERVICE_PORT=8080 HCPROXY_PORT=tcp://10.96.0.11:8080 \
    HCPROXY_PORT_8080_TCP=tcp://10.96.0.11:8080 HCPROXY_PORT_8080_TCP_PROTO=tcp \
    HCPROXY_PORT_8080_TCP_PORT=8080 HCPROXY_PORT_8080_TCP_ADDR=10.96.0.11 \
    "$HCPROXY" --check-config 2>&1) || status=$?
expect_eq "Kubernetes' service variables for a Service named hcproxy do not stop hcproxy" 0 "$status"
status=0; out=$(HCPROXY_UPSTREAM_ALOW=coap://10.0.0.0/8 "$HCPROXY" --check-config 2>&1) || status=$?
expect_eq "a misspelt variable still exits 2" 2 "$status"
expect_match "... naming it" "HCPROXY_UPSTREAM_ALOW: unknown variable" "$out"

# A key named by a variable that is not set: the start would fail, so the check does.
status=0; out=$(env -u NO_SUCH_PSK_VAR "$HCPROXY" --coap-psk 'dev1 key_env=NO_SUCH_PSK_VAR' \
    --check-config 2>&1) || status=$?
expect_eq "--check-config fails on an unset key_env variable" 2 "$status"
expect_match "... naming it" "key_env: the variable NO_SUCH_PSK_VAR is not set" "$out"

status=0; out=$("$HCPROXY" --upstream-allow 'coap://10.0.0.1/8' --check-config 2>&1) || status=$?
expect_eq "an allow rule with host bits set exits 2" 2 "$status"

status=0; out=$("$HCPROXY" --http-listen 'localhost:80' --check-config 2>&1) || status=$?
expect_eq "a listen address that is not an IP literal exits 2" 2 "$status"

done_testing
