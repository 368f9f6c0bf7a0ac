/* observe: CoAP observations (RFC 7641) held for HTTP streams of notifications, shared where the
 * requests are the same (observe.c). The exchange that asked for a stream (exchange_stream.c)
 * joins one as a subscriber and writes what it is handed; the framing of the notifications
 * (server-sent events or multipart/mixed: mapping/observe.c) is done here, once per
 * notification for all the subscribers of an observation.
 *
 * Subscribers to the same CoAP server, with the same GET request (the same options: target,
 * Accept and all), share one observation (RFC 7641 s3.1 lets a proxy do so, s5: one per
 * resource); a new one is handed the latest notification first. OSCORE observations and FETCH
 * ones are never shared: an OSCORE registration is its client's own, which an intermediary must
 * not start or take over (RFC 8613 s4.1.3.5). When the last subscriber leaves, the observation
 * is cancelled, and the server's next notification is answered with a Reset (RFC 7641 s3.6). */
#ifndef HCP_OBSERVE_H
#define HCP_OBSERVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "hcm.h"

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_observe hcp_observe_t;
typedef struct hcp_observe_sub hcp_observe_sub_t;

/* What a subscriber is told; called from the loop, never from within a hcp_observe_* call, and
 * they must not call hcp_observe_leave() themselves. */
typedef struct hcp_observe_handler {
    /* The first answer was no notification: an error (|msg|, a 4.xx or 5.xx) or a failure (|msg|
     * NULL, |err| a negative HCM_E* code). No stream opens; the subscriber is gone. */
    void (*on_refused)(void *data, const hcm_coap_msg_t *msg, int err);
    /* The stream opens, with this Content-Type (text/event-stream, or multipart/mixed with its
     * boundary); bytes follow. */
    void (*on_open)(void *data, const char *content_type);
    /* More of the stream's body: an event, a part, or its end. */
    void (*on_bytes)(void *data, hcm_bytes_t bytes);
    /* The stream is over (its last bytes came before); the subscriber is gone. */
    void (*on_close)(void *data);
} hcp_observe_handler_t;

typedef struct hcp_observe_request {
    const struct sockaddr *server;
    const hcm_target_t *target;
    const hcm_coap_msg_t *msg; /* carries Observe: 0; copied */
    hcm_req_info_t info;       /* for the response mapping (hcm_response_to_http()) */
    hcm_stream_t stream;       /* HCM_STREAM_SSE or HCM_STREAM_MULTIPART */
    const struct sockaddr *client; /* whose observe.max_streams_per_client it counts in */
    uint64_t exchange;         /* the id its log lines carry */
} hcp_observe_request_t;

/* 0, or a UV_E* code with nothing left behind. */
int hcp_observe_new(hcp_proxy_t *proxy, hcp_observe_t **out);
/* Cancels every observation (no subscriber is told) and frees |obs| once its handles close. */
void hcp_observe_close(hcp_observe_t *obs);

/* Subscribes to the stream |req| asks for: 0 with *out set, or a negative HCM_E* code
 * (HCM_EOBSERVESTREAMS, HCM_EOBSERVECLIENT, HCM_EOBSERVERESOURCE for the observe.* limits, or
 * what hcp_upstream_observe() refused) with no callback to come. */
int hcp_observe_join(hcp_observe_t *obs, const hcp_observe_request_t *req,
                     const hcp_observe_handler_t *handler, void *data, hcp_observe_sub_t **out);
/* The subscriber goes (its client left); no callback follows. */
void hcp_observe_leave(hcp_observe_sub_t *sub);
/* Ends every stream, each with its end event or close delimiter (at shutdown). */
void hcp_observe_end_all(hcp_observe_t *obs);

#endif
