/* Sequences of datagrams from a few CoAP peers, with time passing and answers given late or not at
 * all (proxy/msglayer.c, decoding with mapping/wire.c): the message layer of hcproxy's plain
 * coap:// listeners, driven as the network and the proxy would. Each step of the input is one
 * datagram (raw bytes, a request, a repeat of an earlier datagram, an ACK or Reset for an answer
 * seen on the wire), one answer or abandonment, one Echo challenge, or time passing.
 *
 * Properties, besides sanitizer reports and leaks:
 *   - a request is never delivered while an earlier delivery with its peer and Message ID
 *     still waits for its answer;
 *   - every datagram hcproxy sends decodes, and fits in max_datagram;
 *   - a peer that never acknowledges anything nor returns an Echo value (peers 2 and 3) never
 *     gets more than three times the bytes it sent (RFC 7252 s11.3);
 *   - the entries and their bytes stay within their limits. */
#include <stdio.h>

#include "fuzz_input.h"
#include "msglayer.h"

#define MS 1000000ull
#define PEERS 4
#define MAX_PENDING 16
#define MAX_DATAGRAM 1152
#define AMPLIFICATION 3
#define MAX_ENTRIES 24
#define MAX_BYTES 4096

typedef struct pending {
    hcp_msglayer_exchange_t *x;
    unsigned peer;
    uint16_t mid;
} pending_t;

static pending_t pending[MAX_PENDING];
static size_t npending;
static uint64_t received_from[PEERS], sent_to[PEERS];
static uint8_t last_sent[PEERS][MAX_DATAGRAM], last_in[256];
static size_t last_sent_len[PEERS], last_in_len;
static unsigned last_in_peer;
static uint8_t rng_state;

static hcp_coap_peer_t peer_of(unsigned n)
{
    hcp_coap_peer_t p = { .len = 16 };

    p.bytes[0] = 2;
    p.bytes[7] = (uint8_t)n;
    return p;
}

static void rng(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(rng_state = (uint8_t)(rng_state * 37 + 11));
}

static void on_send(void *ctx, const hcp_coap_peer_t *peer, const uint8_t *dgram, size_t len)
{
    hcm_coap_header_t h;
    hcm_coap_msg_t m;
    unsigned n = peer->bytes[7];

    (void)ctx;
    if (n >= PEERS || len > MAX_DATAGRAM ||
        hcm_coap_decode((hcm_bytes_t){ dgram, len }, &h, &m, NULL) != HCM_WIRE_MESSAGE)
        abort();
    sent_to[n] += len;
    if (n >= 2 && sent_to[n] > AMPLIFICATION * received_from[n])
        abort(); /* amplification towards a peer that never showed it is there */
    memcpy(last_sent[n], dgram, len);
    last_sent_len[n] = len;
}

static void deliver(hcp_msglayer_t *ml, unsigned n, const uint8_t *dgram, size_t len,
                    uint64_t now)
{
    hcp_coap_peer_t p = peer_of(n);
    hcp_msglayer_event_t ev;

    received_from[n] += len;
    if (len <= sizeof last_in) {
        memcpy(last_in, dgram, len);
        last_in_len = len;
        last_in_peer = n;
    }
    if (hcp_msglayer_receive(ml, &p, dgram, len, now, &ev) != HCP_MSGLAYER_REQUEST)
        return;
    for (size_t i = 0; i < npending; i++)
        if (pending[i].peer == n && pending[i].mid == ev.header.mid)
            abort(); /* delivered twice while the first waits */
    if (npending == MAX_PENDING) { /* the proxy gives up on one */
        hcp_msglayer_abandon(ml, ev.exchange, now);
        return;
    }
    pending[npending++] = (pending_t){ ev.exchange, n, ev.header.mid };
}

/* The last datagram received, once more: a retransmission, or a late duplicate. */
static void repeat_last(hcp_msglayer_t *ml, uint64_t now)
{
    uint8_t copy[sizeof last_in];
    size_t len = last_in_len;

    memcpy(copy, last_in, len);
    if (len > 0)
        deliver(ml, last_in_peer, copy, len, now);
}

/* A request built from a few fields: type, Message ID from a small set, a token, maybe Echo. */
static void request_step(fuzz_input_t *in, hcp_msglayer_t *ml, unsigned n, uint64_t now)
{
    uint8_t ctl = fuzz_u8(in), dgram[300];
    hcm_coap_header_t h = { .type = ctl & 1, .mid = ctl >> 1 & 7, .token_len = ctl >> 4 & 7 };
    hcm_coap_msg_t m = { .code = (uint8_t)(1 + fuzz_u8(in) % 7) };
    hcm_bytes_t path = fuzz_bytes(in, fuzz_u8(in) % 40);
    uint8_t echo[8];
    size_t len;

    memset(h.token, 0xab, sizeof h.token);
    hcm_coap_msg_add(&m, 11, path);
    if (ctl & 0x80 && n < 2) { /* an Echo value: right when the byte says so */
        hcm_bytes_t e = fuzz_bytes(in, 8);
        memcpy(echo, e.p, e.len);
        hcm_coap_msg_add(&m, 252, (hcm_bytes_t){ echo, e.len });
    }
    if ((len = hcm_coap_encode(&h, &m, dgram, sizeof dgram)) > 0)
        deliver(ml, n, dgram, len, now);
}

/* An ACK or Reset for the last datagram the peer was sent. */
static void reply_step(fuzz_input_t *in, hcp_msglayer_t *ml, unsigned n, uint64_t now)
{
    uint8_t dgram[4] = { fuzz_u8(in) & 1 ? 0x70 : 0x60, 0, 0, 0 };

    if (last_sent_len[n] < 4)
        return;
    dgram[2] = last_sent[n][2];
    dgram[3] = last_sent[n][3];
    deliver(ml, n, dgram, sizeof dgram, now);
}

static void answer_step(fuzz_input_t *in, hcp_msglayer_t *ml, uint64_t now)
{
    static uint8_t body[2048];
    uint8_t ctl = fuzz_u8(in), echo[8];
    size_t i;
    hcm_coap_msg_t answer = { .code = 2 << 5 | 5 };

    if (npending == 0)
        return;
    i = ctl % npending;
    answer.payload = (hcm_bytes_t){ body, (size_t)fuzz_u16(in) % sizeof body };
    if (ctl & 0x80) {
        hcp_msglayer_abandon(ml, pending[i].x, now);
    } else if (ctl & 0x40) {
        hcp_msglayer_echo_challenge(ml, pending[i].x, echo, now);
        return;
    } else if (hcp_msglayer_answer(ml, pending[i].x, &answer, now) < 0) {
        answer.payload.len = 0; /* too big for the room: a short one, as the proxy would */
        if (hcp_msglayer_answer(ml, pending[i].x, &answer, now) < 0)
            hcp_msglayer_abandon(ml, pending[i].x, now);
    }
    pending[i] = pending[--npending];
}

static void check_limits(const hcp_msglayer_t *ml)
{
    hcp_msglayer_stats_t st;

    hcp_msglayer_stats(ml, &st);
    if (st.entries > MAX_ENTRIES || (st.bytes > MAX_BYTES && st.entries > 1))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = { data, size };
    hcp_msglayer_config_t cfg = {
        .piggyback_ns = 500 * MS, .max_entries = MAX_ENTRIES, .max_bytes = MAX_BYTES,
        .amplification = AMPLIFICATION, .max_datagram = MAX_DATAGRAM, .random = rng,
        .send = on_send,
    };
    hcp_msglayer_t *ml;
    uint64_t now = 0;

    npending = 0;
    rng_state = 0;
    memset(received_from, 0, sizeof received_from);
    memset(sent_to, 0, sizeof sent_to);
    memset(last_sent_len, 0, sizeof last_sent_len);
    last_in_len = 0;
    if ((ml = hcp_msglayer_new(&cfg)) == NULL)
        return 0;
    while (in.left > 0) {
        uint8_t op = fuzz_u8(&in);
        unsigned n = op >> 4 & 3;
        hcm_bytes_t raw;

        switch (op & 7) {
        case 0: /* raw bytes, only from the peers that may verify themselves */
            raw = fuzz_bytes(&in, fuzz_u8(&in) % 64);
            deliver(ml, n & 1, raw.p, raw.len, now);
            break;
        case 1:
        case 2:
            request_step(&in, ml, n, now);
            break;
        case 3:
            repeat_last(ml, now);
            break;
        case 4:
            if (n < 2)
                reply_step(&in, ml, n, now);
            break;
        case 5:
            answer_step(&in, ml, now);
            break;
        default: /* time passes: milliseconds or seconds */
            now += (uint64_t)fuzz_u16(&in) * (op & 8 ? 1000 : 10) * MS;
            break;
        }
        if (hcp_msglayer_next_deadline(ml) <= now)
            hcp_msglayer_tick(ml, now);
        check_limits(ml);
    }
    while (npending > 0)
        hcp_msglayer_abandon(ml, pending[--npending].x, now);
    hcp_msglayer_free(ml);
    return 0;
}
