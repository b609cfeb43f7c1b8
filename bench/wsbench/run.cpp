#include "run.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "clock.h"
#include "handshake.h"
#include "plan.h"
#include "report.h"
#include "tls_client.h"

namespace wsbench {
namespace {

void progress(const options& o, const char* fmt, unsigned long long a = 0, unsigned long long b = 0) {
    if (o.quiet) return;
    std::fprintf(stderr, "wsbench: ");
    std::fprintf(stderr, fmt, a, b);
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

void sleep_until_ns(std::int64_t t) {
    std::int64_t d = t - now_ns();
    if (d > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(d));
}

double cpu_seconds(const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; }

// 10,000 idle connections need more than the usual soft limit of 1,024 descriptors.
void raise_open_files() {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

bool scheme_fits(const options& o, scheme s) {
    switch (o.m) {
    case mode::echo: return s != scheme::http;
    case mode::tls_storm: return s == scheme::wss;
    case mode::http: return s == scheme::http;
    default: return s == scheme::ws || s == scheme::wss;
    }
}

template <class F>
std::uint64_t sum(const std::vector<worker*>& ws, F f) {
    std::uint64_t t = 0;
    for (auto* w : ws) t += f(*w);
    return t;
}

struct threads {
    std::vector<std::thread> t;
    ~threads() {
        for (auto& x : t)
            if (x.joinable()) x.join();
    }
};

// The phases, on the main thread: connect, warm-up, window, drain, close.
void drive(run_context& rc, plan& p, const std::vector<worker*>& ws, threads& th, run_result& r) {
    const options& o = rc.opt;
    std::int64_t connect_deadline =
        rc.t_start + seconds_ns(2 * o.handshake_timeout + 10 + o.connections / 1000.0);
    auto resolved = [&] { return sum(ws, [](worker& w) { return w.resolved.load(std::memory_order_relaxed); }); };
    while (resolved() < std::uint64_t(o.connections) && now_ns() < connect_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    r.connect_s = double(now_ns() - rc.t_start) / 1e9;
    progress(o, "connected %llu/%llu", sum(ws, [](worker& w) { return w.open_now.load(); }),
             (unsigned long long)o.connections);
    worker* extra = p.extra(rc);
    if (extra) th.t.emplace_back([extra] { extra->run(); });
    std::int64_t t_ms = now_ns() + seconds_ns(p.warmup_s(o));
    std::int64_t t_me = t_ms + seconds_ns(p.window_s(o));
    rc.measure_end.store(t_me, std::memory_order_relaxed);
    rc.measure_start.store(t_ms, std::memory_order_release);
    sleep_until_ns(t_ms);
    rusage u0{}, u1{};
    getrusage(RUSAGE_SELF, &u0);
    progress(o, "measure start");
    sleep_until_ns(t_me);
    getrusage(RUSAGE_SELF, &u1);
    r.held = sum(ws, [](worker& w) { return w.open_now.load(); });
    progress(o, "measure end");
    r.elapsed_s = double(t_me - t_ms) / 1e9;
    r.cpu_user_s = cpu_seconds(u1.ru_utime) - cpu_seconds(u0.ru_utime);
    r.cpu_sys_s = cpu_seconds(u1.ru_stime) - cpu_seconds(u0.ru_stime);
    std::int64_t drain_end = t_me + seconds_ns(o.drain);
    while (!p.drained(ws, extra) && now_ns() < drain_end)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    rc.ph.store(phase::close);
    for (auto& t : th.t) t.join();
}

void collect(plan& p, run_context& rc, const std::vector<worker*>& ws, run_result& r) {
    for (auto* w : ws) {
        r.total.merge(w->st);
        if (r.tls_version.empty()) r.tls_version = w->tls_version, r.tls_cipher = w->tls_cipher;
    }
    if (worker* extra = p.extra(rc)) {  // the publisher: what it sent, and its errors
        r.total.sent += extra->st.sent;
        r.total.bytes_sent += extra->st.bytes_sent;
        for (unsigned i = 0; i < err_kinds; ++i) r.total.errors[i] += extra->st.errors[i];
    }
    r.ops_per_s = r.elapsed_s > 0 ? double(r.total.ops) / r.elapsed_s : 0;
    p.finish(rc, ws, r);
}

}  // namespace

int run_bench(const options& o) {
    run_context rc(o);
    std::string err;
    if (!parse_target(o.url, rc.tgt, err)) return std::fprintf(stderr, "wsbench: %s\n", err.c_str()), 3;
    if (!scheme_fits(o, rc.tgt.kind))
        return std::fprintf(stderr, "wsbench: mode %s does not take %s\n", o.mode_name.c_str(), o.url.c_str()), 2;
    raise_open_files();
    bool any_tls = rc.tgt.tls() || o.publish_ws.rfind("wss://", 0) == 0;
    if (any_tls && !(rc.tls = make_tls_client(o.tls_version, err)))
        return std::fprintf(stderr, "wsbench: %s\n", err.c_str()), 3;
    rc.upgrade = upgrade_request(rc.tgt, o.headers, o.m == mode::deflate);
    auto p = make_plan(o);
    if (!p->prepare(rc, err)) return std::fprintf(stderr, "wsbench: %s\n", err.c_str()), 3;
    std::vector<std::unique_ptr<worker>> owned;
    std::vector<worker*> ws;
    for (int i = 0; i < o.threads; ++i) {
        int n = o.connections / o.threads + (i < o.connections % o.threads ? 1 : 0);
        owned.push_back(p->make_worker(rc, i, n));
        ws.push_back(owned.back().get());
        if (!ws.back()->init(err)) return std::fprintf(stderr, "wsbench: %s\n", err.c_str()), 3;
    }
    if (worker* extra = p->extra(rc); extra && !extra->init(err))
        return std::fprintf(stderr, "wsbench: %s\n", err.c_str()), 3;
    run_result r;
    rc.t_start = now_ns();
    {
        threads th;
        for (auto* w : ws) th.t.emplace_back([w] { w->run(); });
        drive(rc, *p, ws, th, r);
    }
    collect(*p, rc, ws, r);
    std::string json = write_report(rc, *p, r);
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (rc.tls) SSL_CTX_free(rc.tls);
    return r.total.error_total() == 0 ? 0 : 1;
}

}  // namespace wsbench
