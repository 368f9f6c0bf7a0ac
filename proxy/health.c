/* hcproxy --health-check: a container's HEALTHCHECK without curl. It asks the running hcproxy
 * itself: GET /healthz on its first http.listen address, 200 or not.
 *
 * The address is the one the running hcproxy was configured with, whatever set it: a container
 * engine runs the check as a new process, which sees the image's environment but none of the
 * flags given to hcproxy (docker run IMAGE --http-listen 0.0.0.0:9000). So the check finds the
 * process that runs the same executable (/proc/PID/exe; the oldest, the container's PID 1 when
 * hcproxy is the entrypoint), reads its arguments and environment from /proc/PID/cmdline and
 * /proc/PID/environ (readable by the same user only), and configures itself from them as that
 * process did: defaults, file, environment, flags. Given flags of its own besides
 * --health-check, or when no such process is found, it uses its own configuration. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hcc.h"
#include "health.h"
#include "sockaddr.h"

#define PROBE_TIMEOUT_MS 3000
#define PROC_TEXT_MAX (1u << 20) /* bounds /proc/PID/cmdline and environ */

/* ---- the running hcproxy ------------------------------------------------------------------- */

/* The oldest other process running the executable at |exe|, or 0. */
static pid_t find_running(const char *exe)
{
    DIR *dir = opendir("/proc");
    struct dirent *e;
    pid_t best = 0;

    while (dir != NULL && (e = readdir(dir)) != NULL) {
        char link[64], target[PATH_MAX];
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        ssize_t n;

        if (*end != '\0' || pid <= 0 || pid == getpid())
            continue;
        snprintf(link, sizeof link, "/proc/%ld/exe", pid);
        if ((n = readlink(link, target, sizeof target - 1)) < 0)
            continue; /* another user's, or gone */
        target[n] = '\0';
        if (strcmp(target, exe) == 0 && (best == 0 || pid < best))
            best = (pid_t)pid;
    }
    if (dir != NULL)
        closedir(dir);
    return best;
}

/* The NUL-separated strings of a /proc file, as a NULL-terminated vector into its text. */
typedef struct proc_strings {
    char *text;
    size_t len;
    char **vec;
    int count;
} proc_strings_t;

/* Wipes the text (an environment holds keys: coap.psk's and the like may be given in variables)
 * and frees. */
static void proc_strings_free(proc_strings_t *p)
{
    if (p->text != NULL)
        explicit_bzero(p->text, p->len);
    free(p->text);
    free(p->vec);
}

/* Reads /proc/|pid|/|what|. 0, or -1 when it is unreadable, with nothing left behind. */
static int read_strings(pid_t pid, const char *what, proc_strings_t *out)
{
    proc_strings_t p = {0};
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, what);
    if ((p.text = malloc(PROC_TEXT_MAX + 1)) == NULL)
        return -1;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        goto fail_text;
    while (p.len < PROC_TEXT_MAX && (n = read(fd, p.text + p.len, PROC_TEXT_MAX - p.len)) > 0)
        p.len += (size_t)n;
    close(fd);
    p.text[p.len] = '\0';
    for (size_t i = 0; i < p.len; i++)
        p.count += p.text[i] == '\0';
    if ((p.vec = malloc((size_t)(p.count + 2) * sizeof *p.vec)) == NULL)
        goto fail_text;
    p.count = 0;
    for (size_t i = 0; i < p.len; i += strlen(p.text + i) + 1)
        p.vec[p.count++] = p.text + i;
    p.vec[p.count] = NULL;
    *out = p;
    return 0;

fail_text:
    proc_strings_free(&p);
    return -1;
}

/* Configures |cfg| as the running hcproxy |pid| configured itself. 0, or -1 with |why| (and
 * |cfg| then holds nothing to free). */
static int configure_as(pid_t pid, hcc_config_t *cfg, char *why, size_t len)
{
    proc_strings_t args = {0}, env = {0};
    hcc_action_t action;
    int rc = -1;

    if (read_strings(pid, "cmdline", &args) < 0 || read_strings(pid, "environ", &env) < 0 ||
        args.count == 0) {
        snprintf(why, len, "cannot read the arguments and environment of process %ld", (long)pid);
    } else if (hcc_configure(cfg, args.count, args.vec, env.vec, &action, why, len) == 0) {
        rc = 0;
    } else {
        hcc_free(cfg);
    }
    proc_strings_free(&args);
    proc_strings_free(&env);
    return rc;
}

/* ---- the probe ------------------------------------------------------------------------------- */

/* A wildcard listener is reached on loopback. */
static void probe_address(const struct sockaddr_storage *listen, struct sockaddr_storage *out)
{
    *out = *listen;
    if (out->ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)out;
        if (in->sin_addr.s_addr == htonl(INADDR_ANY))
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            in6->sin6_addr = in6addr_loopback;
    }
}

static int wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};

    return poll(&p, 1, PROBE_TIMEOUT_MS) == 1 ? 0 : -1;
}

/* Sends GET /healthz to |sa| and reads the status line into |status|. 0 or -1 with |why|. */
static int get_healthz(const struct sockaddr *sa, const char *where, char *status, size_t len,
                       char *why, size_t whylen)
{
    char req[256];
    size_t got = 0;
    ssize_t n;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = 0;
    socklen_t errlen = sizeof err;

    if (fd < 0 || (connect(fd, sa, (socklen_t)hcp_sockaddr_len(sa)) < 0 && errno != EINPROGRESS) ||
        wait_for(fd, POLLOUT) < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 ||
        err != 0) {
        snprintf(why, whylen, "cannot connect to %s: %s", where,
                 strerror(err != 0 ? err : errno ? errno : ETIMEDOUT));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    n = snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                 where);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(why, whylen, "cannot send to %s", where);
        close(fd);
        return -1;
    }
    while (got + 1 < len && memchr(status, '\n', got) == NULL && wait_for(fd, POLLIN) == 0 &&
           (n = recv(fd, status + got, len - 1 - got, 0)) > 0)
        got += (size_t)n;
    close(fd);
    status[got] = '\0';
    status[strcspn(status, "\r\n")] = '\0';
    if (got == 0) {
        snprintf(why, whylen, "no answer from %s within %d ms", where, PROBE_TIMEOUT_MS);
        return -1;
    }
    return 0;
}

static int probe(const hcc_config_t *cfg, const char *whose)
{
    struct sockaddr_storage ss;
    char where[INET6_ADDRSTRLEN + 8], status[256], why[256];

    if (cfg->nlisten_addrs == 0) {
        printf("unhealthy: %s has no http.listen address (--health-check speaks plain HTTP)\n",
               whose);
        return 1;
    }
    probe_address(&cfg->listen_addrs[0], &ss);
    hcp_sockaddr_format((const struct sockaddr *)&ss, where, sizeof where);
    if (((struct sockaddr_in *)&ss)->sin_port == 0) {
        printf("unhealthy: %s's http.listen port is 0 (chosen by the kernel): nothing to probe\n",
               whose);
        return 1;
    }
    if (get_healthz((const struct sockaddr *)&ss, where, status, sizeof status, why,
                    sizeof why) < 0) {
        printf("unhealthy: %s: %s\n", whose, why);
        return 1;
    }
    if (strncmp(status, "HTTP/1.1 200 ", 13) != 0 && strncmp(status, "HTTP/1.0 200 ", 13) != 0) {
        printf("unhealthy: %s: GET http://%s/healthz answered \"%s\"\n", whose, where, status);
        return 1;
    }
    printf("healthy: %s: GET http://%s/healthz answered 200\n", whose, where);
    return 0;
}

int hcp_health_check(const hcc_config_t *own, bool own_only)
{
    char exe[PATH_MAX], why[1024], whose[64];
    hcc_config_t theirs;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    pid_t pid = 0;
    int status;

    if (!own_only && n > 0) {
        exe[n] = '\0';
        pid = find_running(exe);
    }
    if (pid == 0)
        return probe(own, "hcproxy (this configuration)");
    snprintf(whose, sizeof whose, "hcproxy (pid %ld)", (long)pid);
    if (configure_as(pid, &theirs, why, sizeof why) < 0) {
        printf("unhealthy: %s: %s\n", whose, why);
        return 1;
    }
    status = probe(&theirs, whose);
    hcc_free(&theirs);
    return status;
}
