#!/bin/sh
# Docker HEALTHCHECK for hcproxy: "hcproxy --health-check" asks the running hcproxy (the
# container's entrypoint) for GET /healthz on its first http.listen address, as hcproxy itself
# was configured: file, HCPROXY_* variables and the flags given to `docker run IMAGE ...`, which
# this process could not see otherwise (proxy/health.c). Exit 0 healthy, 1 not; one line
# of output, which `docker inspect` shows. HEALTHCHECK_HCPROXY names another binary (tests).
exec "${HEALTHCHECK_HCPROXY:-/usr/local/bin/hcproxy}" --health-check
