/* hcp: hcproxy's I/O side. Everything here runs on one uv_loop_t: libmicrohttpd (front.c) and
 * libcoap (upstream.h) each keep an epoll set watched by a uv_poll_t, and an exchange
 * (exchange.h) carries one HTTP request to its CoAP answer and back. */
#ifndef HCP_H
#define HCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "hcc.h"
#include "hcm.h"
#include "queue.h"

/* Transitional: every module has its own header now (the shared state is proxy.h's); hcp.h only
 * gathers them for the files that include hcp.h alone, until each includes what it uses. */
#include "coap_tls.h"
#include "exchange.h"
#include "front.h"
#include "health.h"
#include "local.h"
#include "log.h"
#include "metrics.h"
#include "origin.h"
#include "policy.h"
#include "proxy.h"
#include "reload.h"
#include "reverse.h"
#include "secrets.h"
#include "sockaddr.h"
#include "upstream.h"

/* Transitional: the old names of functions renamed to their file's prefix, for the files that
 * still call them so. To drop these:
 * sed -i 's/hcp_request_id_make/hcp_log_request_id/g; s/hcp_cause_label/hcp_metrics_cause_label/g;
 *   s/hcp_coap_keys_install/hcp_coap_tls_install/g; s/hcp_coap_pem/hcp_coap_tls_pem/g;
 *   s/hcp_request_id_ok/hcp_text_request_id_ok/g; s/hcp_traceparent_ok/hcp_text_traceparent_ok/g'
 *   proxy/[a-z]*.c */
#define hcp_request_id_make hcp_log_request_id
#define hcp_request_id_ok hcp_text_request_id_ok
#define hcp_traceparent_ok hcp_text_traceparent_ok
#define hcp_cause_label hcp_metrics_cause_label
#define hcp_coap_keys_install hcp_coap_tls_install
#define hcp_coap_pem hcp_coap_tls_pem

#endif
