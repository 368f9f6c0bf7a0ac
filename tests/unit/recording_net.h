/* A network for the unit tests of the CoAP message layers (check_msglayer.c, check_msgclient.c):
 * it records every datagram sent, and its randomness is a counter, so that a test knows which
 * Message ID comes next. */
#ifndef HCPROXY_TESTS_RECORDING_NET_H
#define HCPROXY_TESTS_RECORDING_NET_H

#include <check.h>
#include <string.h>

#include "coap_peer.h"

#define MAX_SENT 64

typedef struct sent {
    hcp_coap_peer_t peer;
    uint8_t dgram[1200];
    size_t len;
} sent_t;

static sent_t sent[MAX_SENT];
static size_t nsent;
static uint8_t next_random;

static void record(void *ctx, const hcp_coap_peer_t *peer, const uint8_t *dgram, size_t len)
{
    (void)ctx;
    ck_assert_uint_lt(nsent, MAX_SENT);
    ck_assert_uint_le(len, sizeof sent[0].dgram);
    sent[nsent].peer = *peer;
    memcpy(sent[nsent].dgram, dgram, len);
    sent[nsent++].len = len;
}

static void counter_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = next_random++;
}

#endif
