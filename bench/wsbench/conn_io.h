// conn_io: one read or write on a connection, plain or TLS, with the answer folded into
// three cases: bytes (> 0), EOF (0; a TLS close_notify or reset counts as EOF), try again
// (io_again: wait for the next epoll edge) or an error (io_error, with its kind in `why`).
#pragma once

#include <cstddef>
#include <cstdint>

#include "conn.h"
#include "stats.h"

namespace wsbench {

inline constexpr long io_again = -1, io_error = -2;

long conn_read(conn& c, std::uint8_t* p, std::size_t n, err& why);
long conn_write(conn& c, const std::uint8_t* p, std::size_t n, err& why);

}  // namespace wsbench
