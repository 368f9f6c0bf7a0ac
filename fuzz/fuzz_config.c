/* The configuration (config/load.c, text.c, rules.c, routes.c, finish.c): the input as a
 * configuration file, checked the way hcproxy checks one at start. A file that @includes
 * another is skipped: the fuzzer would only be reading this machine's files. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "hcc.h"

/* Properties of the path rules whatever the rules are: a rule without a path allows every path
 * of its destinations, and a path with a dot segment is allowed by those rules alone. */
static void check_path_rules(const hcc_config_t *cfg)
{
    static const char *const paths[] = {"/", "/a", "/a/b/c", "/%61/b", "/a%2Fb", "/a/../b",
                                        "/%2e%2E", ""};
    static const uint8_t loopback[4] = {127, 0, 0, 1};

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        bool any = hcc_allows(cfg, "coap", "localhost", AF_INET, loopback, 5683, NULL);
        bool this = hcc_allows(cfg, "coap", "localhost", AF_INET, loopback, 5683, paths[i]);
        bool dots = strstr(paths[i], "..") != NULL || strstr(paths[i], "%2e%2E") != NULL;

        if ((any && !this) || (dots && this && !any))
            abort();
        any = hcc_origin_allows(cfg, "http", "localhost", AF_INET, loopback, 80, NULL);
        this = hcc_origin_allows(cfg, "http", "localhost", AF_INET, loopback, 80, paths[i]);
        if ((any && !this) || (dots && this && !any))
            abort();
    }
}

/* origin.no_proxy only ever keeps an origin away from origin.http_proxy: with none configured,
 * nothing is proxied, whatever the list says. */
static void check_egress(const hcc_config_t *cfg)
{
    static const char *const hosts[] = {"localhost", "127.0.0.1", "api.example.com", "::1",
                                        "10.1.2.3"};

    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        if (cfg->origin_http_proxy[0] == '\0' && hcc_origin_proxied(cfg, "https", hosts[i], 443))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    char path[64], err[512];
    hcc_config_t cfg;

    if (memmem(data, size, "@include", 8) != NULL)
        return 0;
    if (fd < 0 && (fd = memfd_create("hcproxy-fuzz.conf", 0)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (hcc_defaults(&cfg, err, sizeof err) != 0)
        abort();
    if (hcc_load_file(&cfg, path, err, sizeof err) == 0 && hcc_finish(&cfg, err, sizeof err) == 0) {
        check_path_rules(&cfg);
        check_egress(&cfg);
    }
    hcc_free(&cfg);
    return 0;
}
