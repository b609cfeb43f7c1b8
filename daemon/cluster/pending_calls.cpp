// pending_calls: see pending_calls.h.
#include "cluster/pending_calls.h"

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

void pending_calls::finish_if_done(std::unordered_map<std::uint64_t, call>::iterator it) {
    call& c = it->second;
    if (c.expected == UINT64_MAX || c.answers < c.expected || !c.needs_known) return;
    done_fn done = std::move(c.done);
    call_result r = std::move(c.result);
    if (c.fan_out) {  // everyone who heard answered: did everyone who had to hear it?
        bool missed = c.unknown;
        for (const auto& n : c.needed) missed = missed || !c.answered_by.count(n);
        if (missed) r.outcome = hub::outcome::unavailable;
    }
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
