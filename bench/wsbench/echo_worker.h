// echo_worker: the echo and deflate modes, over ws://, wss:// or raw tcp://. Each connection
// keeps `depth` messages in flight; replies are checked byte for byte against what was sent
// (inflated first when compressed) and their send stamps feed the latency histogram.
#pragma once

#include <cstdint>
#include <vector>

#include "frames.h"
#include "worker.h"

namespace wsbench {

// Built once per run, read-only in the workers.
struct echo_setup {
    frame_template frame;               // one message as sent (stamp bytes zero)
    std::vector<std::uint8_t> payload;  // the message as the server sees it
    bool compressed = false;            // deflate mode: frame is permessage-deflate
    bool raw = false;                   // tcp://: our masked frames come back as they went
};

class echo_worker : public worker {
public:
    echo_worker(run_context& rc, const echo_setup& s, int id, int conns);
    ~echo_worker() override;

    // For the message sink (a friend would do; these are the sink's only entry points).
    void compare(conn& c, const std::uint8_t* p, std::size_t n);
    void inflate_into(conn& c, const std::uint8_t* p, std::size_t n);
    void message_end(conn& c, std::int64_t now);

    int first_no_context = -1;  // deflate: the first agreement's server_no_context_takeover

protected:
    void on_open(conn& c, std::int64_t now, const std::string& leftover) override;
    void on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t now) override;
    void on_ended(conn& c, err why, std::int64_t now) override;
    std::uint64_t outstanding() const override { return in_flight_; }

private:
    void top_up(conn& c);
    void feed(conn& c, std::uint8_t* p, std::size_t n);

    const echo_setup& s_;
    std::uint64_t in_flight_ = 0;
    std::vector<std::uint8_t> scratch_;  // inflate output
};

}  // namespace wsbench
