#!/usr/bin/env bash
# hcproxy's CoAP client failing at start (hcp_upstream_new): the process reports it and exits 1,
# having released what it had made: the upstream.credentials keys (wiped and freed: under ASan,
# LeakSanitizer finds any byte left), and a poll handle already in the loop (closed before its
# memory goes: under ASan, a freed handle the loop still lists is a heap-use-after-free). The
# failures come from tests/integration/faultinject.c, preloaded.
source "$(dirname "$0")/lib.sh"
: "${FAULTINJECT:?FAULTINJECT must name the fault-injection library}"

# A preloaded library comes before ASan's runtime in the list; ASan accepts that when told.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# start_failing FAULT: hcproxy with |FAULT| injected and a coaps credential whose key is read at
# start; sets STATUS to its exit status.
start_failing() {
    STATUS=0
    UP_PSK=up-secret-0123456789 HCP_FAULT=$1 LD_PRELOAD=$FAULTINJECT timeout 20 "$HCPROXY" \
        --http-listen 127.0.0.1:0 --coap-listen 127.0.0.1:0 \
        --upstream-credentials "coaps://127.0.0.1:5684 psk identity=hcproxy key_env=UP_PSK" \
        >"$WORK/hcproxy.log" 2>&1 || STATUS=$?
}

for fault in coap_new_context uv_poll_start; do
    start_failing "$fault"
    expect_eq "$fault failing: hcproxy exits 1" 1 "$STATUS"
    expect_match "... saying the CoAP client could not start" "cannot start the CoAP client" \
        "$(cat "$WORK/hcproxy.log")"
    if grep -q -E 'Sanitizer|runtime error:' "$WORK/hcproxy.log"; then
        not_ok "... with no leak or sanitizer report" \
            "$(grep -m3 -E 'Sanitizer|runtime error:|#[0-9]+ ' "$WORK/hcproxy.log" | head -n 8)"
    else
        ok "... with no leak or sanitizer report"
    fi
done

done_testing
