#!/usr/bin/env bash
# Bearer tokens on the HTTP front end (http.bearer_tokens, RFC 6750): without one of them a
# request gets a 401 that says what is missing, /healthz stays open for container checks, the
# tokens never appear in the log or in --check-config, and a refused request keeps the
# connection when it has no body.
. "$(dirname "$0")/lib.sh"

T1=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA
T2=another-token_0123456789.~+/==
start_testserver
HCPROXY_HTTP_BEARER_TOKENS="$T1,$T2" start_hcproxy
U="http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/echo"

http "$U"
expect_eq "without a token: 401" 401 "$STATUS"
expect_eq "... naming the scheme" 'bearer realm="hcproxy"' "$(header www-authenticate)"
expect_match "... and a one-line reason" "a bearer token is required" "$BODY"
http -H "Authorization: Bearer not-a-configured-token-0000" "$U"
expect_eq "a wrong token: 401" 401 "$STATUS"
expect_eq "... with error=invalid_token" 'bearer realm="hcproxy", error="invalid_token"' "$(header www-authenticate)"
http -H "Authorization: Basic dXNlcjpwYXNz" "$U"
expect_eq "another scheme: 401" 401 "$STATUS"
http -H "Authorization: Bearer ${T1}x" "$U"
expect_eq "a configured token with a character more: 401" 401 "$STATUS"
http -H "Authorization: Bearer ${T1:0:20}" "$U"
expect_eq "a prefix of a configured token: 401" 401 "$STATUS"
http -H "Authorization: Bearer $T1" "$U?one"
expect_eq "the first token: the CoAP server answers" "200 one" "$STATUS $BODY"
http -H "Authorization: bearer $T2" "$U?two"
expect_eq "the second, with the scheme in lower case (RFC 7235 s2.1)" "200 two" "$STATUS $BODY"
http -X POST -H 'Content-Type: text/plain' --data-binary 'body' "$U"
expect_eq "a POST without a token: 401, before its body is read" 401 "$STATUS"
http "http://$PROXY/healthz"
expect_eq "/healthz needs no token" "200 ok" "$STATUS $BODY"
http "http://$PROXY/metrics"
expect_eq "/metrics does" 401 "$STATUS"

# A refused GET keeps its connection: the next request on it, with the token, is served.
# curl counts the connections each transfer opened.
out=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}:%{num_connects} ' "$U?a" \
    --next -s --max-time 10 -H "Authorization: Bearer $T1" -o "$WORK/second" \
    -w '%{http_code}:%{num_connects}' "$U?b" || true)
expect_eq "401 then 200 on one connection" "401:1 200:0" "$out"
expect_eq "... and the second was answered" "b" "$(cat "$WORK/second" 2>/dev/null)"

expect_eq "the tokens are not in hcproxy's log" "0" "$(grep -c -e "$T1" -e "${T2%%.*}" "$WORK/hcproxy.log" || true)"
HCPROXY_HTTP_BEARER_TOKENS="$T1,$T2" "$HCPROXY" --check-config >"$WORK/check" 2>&1 || true
expect_eq "--check-config counts them and shows none" "    bearer_tokens = [ ] /* 2 set, not shown */; # HCPROXY_HTTP_BEARER_TOKENS" \
    "$(grep bearer_tokens "$WORK/check")"
HCPROXY_HTTP_BEARER_TOKENS="short" "$HCPROXY" --check-config >"$WORK/check" 2>&1 || true
expect_eq "a token under 16 characters is refused at start" \
    "hcproxy: HCPROXY_HTTP_BEARER_TOKENS: http.bearer_tokens: token 1: must be 16 or more of A-Z a-z 0-9 - . _ ~ + / (then = padding), RFC 6750 s2.1" \
    "$(head -n1 "$WORK/check")"

done_testing
