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

status=0; out=$("$HCPROXY" --upstream-allow 'coap://10.0.0.1/8' --check-config 2>&1) || status=$?
expect_eq "an allow rule with host bits set exits 2" 2 "$status"

status=0; out=$("$HCPROXY" --http-listen 'localhost:80' --check-config 2>&1) || status=$?
expect_eq "a listen address that is not an IP literal exits 2" 2 "$status"

done_testing
