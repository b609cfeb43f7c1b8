// fanout_summary: joins the subscriber threads' per-sequence tables with the publisher's
// (after every thread has been joined: no sharing while the run goes).
#include <algorithm>
#include <climits>

#include "fanout.h"
#include "json_writer.h"

namespace wsbench {
namespace {

void write_quantiles(json_writer& j, const char* key, const histogram& h) {
    j.open(key)
        .num("p50", double(h.quantile(0.5)) / 1e3)
        .num("p99", double(h.quantile(0.99)) / 1e3)
        .num("max", double(h.max()) / 1e3)
        .close();
}

}  // namespace

void fanout_summary::build(const fanout_setup& s, const options& o,
                           const std::vector<fanout_worker*>& subs, const publisher_worker& pub,
                           std::uint64_t subscribers) {
    steps.assign(std::size_t(s.steps), {});
    for (std::size_t k = 0; k < steps.size(); ++k) {
        steps[k].rate = o.rates[k];
        steps[k].reached_min = subscribers ? 1.0 : 0.0;
        for (auto* w : subs) {
            steps[k].deliveries += w->step_deliveries[k];
            steps[k].latency.merge(w->step_latency[k]);
        }
        deliveries += steps[k].deliveries;
        latency.merge(steps[k].latency);
    }
    for (std::uint64_t seq = 0; seq < pub.published; ++seq) {
        int k = pub.step_of[seq];
        if (k < 0) continue;
        step& st = steps[std::size_t(k)];
        std::uint64_t got = 0;
        std::int64_t first = LLONG_MAX, last = 0;
        for (auto* w : subs) {
            got += w->count[seq];
            first = std::min(first, w->first[seq]);
            last = std::max(last, w->last[seq]);
        }
        ++st.publishes;
        double reached = subscribers ? double(got) / double(subscribers) : 0.0;
        st.reached_mean += reached;
        st.reached_min = std::min(st.reached_min, reached);
        missing += got < subscribers ? subscribers - got : 0;
        if (got == 0) continue;
        st.to_first.record(std::uint64_t(first - pub.published_at[seq]));
        st.to_last.record(std::uint64_t(last - pub.published_at[seq]));
    }
    for (auto& st : steps) {
        if (st.publishes) st.reached_mean /= double(st.publishes);
        else st.reached_min = 0;
    }
}

void fanout_summary::write_steps(json_writer& j, const fanout_setup& s) const {
    double secs = double(s.step_ns) / 1e9;
    j.open_array("steps");
    for (const auto& st : steps) {
        j.open()
            .num("rate", st.rate)
            .num("publishes", st.publishes)
            .num("publish_per_s", double(st.publishes) / secs)
            .num("deliveries", st.deliveries)
            .num("deliveries_per_s", double(st.deliveries) / secs)
            .num("reached_mean", st.reached_mean)
            .num("reached_min", st.reached_min);
        write_quantiles(j, "time_to_first_us", st.to_first);
        write_quantiles(j, "time_to_last_us", st.to_last);
        write_quantiles(j, "latency_us", st.latency);
        j.close();
    }
    j.close_array();
}

}  // namespace wsbench
