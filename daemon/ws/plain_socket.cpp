// plain_socket: see plain_socket.h.
#include "ws/plain_socket.h"

#include <unistd.h>

namespace wsgated::ws {

plain_socket adopt_socket(plain_stream&& stream, boost::asio::io_context& ioc, boost::system::error_code& ec) {
    auto released = stream.release_socket();
    auto protocol = released.local_endpoint(ec).protocol();
    plain_socket socket(ioc.get_executor());
    if (ec) return socket;
    auto fd = released.release(ec);  // on failure `released` still owns (and closes) it
    if (!ec) socket.assign(protocol, fd, ec);
    if (ec && fd >= 0 && !socket.is_open()) ::close(fd);  // owned by nobody now
    return socket;
}

}  // namespace wsgated::ws
