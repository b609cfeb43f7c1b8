#include "fanout_plan.h"

#include <cmath>

#include "clock.h"
#include "fanout.h"
#include "handshake.h"
#include "json_writer.h"

namespace wsbench {
namespace {

class fanout_plan : public plan {
public:
    const char* op_name() const override { return "delivery"; }

    bool prepare(run_context& rc, std::string& err) override {
        const options& o = rc.opt;
        s_.payload.assign(16, 0);
        auto filler = make_filler(o.size - 16);
        s_.payload.insert(s_.payload.end(), filler.begin(), filler.end());
        s_.steps = int(o.rates.size());
        s_.step_ns = seconds_ns(o.duration);
        double n = o.warmup * o.rates[0] + 1;
        for (double r : o.rates) n += o.duration * r + 1;
        s_.max_seq = std::size_t(std::ceil(n * 1.05)) + 16;
        s_.via_http = !o.publish_http.empty();
        if (!parse_target(s_.via_http ? o.publish_http : o.publish_ws, s_.pub_target, err))
            return false;
        if (s_.via_http != (s_.pub_target.kind == scheme::http))
            return err = "--publish-http takes http://, --publish-ws ws:// or wss://", false;
        if (s_.via_http) {
            s_.http_head = "POST " + s_.pub_target.path + " HTTP/1.1\r\nHost: " +
                           s_.pub_target.host_header +
                           "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                           std::to_string(s_.payload.size()) + "\r\n";
            if (!o.token.empty()) s_.http_head += "Authorization: Bearer " + o.token + "\r\n";
            s_.http_head += "\r\n";
        } else {
            s_.pub_upgrade = upgrade_request(s_.pub_target, o.headers, false);
            s_.frame = make_frame(0x80 | op_binary, s_.payload, 0);
        }
        return true;
    }

    std::unique_ptr<worker> make_worker(run_context& rc, int id, int conns) override {
        auto w = std::make_unique<fanout_worker>(rc, s_, id, conns);
        subs_.push_back(w.get());
        return w;
    }

    worker* extra(run_context& rc) override {
        if (!pub_) pub_ = std::make_unique<publisher_worker>(rc, s_);
        return pub_.get();
    }

    double window_s(const options& o) const override { return o.duration * double(o.rates.size()); }

    // Every published message delivered to every subscriber that was there at the start.
    bool drained(const std::vector<worker*>& ws, const worker* extra) const override {
        std::uint64_t subscribers = 0, delivered = 0;
        for (auto* w : ws) {
            subscribers += w->open_now.load(std::memory_order_relaxed);
            delivered += w->progress.load(std::memory_order_relaxed);
        }
        std::uint64_t published = extra ? extra->progress.load(std::memory_order_relaxed) : 0;
        return delivered >= published * subscribers;
    }

    void finish(run_context& rc, const std::vector<worker*>&, run_result& r) override {
        subscribers_ = 0;
        for (auto* w : subs_) subscribers_ += w->st.established;
        sum_.build(s_, rc.opt, subs_, *pub_, subscribers_);
        r.total.ops = sum_.deliveries;
        r.total.latency = sum_.latency;
        r.total.errors[unsigned(err::lost)] += sum_.missing;
        r.ops_per_s = r.elapsed_s > 0 ? double(sum_.deliveries) / r.elapsed_s : 0;
    }

    void write_extra(json_writer& j, const run_context&, const run_result&) const override {
        j.num("subscribers", subscribers_).str("publisher", s_.via_http ? "http" : "ws");
        sum_.write_steps(j, s_);
    }

private:
    fanout_setup s_;
    std::vector<fanout_worker*> subs_;
    std::unique_ptr<publisher_worker> pub_;
    fanout_summary sum_;
    std::uint64_t subscribers_ = 0;
};

}  // namespace

std::unique_ptr<plan> make_fanout_plan() { return std::make_unique<fanout_plan>(); }

}  // namespace wsbench
