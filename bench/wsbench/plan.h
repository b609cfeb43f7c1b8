// plan: what a mode adds to the generic run (run.cpp): the bytes it builds before the run,
// its worker class, how long its window is, when it is drained, and its part of the JSON.
// One plan per mode (plans.cpp, fanout_plan.cpp); make_plan picks it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "run_context.h"
#include "stats.h"
#include "worker.h"

namespace wsbench {

class json_writer;

// What the generic run measured, handed to the plan to finish and to the report.
struct run_result {
    stats total;               // all workers merged (the extra worker's counted apart)
    double connect_s = 0;      // start → the initial connections resolved
    double elapsed_s = 0;      // the measured window
    double ops_per_s = 0;
    std::uint64_t held = 0;    // connections open at the window's end
    double cpu_user_s = 0, cpu_sys_s = 0;
    std::string tls_version, tls_cipher;
};

class plan {
public:
    virtual ~plan() = default;
    virtual const char* op_name() const = 0;
    virtual bool prepare(run_context& rc, std::string& err) = 0;
    virtual std::unique_ptr<worker> make_worker(run_context& rc, int id, int conns) = 0;
    // A worker on its own thread, started after the connect phase (fanout's publisher).
    virtual worker* extra(run_context&) { return nullptr; }
    virtual double warmup_s(const options& o) const { return o.warmup; }
    virtual double window_s(const options& o) const { return o.duration; }
    virtual bool drained(const std::vector<worker*>& ws, const worker* extra) const;
    // After the threads are joined: adjust ops, latency, errors (fanout), ops_per_s (idle).
    virtual void finish(run_context&, const std::vector<worker*>&, run_result&) {}
    virtual void write_extra(json_writer&, const run_context&, const run_result&) const {}
};

std::unique_ptr<plan> make_plan(const options& o);

}  // namespace wsbench
