/* trivial_backend: the backend of the "backend round trip" workload, as cheap as we can make it,
 * so that the proxy in front of it (wsgated, nginx) is what is measured. One thread, epoll.
 *
 * One port, two faces, so both proxies reach the *same* process doing the least work its
 * protocol allows:
 *   - HTTP/1.1 keep-alive: any POST is answered 200 with the request body as the body and the
 *     request's Content-Type (wsgated's http backend: the reply becomes the client's echo);
 *   - WebSocket (an Upgrade request): every data frame is echoed back (nginx proxying
 *     WebSocket passes the client's frames through; the backend unmasks and echoes them).
 *
 *   trivial_backend [PORT]   (0 or absent = a free port); prints "listening PORT" on stdout.
 * Bounded: a request head over 16 KiB or a body/frame over 16 MiB closes the connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { HEAD_MAX = 16384, BODY_MAX = 16 << 20 };

struct buf { char *p; size_t len, cap; };
struct conn {
    int fd, ws;
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
    memmove(b->p, b->p + n, b->len - n); b->len -= n;
}

/* Case-insensitive header lookup inside the head [p, p+n); returns the value, trimmed. */
static const char *header(const char *p, size_t n, const char *name, size_t *vlen) {
    size_t nl = strlen(name);
    for (const char *l = p; l < p + n;) {
        const char *e = memchr(l, '\n', (size_t)(p + n - l));
        if (!e) break;
        if ((size_t)(e - l) > nl && l[nl] == ':' && strncasecmp(l, name, nl) == 0) {
            const char *v = l + nl + 1;
            while (*v == ' ') v++;
            const char *ve = e;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        l = e + 1;
    }
    return NULL;
}

static int upgrade(struct conn *c, const char *head, size_t n) {
    size_t kl;
    const char *key = header(head, n, "sec-websocket-key", &kl);
    if (!key || kl > 64) return -1;
    char in[128];
    memcpy(in, key, kl);
    memcpy(in + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((unsigned char *)in, kl + 36, sha);
    char acc[64];
    EVP_EncodeBlock((unsigned char *)acc, sha, SHA_DIGEST_LENGTH);
    char resp[256];
    int rl = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
    c->ws = 1;
    return append(&c->out, resp, (size_t)rl);
}

/* One HTTP request from c->in if complete: 1 = handled, 0 = need more, -1 = close. */
static int http_step(struct conn *c) {
    char *end = c->in.len ? memmem(c->in.p, c->in.len, "\r\n\r\n", 4) : NULL;
    if (!end) return c->in.len > HEAD_MAX ? -1 : 0;
    size_t hl = (size_t)(end - c->in.p) + 4, vl;
    const char *v = header(c->in.p, hl, "upgrade", &vl);
    if (v && vl == 9 && strncasecmp(v, "websocket", 9) == 0) {
        int r = upgrade(c, c->in.p, hl);
        consume(&c->in, hl);
        return r ? -1 : 1;
    }
    size_t body = 0;
    if ((v = header(c->in.p, hl, "content-length", &vl))) body = strtoul(v, NULL, 10);
    if (body > BODY_MAX) return -1;
    if (c->in.len < hl + body) return 0;
    const char *ct = header(c->in.p, hl, "content-type", &vl);
    char h[256];
    int n = snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\n\r\n",
                     ct ? (int)(vl < 100 ? vl : 100) : 24, ct ? ct : "application/octet-stream", body);
    if (append(&c->out, h, (size_t)n) || append(&c->out, c->in.p + hl, body)) return -1;
    consume(&c->in, hl + body);
    return 1;
}

/* One WebSocket frame from c->in if complete, echoed unmasked with its opcode and FIN bit. */
static int ws_step(struct conn *c) {
    unsigned char *p = (unsigned char *)c->in.p;
    if (c->in.len < 2) return 0;
    size_t hl = 2, len = p[1] & 0x7f;
    int masked = p[1] & 0x80, op = p[0] & 0x0f;
    if (len == 126) { if (c->in.len < 4) return 0; len = (size_t)p[2] << 8 | p[3]; hl = 4; }
    else if (len == 127) {
        if (c->in.len < 10) return 0;
        len = 0;
        for (int i = 2; i < 10; i++) len = len << 8 | p[i];
        hl = 10;
    }
    if (len > BODY_MAX) return -1;
    if (masked) hl += 4;
    if (c->in.len < hl + len) return 0;
    unsigned char *pay = p + hl;
    if (masked) for (size_t i = 0; i < len; i++) pay[i] ^= p[hl - 4 + (i & 3)];
    unsigned char oh[10]; size_t ohl = 2;
    oh[0] = (unsigned char)((p[0] & 0x80) | (op == 0x9 ? 0xA : op));
    if (len < 126) oh[1] = (unsigned char)len;
    else if (len < 65536) { oh[1] = 126; oh[2] = (unsigned char)(len >> 8); oh[3] = (unsigned char)len; ohl = 4; }
    else { oh[1] = 127; for (int i = 0; i < 8; i++) oh[2 + i] = (unsigned char)(len >> (56 - 8 * i)); ohl = 10; }
    if (op != 0xA && (append(&c->out, oh, ohl) || append(&c->out, pay, len))) return -1;
    consume(&c->in, hl + len);
    return op == 0x8 ? -1 : 1; /* close: echoed, then the connection ends */
}

static int flush(struct conn *c) {
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
        if (n < 0) { if (errno == EAGAIN) break; if (errno == EINTR) continue; return -1; }
        off += (size_t)n;
    }
    consume(&c->out, off);
    return 0;
}

static void drop(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd); free(c->in.p); free(c->out.p); free(c);
}

static void on_readable(int ep, struct conn *c) {
    for (;;) {
        if (reserve(&c->in, 65536)) { drop(ep, c); return; }
        ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
        if (n == 0) { drop(ep, c); return; }
        if (n < 0) { if (errno == EINTR) continue; if (errno == EAGAIN) break; drop(ep, c); return; }
        c->in.len += (size_t)n;
        if ((size_t)n < 65536) break;
    }
    int r;
    while ((r = c->ws ? ws_step(c) : http_step(c)) == 1) {}
    int fl = flush(c);
    if (r < 0 || fl < 0) { drop(ep, c); return; }
    struct epoll_event ev = { .events = EPOLLIN | (c->out.len ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 0)) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) { perror("listen"); return 1; }
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    printf("listening %d\n", ntohs(a.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event e = { .events = EPOLLIN, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                if (flush(c)) { drop(ep, c); continue; }
                if (!c->out.len) {
                    struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(ep, c);
        }
    }
}
