/* The first resolved address a destination policy allows (proxy/address.c). */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "address.h"
#include "hcm.h"
#include "run_suite.h"

/* A resolver's list of up to 4 entries, built from text ("192.0.2.1", "2001:db8::1", or "unix"
 * for an entry of another family). */
typedef struct list {
    struct addrinfo ai[4];
    struct sockaddr_storage ss[4];
} list_t;

static const struct addrinfo *make(list_t *l, const char *const *addrs, size_t n)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&l->ss[i];
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->ss[i];
        if (inet_pton(AF_INET, addrs[i], &sin->sin_addr) == 1) {
            sin->sin_family = AF_INET;
            l->ai[i].ai_addrlen = sizeof *sin;
        } else if (inet_pton(AF_INET6, addrs[i], &sin6->sin6_addr) == 1) {
            sin6->sin6_family = AF_INET6;
            l->ai[i].ai_addrlen = sizeof *sin6;
        } else {
            l->ss[i].ss_family = AF_UNIX;
        }
        l->ai[i].ai_family = l->ss[i].ss_family;
        l->ai[i].ai_addr = (struct sockaddr *)&l->ss[i];
        l->ai[i].ai_next = i + 1 < n ? &l->ai[i + 1] : NULL;
    }
    return n > 0 ? &l->ai[0] : NULL;
}

/* The policy of these tests: 192.0.2.0/24 is forbidden, 198.51.100.0/24 is a multicast-like
 * refusal of its own, everything else is allowed; each call is counted, with the port seen. */
typedef struct judge_log {
    int calls;
    uint16_t port;
} judge_log_t;

static int judge(const void *ctx, const struct sockaddr *sa)
{
    judge_log_t *log = (judge_log_t *)ctx;
    struct sockaddr_in v4;
    const uint8_t *ip = (const uint8_t *)&v4.sin_addr;

    memcpy(&v4, sa, sizeof v4); /* sin_port is at the same offset in a sockaddr_in6 */
    log->calls++;
    log->port = ntohs(v4.sin_port);
    if (sa->sa_family != AF_INET)
        return 0;
    if (ip[0] == 192 && ip[1] == 0 && ip[2] == 2)
        return HCM_EFORBIDDEN;
    if (ip[0] == 198 && ip[1] == 51 && ip[2] == 100)
        return HCM_EMULTICAST;
    return 0;
}

static const char *text_of(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    const void *ip = ss->ss_family == AF_INET
                         ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                         : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    return inet_ntop(ss->ss_family, ip, buf, (socklen_t)len);
}

START_TEST(the_first_allowed_address_with_the_port)
{
    static const char *const addrs[] = {"192.0.2.1", "unix", "2001:db8::1", "203.0.113.5"};
    list_t l;
    judge_log_t log = {0};
    struct sockaddr_storage out;
    char text[64];

    ck_assert_int_eq(hcp_address_pick(make(&l, addrs, 4), 5683, judge, &log, &out), 0);
    ck_assert_str_eq(text_of(&out, text, sizeof text), "2001:db8::1");
    ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&out)->sin6_port), 5683);
    ck_assert_int_eq(log.calls, 2); /* the other family is refused unasked; none after the pick */
    ck_assert_uint_eq(log.port, 5683);
}
END_TEST

START_TEST(none_allowed_gives_the_first_ones_reason)
{
    static const char *const multicast_first[] = {"198.51.100.7", "192.0.2.1"};
    static const char *const other_family_first[] = {"unix", "198.51.100.7"};
    list_t l;
    judge_log_t log = {0};
    struct sockaddr_storage out;

    ck_assert_int_eq(hcp_address_pick(make(&l, multicast_first, 2), 80, judge, &log, &out),
                     HCM_EMULTICAST);
    ck_assert_int_eq(log.calls, 2);
    ck_assert_int_eq(hcp_address_pick(make(&l, other_family_first, 2), 80, judge, &log, &out),
                     HCM_EFORBIDDEN);
}
END_TEST

START_TEST(an_empty_list_is_forbidden)
{
    judge_log_t log = {0};
    struct sockaddr_storage out;

    ck_assert_int_eq(hcp_address_pick(NULL, 80, judge, &log, &out), HCM_EFORBIDDEN);
    ck_assert_int_eq(log.calls, 0);
}
END_TEST

static Suite *address_suite(void)
{
    Suite *s = suite_create("address");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, the_first_allowed_address_with_the_port);
    tcase_add_test(tc, none_allowed_gives_the_first_ones_reason);
    tcase_add_test(tc, an_empty_list_is_forbidden);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(address_suite());
}
