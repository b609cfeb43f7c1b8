/* trivial_stream_backend: the backend of the "stream backend" round trip workload, the stream
 * twin of trivial_backend.c: as cheap as we can make it, so that wsgated in front of it is what
 * is measured. One thread, epoll, level-triggered.
 *
 * wsgated connects to it, one stream per worker (SPEC §4 "stream"). Frames both ways are one
 * header line of JSON (at most 64 KiB), "\n", then exactly `size` payload bytes (size absent = 0).
 * For every `message` event it answers
 *     {"action":"send","conn":"<conn>","binary":<as received>,"size":N}\n<the same N bytes>
 * and ignores everything else (hello, connect, disconnect, ack): the echo of trivial_backend.c.
 *
 *   trivial_stream_backend [LISTENER]...
 *     LISTENER with a '/' = a Unix socket path (a stale socket there is replaced), otherwise a TCP
 *     port on 127.0.0.1 (0 = a free one); none = one free TCP port. Prints "listening PORT" or
 *     "listening PATH" on stdout, one line per listener, once all of them listen.
 *
 * Header parsing: only the top-level keys of the header object are looked at (a small scanner
 * that skips nested objects, arrays and strings, so a claim or header named "size" or "event" in
 * a connect frame cannot be mistaken for the frame's own). It assumes what wsgated writes: one
 * JSON object, UTF-8, no duplicate keys, `conn` a JSON string (echoed back as it came, escapes
 * included), `binary` the literal true or false, `size` a plain non-negative integer. Key order
 * does not matter. It is not a JSON validator: a header it cannot scan ends that stream.
 *
 * Bounded: a header over 64 KiB, a size over 64 MiB or an unscannable header closes the stream;
 * sockets are non-blocking, answers wait in a per-stream buffer written when the socket is
 * writable, and past OUT_HIGH bytes waiting the stream is not read until they drain (TCP then
 * pushes back on wsgated, which is what its max_buffer is for). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { HEADER_MAX = 64 * 1024, READ_CHUNK = 65536, MAX_LISTENERS = 16 };
#define SIZE_MAX_PAYLOAD ((uint64_t)64 << 20)
#define OUT_HIGH ((size_t)8 << 20)

struct buf { char *p; size_t len, cap; };
struct stream {
    int fd, listener; /* listener: an accepting socket, not a stream */
    int reading;      /* EPOLLIN wanted (off while OUT_HIGH bytes wait) */
    struct buf in, out;
};

static int reserve(struct buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p; b->cap = cap;
    return 0;
}
static int append(struct buf *b, const void *d, size_t n) {
    if (reserve(b, n)) return -1;
    memcpy(b->p + b->len, d, n); b->len += n;
    return 0;
}
static void consume(struct buf *b, size_t n) {
    if (!n) return;
    memmove(b->p, b->p + n, b->len - n); b->len -= n;
}

/* ------------------------------------------------------------------ the header */

struct header {
    const char *event, *conn; /* string contents, without the quotes; NULL = absent */
    size_t event_len, conn_len;
    int binary;               /* -1 absent, 0 false, 1 true */
    uint64_t size;            /* absent = 0 */
};

static const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}
/* p at an opening quote: returns just past the closing one, or NULL. */
static const char *skip_string(const char *p, const char *e) {
    for (p++; p < e; p++) {
        if (*p == '\\') { p++; continue; }
        if (*p == '"') return p + 1;
    }
    return NULL;
}
/* p at a value: returns just past it, or NULL. Containers are skipped by depth, strings in them
 * by their quotes; scalars run to the next ',', '}' or ']' (not validated). */
static const char *skip_value(const char *p, const char *e) {
    if (p >= e) return NULL;
    if (*p == '"') return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            if (*p == '"') { if (!(p = skip_string(p, e))) return NULL; continue; }
            if (*p == '{' || *p == '[') depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ') p++;
    return p > s ? p : NULL;
}

static int key_is(const char *k, size_t kl, const char *name) {
    return kl == strlen(name) && memcmp(k, name, kl) == 0;
}

/* The top-level keys of the header [p, e): 0, or -1 when it cannot be scanned. */
static int parse_header(const char *p, const char *e, struct header *h) {
    memset(h, 0, sizeof *h);
    h->binary = -1;
    p = ws(p, e);
    if (p >= e || *p != '{') return -1;
    p = ws(p + 1, e);
    if (p < e && *p == '}') return 0;
    for (;;) {
        if (p >= e || *p != '"') return -1;
        const char *k = p + 1, *ke = skip_string(p, e);
        if (!ke) return -1;
        size_t kl = (size_t)(ke - 1 - k);
        p = ws(ke, e);
        if (p >= e || *p != ':') return -1;
        const char *v = ws(p + 1, e), *ve = skip_value(v, e);
        if (!ve) return -1;
        if (key_is(k, kl, "event") || key_is(k, kl, "conn")) {
            if (*v != '"') return -1;
            if (k[0] == 'e') { h->event = v + 1; h->event_len = (size_t)(ve - v - 2); }
            else { h->conn = v + 1; h->conn_len = (size_t)(ve - v - 2); }
        } else if (key_is(k, kl, "binary")) {
            if (ve - v == 4 && memcmp(v, "true", 4) == 0) h->binary = 1;
            else if (ve - v == 5 && memcmp(v, "false", 5) == 0) h->binary = 0;
            else return -1;
        } else if (key_is(k, kl, "size")) {
            uint64_t n = 0;
            for (const char *d = v; d < ve; d++) {
                if (*d < '0' || *d > '9' || n > SIZE_MAX_PAYLOAD) return -1;
                n = n * 10 + (uint64_t)(*d - '0');
            }
            h->size = n;
        }
        p = ws(ve, e);
        if (p < e && *p == ',') { p = ws(p + 1, e); continue; }
        if (p < e && *p == '}') return 0;
        return -1;
    }
}

/* ------------------------------------------------------------------ one stream */

/* The complete frames at the start of s->in: answers appended to s->out, what they took
 * consumed. 0, or -1 to end the stream. */
static int frames(struct stream *s) {
    size_t off = 0;
    int r = 0;
    while (off < s->in.len) {
        const char *hp = s->in.p + off;
        size_t avail = s->in.len - off;
        const char *nl = memchr(hp, '\n', avail < HEADER_MAX + 1 ? avail : HEADER_MAX + 1);
        if (!nl) { if (avail > HEADER_MAX) r = -1; break; }
        struct header h;
        if (parse_header(hp, nl, &h) || h.size > SIZE_MAX_PAYLOAD) { r = -1; break; }
        size_t hl = (size_t)(nl - hp) + 1;
        if (avail - hl < h.size) break; /* the payload is not all here yet */
        if (h.event && h.event_len == 7 && memcmp(h.event, "message", 7) == 0) {
            if (!h.conn) { r = -1; break; }
            char head[256];
            int n = snprintf(head, sizeof head, "{\"action\":\"send\",\"conn\":\"");
            if (append(&s->out, head, (size_t)n) || append(&s->out, h.conn, h.conn_len)) { r = -1; break; }
            n = snprintf(head, sizeof head, "\",\"binary\":%s,\"size\":%llu}\n",
                         h.binary == 1 ? "true" : "false", (unsigned long long)h.size);
            if (append(&s->out, head, (size_t)n) || append(&s->out, hp + hl, (size_t)h.size)) { r = -1; break; }
        }
        off += hl + (size_t)h.size;
    }
    consume(&s->in, off);
    return r;
}

static int flush(struct stream *s) {
    size_t off = 0;
    while (off < s->out.len) {
        ssize_t n = send(s->fd, s->out.p + off, s->out.len - off, MSG_NOSIGNAL);
        if (n < 0) { if (errno == EAGAIN) break; if (errno == EINTR) continue; return -1; }
        off += (size_t)n;
    }
    consume(&s->out, off);
    return 0;
}

static void drop(int ep, struct stream *s) {
    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd); free(s->in.p); free(s->out.p); free(s);
}

/* Interest: write while something waits; stop reading at OUT_HIGH bytes waiting, resume
 * below half of it. */
static void rearm(int ep, struct stream *s) {
    if (s->reading && s->out.len >= OUT_HIGH) s->reading = 0;
    else if (!s->reading && s->out.len < OUT_HIGH / 2) s->reading = 1;
    struct epoll_event ev = { .events = (s->reading ? EPOLLIN : 0) | (s->out.len ? EPOLLOUT : 0),
                              .data.ptr = s };
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void on_readable(int ep, struct stream *s) {
    /* A bounded number of reads per wake-up, frames answered after each, so neither buffer grows
     * past one frame + what the peer will not take. */
    for (int i = 0; i < 16 && s->out.len < OUT_HIGH; i++) {
        if (reserve(&s->in, READ_CHUNK)) { drop(ep, s); return; }
        ssize_t n = recv(s->fd, s->in.p + s->in.len, s->in.cap - s->in.len, 0);
        if (n == 0) { drop(ep, s); return; }
        if (n < 0) { if (errno == EINTR) continue; if (errno == EAGAIN) break; drop(ep, s); return; }
        s->in.len += (size_t)n;
        if (frames(s) || flush(s)) { drop(ep, s); return; }
        if ((size_t)n < READ_CHUNK) break;
    }
    rearm(ep, s);
}

/* ------------------------------------------------------------------ listeners and the loop */

static char *unix_paths[MAX_LISTENERS];
static int n_unix;

static void on_signal(int sig) {
    for (int i = 0; i < n_unix; i++) unlink(unix_paths[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int listen_on(const char *arg, char *what, size_t what_len) {
    int fd;
    if (strchr(arg, '/')) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (strlen(arg) >= sizeof a.sun_path) { fprintf(stderr, "%s: path too long\n", arg); return -1; }
        strcpy(a.sun_path, arg);
        struct stat st;
        if (lstat(arg, &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) { fprintf(stderr, "%s: exists, not a socket\n", arg); return -1; }
            unlink(arg);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4096)) { perror(arg); return -1; }
        unix_paths[n_unix++] = strdup(arg);
        snprintf(what, what_len, "%s", arg);
    } else {
        int one = 1;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg)) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4096)) { perror("listen"); return -1; }
        socklen_t al = sizeof a;
        getsockname(fd, (struct sockaddr *)&a, &al);
        snprintf(what, what_len, "%d", ntohs(a.sin_port));
    }
    return fd;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int ep = epoll_create1(0);
    char *defaults[] = { "0" };
    char **args = argc > 1 ? argv + 1 : defaults;
    int nargs = argc > 1 ? argc - 1 : 1;
    if (nargs > MAX_LISTENERS) { fprintf(stderr, "at most %d listeners\n", MAX_LISTENERS); return 2; }
    char lines[MAX_LISTENERS][128];
    for (int i = 0; i < nargs; i++) {
        int fd = listen_on(args[i], lines[i], sizeof lines[i]);
        if (fd < 0) return 1;
        struct stream *l = calloc(1, sizeof *l);
        l->fd = fd; l->listener = 1;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    for (int i = 0; i < nargs; i++) printf("listening %s\n", lines[i]);
    fflush(stdout);
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            struct stream *s = evs[i].data.ptr;
            if (s->listener) {
                int fd;
                while ((fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct stream *ns = calloc(1, sizeof *ns);
                    if (!ns) { close(fd); continue; }
                    ns->fd = fd; ns->reading = 1;
                    struct epoll_event e = { .events = EPOLLIN, .data.ptr = ns };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            if (evs[i].events & EPOLLIN) { on_readable(ep, s); continue; } /* it flushes too */
            if (evs[i].events & (EPOLLHUP | EPOLLERR)) { drop(ep, s); continue; }
            if (evs[i].events & EPOLLOUT) {
                if (flush(s)) { drop(ep, s); continue; }
                rearm(ep, s);
            }
        }
    }
}
