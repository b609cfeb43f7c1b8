#include "conn_io.h"

#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace wsbench {

long conn_read(conn& c, std::uint8_t* p, std::size_t n, err& why) {
    if (!c.ssl) {
        ssize_t r = ::read(c.fd, p, n);
        if (r >= 0) return long(r);
        if (errno == EAGAIN || errno == EWOULDBLOCK) return io_again;
        why = err::closed;
        return io_error;
    }
    ERR_clear_error();
    int r = SSL_read(c.ssl, p, int(n));
    if (r > 0) return r;
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return io_again;
    if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) return 0;  // EOF or reset
    why = err::tls;
    return io_error;
}

long conn_write(conn& c, const std::uint8_t* p, std::size_t n, err& why) {
    if (!c.ssl) {
        ssize_t w = ::send(c.fd, p, n, MSG_NOSIGNAL);
        if (w >= 0) return long(w);
        if (errno == EAGAIN || errno == EWOULDBLOCK) return io_again;
        why = err::closed;
        return io_error;
    }
    ERR_clear_error();
    int w = SSL_write(c.ssl, p, int(n));
    if (w > 0) return w;
    int e = SSL_get_error(c.ssl, w);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return io_again;
    why = e == SSL_ERROR_SYSCALL ? err::closed : err::tls;
    return io_error;
}

}  // namespace wsbench
