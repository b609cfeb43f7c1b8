// fanout: the fanout mode. Subscribers (fanout_worker, one per thread) only receive; one
// publisher (publisher_worker, its own thread) publishes on a schedule of rate steps, by HTTP
// POST (wsgated's control API) or by a frame on its own WebSocket (peers that broadcast what
// a client sends). Each message carries its publish time and a sequence number, so each
// subscriber thread can count, per sequence, how many got it and when the first and the last
// did; fanout_summary joins the threads' tables after the run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frames.h"
#include "histogram.h"
#include "worker.h"

namespace wsbench {

class json_writer;

// The schedule and payload, built once; read-only in the threads.
struct fanout_setup {
    std::vector<std::uint8_t> payload;  // stamp (time, sequence) zero, then filler
    std::size_t max_seq = 0;            // sequences the schedule can publish, and then some
    std::int64_t step_ns = 0;
    int steps = 0;
    // publisher side
    target pub_target;
    std::string pub_upgrade;   // ws publisher: its upgrade request
    std::string http_head;     // http publisher: the request head (body follows)
    frame_template frame;      // ws publisher: the message as a frame
    bool via_http = false;
};

class fanout_worker : public worker {
public:
    fanout_worker(run_context& rc, const fanout_setup& s, int id, int conns);
    void deliver(conn& c, std::int64_t now);
    void compare(conn& c, const std::uint8_t* p, std::size_t n);

    // Per sequence (index = seq), this thread's subscribers only.
    std::vector<std::uint32_t> count;
    std::vector<std::int64_t> first, last;
    // Per step: deliveries of the step's messages and their latency.
    std::vector<std::uint64_t> step_deliveries;
    std::vector<histogram> step_latency;

protected:
    void on_open(conn& c, std::int64_t now, const std::string& leftover) override;
    void on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t now) override;
    std::uint64_t progress_count() const override { return st.received; }

private:
    const fanout_setup& s_;
};

class publisher_worker : public worker {
public:
    publisher_worker(run_context& rc, const fanout_setup& s);
    std::vector<std::int64_t> published_at;  // per sequence
    std::vector<std::int16_t> step_of;       // per sequence; -1 = warm-up
    std::uint64_t published = 0;

protected:
    void on_open(conn& c, std::int64_t now, const std::string& leftover) override;
    void on_bytes(conn& c, std::uint8_t* p, std::size_t n, std::int64_t now) override;
    void on_ended(conn& c, err why, std::int64_t now) override;
    void on_round(std::int64_t now) override;
    std::uint64_t progress_count() const override { return published; }

private:
    void publish(conn& c, std::int64_t now, int step);

    const fanout_setup& s_;
    int segment_ = -2;  // -1 warm-up, 0.. steps; -2 none yet
    std::uint64_t in_segment_ = 0;
    bool waiting_ = false;  // http: an answer is outstanding
};

// Joins the threads' tables after the run: one result per step, and the run's totals.
struct fanout_summary {
    struct step {
        double rate = 0;
        std::uint64_t publishes = 0, deliveries = 0;
        double reached_mean = 0, reached_min = 0;
        histogram to_first, to_last, latency;
    };
    std::vector<step> steps;
    std::uint64_t deliveries = 0;  // of the measured steps' messages
    std::uint64_t missing = 0;     // subscriber × message pairs never delivered (measured steps)
    histogram latency;

    void build(const fanout_setup& s, const options& o, const std::vector<fanout_worker*>& subs,
               const publisher_worker& pub, std::uint64_t subscribers);
    void write_steps(json_writer& j, const fanout_setup& s) const;
};

}  // namespace wsbench
