// Fuzz target: the admin listener's request handling (admin/admin_router → admin/control_api,
// admin/control_call → hub/delivery) on any HTTP request, through the same seam the unit tests
// use: route_admin with a process_state, a delivery and one io_context standing for the worker
// and the listener's thread. One fake connection (user "alice", in room "lobby") is open; the
// text `@ID@` anywhere in the input becomes its id, so calls can reach it.
//
// Input byte 0: bit 0 admin.token unset, bit 1 not ready, bit 2 a ?wait=written send finds the
// connection closing (410). The rest is the request, read by Beast's request parser with the
// listener's header limit (bodies up to 4 KiB; max_message_size is 1000, so 413 is reachable).
//
// Properties (docs/control-api.md): exactly one answer; its status is one of the documented
// ones (200 202 400 401 403 404 405 410 413 422 503; 422 only from /v1/reload); the token gate comes first — any /v1 path
// without `Bearer <token>` is 401 with WWW-Authenticate (403 when no token is configured), and
// with it never 401/403; /metrics, /healthz, /readyz answer GET and HEAD, else 405; other paths
// 404; a 405 names Allow; every answer but /metrics is a JSON object, an error one with "error"
// (/readyz's 503 is a status, not an error); 503 only from /readyz when not ready, 410 only when
// the send found the connection closing. And no side effect without success: an answer of 400
// and up has sent nothing (but a 410's send), closed nothing and changed no room; a message sent
// is exactly the body (text for text/*, else binary), a close has an application code and a
// reason that fits a close frame.
// fuzz-runs: 50000
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>

#include "admin/admin_router.h"
#include "loader/loader.h"
#include "protocol/names.h"
#include "support/fail.h"
#include "text/http_text.h"

namespace {

using namespace wsgated;
namespace http = boost::beast::http;

class fake_connection final : public core::connection {
public:
    std::string id_;
    std::string user_ = "alice";
    std::vector<core::message> sent;
    std::vector<std::pair<std::uint16_t, std::string>> closes;
    bool write_succeeds = true;

    std::string_view id() const override { return id_; }
    const std::string& user() const override { return user_; }
    void send(core::message m) override {
        if (m.on_written) m.on_written(write_succeeds);
        sent.push_back(std::move(m));
    }
    void send_copy(std::string_view payload, bool binary) override {
        sent.push_back({std::make_shared<const std::string>(payload), binary, nullptr});
    }
    void close(std::uint16_t code, std::string_view reason) override { closes.emplace_back(code, reason); }
    core::connection_info info() const override {
        core::connection_info i;
        i.id = id_;
        i.route = "/chat/{room}";
        i.params = {{"room", "lobby"}};
        i.user = user_;
        i.remote_address = "203.0.113.7";
        return i;
    }
    void resume_reading() override {}
};

struct world {
    core::process_state ps{1};
    hub::delivery delivery{ps};
    boost::asio::io_context ioc;
    std::shared_ptr<config::gateway_config> cfg, cfg_without_token;
    fake_connection conn;
    bool ready = true;
    bool reloads_ok = false;
    admin::admin_state with_token, without_token;

    world() {
        ps.set_worker_context(0, ioc);
        auto r = config::load_string("routes: [{path: /echo, backend: echo}]\n", "<fuzz>");
        if (!r.config) FUZZ_FAIL();
        cfg = std::make_shared<config::gateway_config>(*r.config);
        cfg->server.limits.max_message_size = 1000;
        // POST /v1/reload: a reload that alternates between a good and a bad file.
        cfg->admin.token = "s3cret";
        cfg_without_token = std::make_shared<config::gateway_config>(*cfg);
        cfg_without_token->admin.token.clear();
        auto reload = [this](bool dry_run) {
            reloads_ok = !reloads_ok;
            admin::reload_report r;
            r.ok = reloads_ok;
            r.dry_run = dry_run;
            if (reloads_ok) {
                r.changes = {{config::config_change::kind::changed, "server.workers"}};
                r.restart_needed = {"server.workers"};
            } else {
                r.errors = {"<fuzz>:1:1: routes: required"};
            }
            return r;
        };
        with_token = {&ps, &delivery, ioc.get_executor(), [this] { return ready; }, [this] { return cfg; }, reload};
        without_token = with_token;
        without_token.config = [this] { return cfg_without_token; };
        conn.id_ = delivery.new_connection_id();
        reset();
    }

    // Back to one connection in "lobby", nothing sent: every input starts from the same state.
    void reset() {
        delivery.leave_all(conn, 0);
        delivery.enter(conn, 0);
        delivery.join(conn, 0, "lobby");
        conn.sent.clear();
        conn.closes.clear();
    }
};

std::optional<admin::request> parse(std::string_view raw) {
    http::request_parser<http::string_body> p;
    p.header_limit(16 * 1024);  // admin_listener's
    p.body_limit(4096);
    p.eager(true);
    boost::system::error_code ec;
    while (!raw.empty() && !p.is_done()) {
        std::size_t n = p.put(boost::asio::buffer(raw.data(), raw.size()), ec);
        if (ec || n == 0) return std::nullopt;
        raw.remove_prefix(n);
    }
    if (!p.is_done()) return std::nullopt;
    return p.release();
}

bool has_bearer(std::string_view auth, std::string_view token) {
    constexpr std::string_view bearer = "Bearer ";
    return auth.size() > bearer.size() && boost::beast::iequals(auth.substr(0, bearer.size()), bearer) &&
           auth.substr(bearer.size()) == token;
}

void check_status(const admin::request& req, const admin::response& res, const world& w, bool token_set) {
    unsigned s = res.result_int();
    switch (s) {
    case 200: case 202: case 400: case 401: case 403: case 404: case 405: case 410: case 413: case 422: case 503: break;
    default: FUZZ_FAIL();
    }
    std::string_view path = text::target_path(req.target());
    bool v1 = path == "/v1" || path.starts_with("/v1/");
    bool read = req.method() == http::verb::get || req.method() == http::verb::head;
    if (v1) {
        bool passes = token_set && has_bearer(req[http::field::authorization], "s3cret");
        if (!token_set && s != 403) FUZZ_FAIL();
        if (token_set && !passes && (s != 401 || res[http::field::www_authenticate] != "Bearer realm=\"wsgated\""))
            FUZZ_FAIL();
        if (passes && (s == 401 || s == 403)) FUZZ_FAIL();
    } else if (path == "/metrics" || path == "/healthz" || path == "/readyz") {
        unsigned want = !read ? 405 : path == "/readyz" && !w.ready ? 503 : 200;
        if (s != want) FUZZ_FAIL();
    } else if (s != 404) {
        FUZZ_FAIL();
    }
    if (s == 503 && path != "/readyz") FUZZ_FAIL();
    if (s == 422 && path != "/v1/reload") FUZZ_FAIL();  // a file with errors, only there
    if (s == 410 && w.conn.write_succeeds) FUZZ_FAIL();
    if (s == 405 && res[http::field::allow].empty()) FUZZ_FAIL();
    if (res.version() != req.version()) FUZZ_FAIL();
    if (path == "/metrics" && s == 200) return;  // Prometheus text
    if (res[http::field::content_type] != "application/json") FUZZ_FAIL();
    boost::system::error_code ec;
    auto body = boost::json::parse(res.body(), ec);
    if (ec || !body.is_object()) FUZZ_FAIL();
    if (s >= 400 && path != "/readyz") {  // /readyz's 503 is {"status": "not ready"}
        const auto* e = body.get_object().if_contains("error");
        if (!e || !e->is_string()) FUZZ_FAIL();
    }
}

void check_effects(const admin::request& req, const admin::response& res, world& w,
                   const std::vector<std::string>& rooms_before) {
    unsigned s = res.result_int();
    auto rooms = w.delivery.rooms_of(w.conn, 0);
    // 410: the send reached the connection, which closed before writing it.
    if (s >= 400 && s != 410 && (!w.conn.sent.empty() || !w.conn.closes.empty() || rooms != rooms_before)) FUZZ_FAIL();
    if (w.conn.sent.size() > 1 || w.conn.closes.size() > 1) FUZZ_FAIL();
    for (const auto& m : w.conn.sent) {
        bool text = text::is_text_type(req[http::field::content_type]);
        if (!m.data || *m.data != req.body() || m.binary == text) FUZZ_FAIL();
        if (m.data->size() > w.cfg->server.limits.max_message_size) FUZZ_FAIL();
    }
    for (const auto& [code, reason] : w.conn.closes)
        if (s != 202 || !protocol::valid_app_close_code(code) || !protocol::valid_close_reason(reason)) FUZZ_FAIL();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static world w;
    if (size == 0) return 0;
    std::string raw(reinterpret_cast<const char*>(data) + 1, size - 1);
    for (std::size_t at; (at = raw.find("@ID@")) != std::string::npos;) raw.replace(at, 4, w.conn.id_);
    auto req = parse(raw);
    if (!req) return 0;
    bool token_set = !(data[0] & 1);
    w.ready = !(data[0] & 2);
    w.conn.write_succeeds = !(data[0] & 4);
    auto rooms_before = w.delivery.rooms_of(w.conn, 0);

    int answers = 0;
    admin::response res;
    admin::route_admin(*req, token_set ? w.with_token : w.without_token, [&](admin::response r) {
        ++answers;
        res = std::move(r);
    });
    w.ioc.restart();
    w.ioc.run();
    if (answers != 1) FUZZ_FAIL();
    check_status(*req, res, w, token_set);
    check_effects(*req, res, w, rooms_before);
    w.reset();
    return 0;
}
