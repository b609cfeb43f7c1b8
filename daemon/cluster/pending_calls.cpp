// pending_calls: see pending_calls.h.
#include "cluster/pending_calls.h"

#include <algorithm>
#include <vector>

namespace wsgated::cluster {

std::uint64_t pending_calls::open(bool fan_out, clock::time_point deadline, done_fn done) {
    std::uint64_t seq = next_++;
    call c;
    c.fan_out = fan_out;
    c.needs_known = !fan_out;
    c.deadline = deadline;
    c.done = std::move(done);
    calls_.emplace(seq, std::move(c));
    return seq;
}

void pending_calls::heard_by(std::uint64_t seq, std::uint64_t receivers) {
    auto it = calls_.find(seq);
    if (it == calls_.end()) return;
    if (!it->second.fan_out && receivers == 0) it->second.result.outcome = hub::outcome::not_found;
    it->second.expected = it->second.fan_out ? receivers : std::min<std::uint64_t>(receivers, 1);
    finish_if_done(it);
}

void pending_calls::needs(std::uint64_t seq, std::set<std::string> nodes, bool unknown) {
    auto it = calls_.find(seq);
    if (it == calls_.end()) return;
    it->second.needed = std::move(nodes);
    it->second.unknown = unknown;
    it->second.needs_known = true;
    finish_if_done(it);
}

void pending_calls::answered(std::uint64_t seq, std::string_view node, call_result r) {
    auto it = calls_.find(seq);
    if (it == calls_.end()) return;  // late (past its deadline) or not ours
    call& c = it->second;
    if (!c.answered_by.emplace(node).second) return;  // one answer per node
    ++c.answers;
    if (c.fan_out) c.result.count += r.count;
    else c.result = std::move(r);
    finish_if_done(it);
}

void pending_calls::failed(std::uint64_t seq) {
    auto it = calls_.find(seq);
    if (it == calls_.end()) return;
    done_fn done = std::move(it->second.done);
    calls_.erase(it);
    done(call_result{hub::outcome::unavailable});
}

// A fan-out is done when every node that had to hear it answered, or every listener did.
// PUBLISH counts connections, not nodes: an old subscriber connection that Redis has not yet
// noticed is dead, or a person running PSUBSCRIBE, is a listener that never answers, and must
// not hold every call until its deadline.
void pending_calls::finish_if_done(std::unordered_map<std::uint64_t, call>::iterator it) {
    call& c = it->second;
    if (c.expected == UINT64_MAX || !c.needs_known) return;
    bool needed_answered = std::all_of(c.needed.begin(), c.needed.end(), [&](const std::string& n) { return c.answered_by.count(n); });
    bool done_early = c.fan_out && (needed_answered || c.unknown);
    if (c.answers < c.expected && !done_early) return;
    done_fn done = std::move(c.done);
    call_result r = std::move(c.result);
    if (c.fan_out && (c.unknown || !needed_answered)) r.outcome = hub::outcome::unavailable;
    calls_.erase(it);
    done(std::move(r));
}

std::size_t pending_calls::expire(clock::time_point now) {
    std::vector<std::pair<done_fn, call_result>> ended;
    for (auto it = calls_.begin(); it != calls_.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        call_result r = std::move(it->second.result);
        r.outcome = hub::outcome::unavailable;  // a node heard and did not answer: its share is unknown
        ended.emplace_back(std::move(it->second.done), std::move(r));
        it = calls_.erase(it);
    }
    for (auto& [done, r] : ended) done(std::move(r));  // outside the walk: a callback may open a call
    return ended.size();
}

void pending_calls::fail_all() {
    auto calls = std::move(calls_);
    calls_.clear();
    for (auto& [seq, c] : calls) c.done(call_result{hub::outcome::unavailable});
}

}  // namespace wsgated::cluster
