// storm_worker: the storm and tls-storm modes. Each connection loops connect → (TLS) →
// upgrade → close 1000 → the server's close → a new connection, until the window ends; one
// op is one 101. A failed attempt is counted and retried after a short pause.
#pragma once

#include "worker.h"

namespace wsbench {

class storm_worker : public worker {
public:
    storm_worker(run_context& rc, int id, int conns) : worker(rc, rc.tgt, rc.upgrade, id, conns) {}

protected:
    void on_open(conn& c, std::int64_t now, const std::string& leftover) override;
    void on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t now) override;
    void on_ended(conn& c, err why, std::int64_t now) override;
};

// idle: open the connections, hold them, answer pings; one op is one connection opened.
class idle_worker : public worker {
public:
    idle_worker(run_context& rc, int id, int conns) : worker(rc, rc.tgt, rc.upgrade, id, conns) {}

protected:
    void on_open(conn& c, std::int64_t now, const std::string& leftover) override;
    void on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t now) override;
};

}  // namespace wsbench
