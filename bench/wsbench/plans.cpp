// plans: echo (ws, wss, raw tcp), deflate, idle, storm/tls-storm and http.
#include <cstring>

#include "echo_worker.h"
#include "fanout_plan.h"
#include "frames.h"
#include "http_worker.h"
#include "json_writer.h"
#include "plan.h"
#include "storm_worker.h"

namespace wsbench {

bool plan::drained(const std::vector<worker*>& ws, const worker*) const {
    for (auto* w : ws)
        if (w->busy.load(std::memory_order_relaxed) != 0) return false;
    return true;
}

namespace {

void write_rates(json_writer& j, const run_result& r, std::size_t size) {
    j.num("messages_per_s", r.ops_per_s)
        .num("payload_mb_per_s", r.ops_per_s * double(size) / 1e6);
}

class echo_plan : public plan {
public:
    explicit echo_plan(bool deflate) : deflate_(deflate) {}
    const char* op_name() const override { return "message"; }

    bool prepare(run_context& rc, std::string& err) override {
        s_.payload.assign(8, 0);
        auto filler = make_filler(rc.opt.size - 8);
        s_.payload.insert(s_.payload.end(), filler.begin(), filler.end());
        s_.raw = rc.tgt.kind == scheme::tcp;
        if (!deflate_) {
            s_.frame = make_frame(0x80 | op_binary, s_.payload, 0);
            return true;
        }
        std::size_t stamp_at = 0;
        auto body = deflate_with_stamp_block(s_.payload, 8, stamp_at);
        if (body.empty()) return err = "zlib could not compress the message", false;
        s_.frame = make_frame(0xC0 | op_binary, body, stamp_at);  // FIN | RSV1
        s_.compressed = true;
        frame_payload_ = body.size();
        return true;
    }
    std::unique_ptr<worker> make_worker(run_context& rc, int id, int conns) override {
        return std::make_unique<echo_worker>(rc, s_, id, conns);
    }
    void write_extra(json_writer& j, const run_context& rc, const run_result& r) const override {
        write_rates(j, r, rc.opt.size);
        if (deflate_)
            j.open("deflate")
                .num("negotiated", r.total.negotiated)
                .boolean("server_no_context_takeover", first_no_context_)
                .num("frame_payload_bytes", std::uint64_t(frame_payload_))
                .num("compressed_replies", r.total.compressed)
                .close();
    }
    void finish(run_context&, const std::vector<worker*>& ws, run_result&) override {
        for (auto* w : ws) {
            int seen = static_cast<echo_worker*>(w)->first_no_context;
            if (seen >= 0) {
                first_no_context_ = seen == 1;
                break;
            }
        }
    }

private:
    bool deflate_;
    echo_setup s_;
    std::size_t frame_payload_ = 0;
    bool first_no_context_ = false;
};

class storm_plan : public plan {
public:
    const char* op_name() const override { return "handshake"; }
    bool prepare(run_context&, std::string&) override { return true; }
    std::unique_ptr<worker> make_worker(run_context& rc, int id, int conns) override {
        return std::make_unique<storm_worker>(rc, id, conns);
    }
    void write_extra(json_writer& j, const run_context&, const run_result& r) const override {
        j.num("handshakes", r.total.handshakes)
            .num("handshakes_per_s", r.ops_per_s)
            .num("cycles", r.total.cycles);
    }
};

class idle_plan : public plan {
public:
    const char* op_name() const override { return "connection"; }
    bool prepare(run_context&, std::string&) override { return true; }
    std::unique_ptr<worker> make_worker(run_context& rc, int id, int conns) override {
        return std::make_unique<idle_worker>(rc, id, conns);
    }
    double warmup_s(const options&) const override { return 0; }
    // Opening the connections is what idle measures the rate of; the hold is for memory.
    void finish(run_context&, const std::vector<worker*>&, run_result& r) override {
        r.ops_per_s = r.connect_s > 0 ? double(r.total.ops) / r.connect_s : 0;
    }
};

class http_plan : public plan {
public:
    const char* op_name() const override { return "request"; }
    bool prepare(run_context& rc, std::string&) override {
        auto body = make_filler(rc.opt.size);
        request_ = "POST " + rc.tgt.path + " HTTP/1.1\r\nHost: " + rc.tgt.host_header +
                   "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n";
        for (const auto& h : rc.opt.headers) request_ += h + "\r\n";
        request_ += "\r\n";
        request_.append(body.begin(), body.end());
        return true;
    }
    std::unique_ptr<worker> make_worker(run_context& rc, int id, int conns) override {
        return std::make_unique<http_worker>(rc, request_, id, conns);
    }
    void write_extra(json_writer& j, const run_context& rc, const run_result& r) const override {
        write_rates(j, r, rc.opt.size);
    }

private:
    std::string request_;
};

}  // namespace

std::unique_ptr<plan> make_plan(const options& o) {
    switch (o.m) {
    case mode::echo: return std::make_unique<echo_plan>(false);
    case mode::deflate: return std::make_unique<echo_plan>(true);
    case mode::storm:
    case mode::tls_storm: return std::make_unique<storm_plan>();
    case mode::idle: return std::make_unique<idle_plan>();
    case mode::http: return std::make_unique<http_plan>();
    case mode::fanout: return make_fanout_plan();
    }
    return nullptr;
}

}  // namespace wsbench
