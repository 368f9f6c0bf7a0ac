/* hcp_queue: an intrusive doubly-linked FIFO with O(1) push, pop and removal from anywhere.
 *
 * The upstream keeps the exchanges that wait for NSTART room (RFC 7252 s4.7) in one of these per
 * CoAP server. libcoap 4.3.1's own delay queue appends by walking to its tail and looks through
 * all of it for a duplicate message id, so a burst queued there costs O(n^2); here every
 * operation is O(1), and an exchange whose client hangs up leaves the queue in O(1) too.
 *
 * The links live inside the queued objects (like the Linux kernel's list_head): no allocation,
 * and the owner finds its object back with hcp_container_of() (container_of.h). Pure code, no I/O:
 * unit-tested in tests/unit/check_queue.c. */
#ifndef HCP_QUEUE_H
#define HCP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hcp_queue_link {
    struct hcp_queue_link *prev, *next; /* private: both NULL while not queued */
} hcp_queue_link_t;

typedef struct hcp_queue {
    hcp_queue_link_t head; /* private: a circular list through a sentinel */
    size_t length;    /* read-only */
} hcp_queue_t;

static inline void hcp_queue_init(hcp_queue_t *q)
{
    q->head.prev = q->head.next = &q->head;
    q->length = 0;
}

static inline bool hcp_queue_is_empty(const hcp_queue_t *q)
{
    return q->head.next == &q->head;
}

static inline bool hcp_queue_link_is_queued(const hcp_queue_link_t *link)
{
    return link->next != NULL;
}

/* Puts |link|, which must not be in any queue, between |prev| and |next|, neighbours in |q|. */
static inline void hcp_queue_link_between(hcp_queue_t *q, hcp_queue_link_t *link,
                                          hcp_queue_link_t *prev, hcp_queue_link_t *next)
{
    link->prev = prev;
    link->next = next;
    prev->next = link;
    next->prev = link;
    q->length++;
}

/* Appends |link|, which must not be in any queue. */
static inline void hcp_queue_push(hcp_queue_t *q, hcp_queue_link_t *link)
{
    hcp_queue_link_between(q, link, q->head.prev, &q->head);
}

/* Puts |link|, which must not be in any queue, before every other: the next one popped. */
static inline void hcp_queue_push_front(hcp_queue_t *q, hcp_queue_link_t *link)
{
    hcp_queue_link_between(q, link, &q->head, q->head.next);
}

/* Takes |link| out of |q|, the queue it is in. */
static inline void hcp_queue_remove(hcp_queue_t *q, hcp_queue_link_t *link)
{
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->prev = link->next = NULL;
    q->length--;
}

/* The oldest link, taken out of the queue; NULL when the queue is empty. */
static inline hcp_queue_link_t *hcp_queue_pop(hcp_queue_t *q)
{
    hcp_queue_link_t *first = q->head.next;

    if (first == &q->head)
        return NULL;
    hcp_queue_remove(q, first);
    return first;
}

#endif
