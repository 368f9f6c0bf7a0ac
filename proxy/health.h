/* health.c: hcproxy --health-check. */
#ifndef HCP_HEALTH_H
#define HCP_HEALTH_H

#include <stdbool.h>

#include "hcc.h"

/* GET /healthz on the first http.listen address of the running hcproxy (found in /proc, its
 * configuration read as it read it), or of |own| when |own_only| or none runs; prints one line.
 * 0 when it answered 200, else 1. */
int hcp_health_check(const hcc_config_t *own, bool own_only);

#endif
