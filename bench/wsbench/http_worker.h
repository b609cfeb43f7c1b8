// http_worker: http mode. Keep-alive HTTP/1.1 POSTs of a fixed body, `depth` pipelined per
// connection; one op is one 2xx answer read in full. Here to compare a proxy (nginx) with
// wsgated's HTTP-backend path on the same backend. A server that closes a keep-alive
// connection (Connection: close) gets a new one; the requests it dropped are sent again.
#pragma once

#include <string>

#include "worker.h"

namespace wsbench {

class http_worker : public worker {
public:
    // request: the whole request, head and body, built once.
    http_worker(run_context& rc, const std::string& request, int id, int conns)
        : worker(rc, rc.tgt, rc.upgrade, id, conns), request_(request) {}

protected:
    void on_open(conn& c, std::int64_t now, const std::string& leftover) override;
    void on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t now) override;
    void on_ended(conn& c, err why, std::int64_t now) override;
    std::uint64_t outstanding() const override { return in_flight_; }

private:
    void top_up(conn& c);
    bool on_answer(conn& c, std::int64_t now);  // false: the connection ended

    const std::string& request_;
    std::uint64_t in_flight_ = 0;
};

}  // namespace wsbench
