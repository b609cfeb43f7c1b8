// unix_acceptor: binding a listening Unix-domain stream socket (admin.control_listen =
// "unix:/path"), so that a sidecar's control API stays inside the pod (SPEC §6).
//
// A socket file left by a process that died is removed first; one a running process still
// listens on is an error, never stolen. The socket is made mode 0660: the app container (same
// group, or root) may call it, other users may not.
#pragma once

#include <string>

#include <boost/asio/local/stream_protocol.hpp>

namespace wsgated::net {

// Empty on success, else a message naming the path and the OS's reason.
std::string bind_unix_acceptor(boost::asio::local::stream_protocol::acceptor& acceptor, const std::string& path);

// Removes the socket file a bind_unix_acceptor made (on stop); a no-op if it is not a socket.
void remove_unix_socket(const std::string& path);

}  // namespace wsgated::net
