#!/bin/bash
# Docker HEALTHCHECK for hcproxy: "GET /healthz" on the first HTTP listen address must answer 200.
#
# The runtime image has no curl, so this speaks HTTP/1.0 over bash's /dev/tcp. The address comes
# from HCPROXY_HTTP_LISTEN (the image sets 0.0.0.0:8080; a comma-separated list uses its first
# entry): a wildcard address is probed on loopback, anything else as given. Exit 0 healthy, 1 not.
set -u

listen=${HCPROXY_HTTP_LISTEN:-127.0.0.1:8080}
listen=${listen%%,*}                 # first of a comma-separated list
listen=${listen//[[:space:]]/}
port=${listen##*:}
host=${listen%:*}
host=${host#\[}
host=${host%\]}
case $host in
    '' | 0.0.0.0 | '*') host=127.0.0.1 ;;
    :: | '[::]') host=::1 ;;
esac
case $host in
    *:*) hosthdr="[$host]:$port" ;;   # IPv6 literal
    *) hosthdr="$host:$port" ;;
esac
case $port in
    '' | *[!0-9]*) echo "healthcheck: cannot read a port from HCPROXY_HTTP_LISTEN='$listen'"; exit 1 ;;
esac

if ! { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
    echo "healthcheck: cannot connect to $hosthdr"
    exit 1
fi
printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$hosthdr" >&3
status=
IFS=$' \t\r' read -r -t 3 version code _ <&3 && status="$version $code"
exec 3<&-
case $status in
    "HTTP/1."[01]" 200") exit 0 ;;
esac
echo "healthcheck: GET http://$hosthdr/healthz answered '${status:-nothing}'"
exit 1
