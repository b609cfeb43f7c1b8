#include "report.h"

#include "json_writer.h"

namespace wsbench {
namespace {

void write_params(json_writer& j, const run_context& rc) {
    const options& o = rc.opt;
    j.open("params")
        .num("connections", std::uint64_t(o.connections))
        .num("size", std::uint64_t(o.size))
        .num("depth", std::uint64_t(o.depth))
        .num("batch", std::uint64_t(o.batch))
        .num("threads", std::uint64_t(o.threads))
        .num("warmup_s", o.warmup)
        .num("duration_s", o.duration)
        .num("drain_s", o.drain)
        .num("handshake_timeout_s", o.handshake_timeout)
        .num("connect_concurrency", std::uint64_t(o.connect_concurrency))
        .str("source", o.source);
    if (!o.pin.empty()) {
        std::string pins;
        for (int c : o.pin) pins += (pins.empty() ? "" : ",") + std::to_string(c);
        j.str("pin", pins);
    }
    if (!o.tls_version.empty()) j.str("tls_version", o.tls_version);
    if (o.m == mode::fanout) {
        j.str("publish", o.publish_http.empty() ? o.publish_ws : o.publish_http);
        j.open_array("rates");
        for (double r : o.rates) j.num(nullptr, r);
        j.close_array();
    }
    j.close();
}

void write_latency(json_writer& j, const histogram& h) {
    auto us = [](std::uint64_t ns) { return double(ns) / 1e3; };
    j.open("latency_us")
        .num("samples", h.count())
        .num("mean", h.mean() / 1e3)
        .num("p50", us(h.quantile(0.5)))
        .num("p90", us(h.quantile(0.9)))
        .num("p99", us(h.quantile(0.99)))
        .num("p999", us(h.quantile(0.999)))
        .num("max", us(h.max()))
        .close();
}

void write_errors(json_writer& j, const stats& s) {
    j.open("errors").num("total", s.error_total());
    for (unsigned i = 0; i < err_kinds; ++i) j.num(err_name(err(i)), s.errors[i]);
    j.close();
}

}  // namespace

std::string write_report(const run_context& rc, const plan& p, const run_result& r) {
    const options& o = rc.opt;
    const stats& t = r.total;
    json_writer j;
    j.open().str("tool", "wsbench").num("schema", std::uint64_t(1)).str("mode", o.mode_name).str("url", o.url);
    write_params(j, rc);
    j.str("op", p.op_name()).num("ops", t.ops).num("ops_per_s", r.ops_per_s).num("elapsed_s", r.elapsed_s);
    write_latency(j, t.latency);
    j.open("connections")
        .num("target", std::uint64_t(o.connections))
        .num("established", t.established)
        .num("failed", t.failed)
        .num("connect_s", r.connect_s);
    if (o.m == mode::idle) j.num("held", r.held);
    j.close();
    j.open("totals")
        .num("messages_sent", t.sent)
        .num("messages_received", t.received)
        .num("bytes_sent", t.bytes_sent)
        .num("bytes_received", t.bytes_received)
        .close();
    write_errors(j, t);
    double cpu = r.cpu_user_s + r.cpu_sys_s;
    j.open("client_cpu")
        .num("user_s", r.cpu_user_s)
        .num("sys_s", r.cpu_sys_s)
        .num("util", r.elapsed_s > 0 ? cpu / r.elapsed_s / o.threads : 0.0)
        .close();
    if (!r.tls_version.empty()) j.open("tls").str("version", r.tls_version).str("cipher", r.tls_cipher).close();
    p.write_extra(j, rc, r);
    j.close();
    return j.text();
}

}  // namespace wsbench
