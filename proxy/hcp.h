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

#endif
