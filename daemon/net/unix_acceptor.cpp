// unix_acceptor: see unix_acceptor.h.
#include "net/unix_acceptor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wsgated::net {
namespace {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using error_code = boost::system::error_code;

bool is_socket_file(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// A stale file (its process died) refuses a connect; anything else — accepted, a full backlog
// (EAGAIN from a non-blocking connect), no permission — may be a live process: not ours to take.
bool stale(const std::string& path, asio::any_io_executor ex) {
    local::socket probe(ex);
    error_code ec;
    probe.open(local(), ec);
    if (!ec) probe.non_blocking(true, ec);  // a listener's full backlog must not hang the loop
    if (!ec) probe.connect(local::endpoint(path), ec);
    return ec == asio::error::connection_refused;
}

}  // namespace

std::string bind_unix_acceptor(local::acceptor& acceptor, const std::string& path) {
    auto fail = [&](const std::string& what) { return "cannot listen on unix:" + path + ": " + what; };
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return fail("the path exists and is not a socket");
        if (!stale(path, acceptor.get_executor())) return fail("another process listens there");
        ::unlink(path.c_str());
    }
    error_code ec;
    acceptor.open(local(), ec);
    if (!ec) acceptor.bind(local::endpoint(path), ec);
    if (ec) return fail("bind: " + ec.message());
    // Before listen(): until then a connect is refused, so nobody gets in under the umask's mode.
    if (::chmod(path.c_str(), 0660) != 0) return fail(std::string("chmod 0660: ") + std::strerror(errno));
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen: " + ec.message());
    return {};
}

void remove_unix_socket(const std::string& path) {
    if (is_socket_file(path)) ::unlink(path.c_str());
}

}  // namespace wsgated::net
