// http_pool: see http_pool.h. The only translation unit that instantiates Beast's HTTP client
// templates (compile time).
//
// An exchange waits in `waiting_` until a connection is free: an idle one (checked to be still
// open), or a new one while the budget allows. Each exchange has one timer from submit to
// answer; when it fires, a queued exchange is `overloaded` and one in flight is `timeout` (its
// connection is closed: a late answer must not be read as the next request's).
#include "http_client/http_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace wsgated::http_client {

namespace asio = boost::asio;
namespace beast = boost::beast;
using error_code = boost::system::error_code;
using clock = std::chrono::steady_clock;
using generic_socket = asio::generic::stream_protocol::socket;

struct http_pool::exchange {
    explicit exchange(asio::io_context& ioc) : timer(ioc) {}
    http_request req;
    http_callback cb;
    asio::steady_timer timer;
    clock::time_point start = clock::now();
    bool done = false;
    int attempts = 0;            // connects (or stale reuses) that failed before it was sent
    std::shared_ptr<http_pool::conn> link;  // the connection carrying it, while in flight
};

class http_pool::conn {
public:
    explicit conn(asio::io_context& ioc) : socket(ioc) {}
    generic_socket socket;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::string_body>> parser;
    std::vector<asio::generic::stream_protocol::endpoint> endpoints;
    std::size_t next_endpoint = 0;
    bool reused = false;
    clock::time_point idle_since;

    // An idle keep-alive connection the server has closed (or written to unasked) must not
    // carry a request: one non-blocking peek tells, before anything is sent.
    bool still_open() {
        char c;
        ssize_t n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
};

bool connection_budget::try_acquire() {
    auto cur = used_.load(std::memory_order_relaxed);
    while (cur < max_) {
        if (used_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
}

void connection_budget::add_pool(asio::io_context& ioc, std::weak_ptr<http_pool> pool) {
    pools_.emplace_back(&ioc, std::move(pool));
}

void connection_budget::ask_to_shed(const http_pool* except) {
    for (auto& [ioc, weak] : pools_) {
        auto p = weak.lock();
        if (!p || p.get() == except) continue;
        asio::post(*ioc, [weak = weak] {
            if (auto pool = weak.lock()) pool->shed_idle();
        });
    }
}

http_pool::http_pool(asio::io_context& ioc, http_pool_options options,
                     std::shared_ptr<connection_budget> budget)
    : ioc_(ioc), options_(std::move(options)), budget_(std::move(budget)), resolver_(ioc),
      budget_timer_(ioc), sweep_timer_(ioc) {
    const auto& ep = options_.endpoint;
    if (ep.unix_socket) host_header_ = "localhost";
    else if (ep.host.find(':') != std::string::npos) host_header_ = "[" + ep.host + "]:" + ep.port;
    else host_header_ = ep.port == "80" ? ep.host : ep.host + ":" + ep.port;
}

http_pool::~http_pool() {
    if (waiting_for_budget_) budget_->add_waiter(-1);
    for (std::size_t i = 0; i < open_ + connecting_; ++i) budget_->release();
}

void http_pool::submit(http_request req, http_callback cb, std::chrono::milliseconds timeout) {
    auto ex = std::make_shared<exchange>(ioc_);
    if (options_.in_flight) options_.in_flight->fetch_add(1, std::memory_order_relaxed);
    if (waiting_live_ >= options_.max_waiting) {
        ex->cb = std::move(cb);
        asio::post(ioc_, [self = shared_from_this(), ex] { self->complete(ex, http_failure::overloaded); });
        return;
    }
    req.set(http::field::host, host_header_);
    req.keep_alive(true);
    req.prepare_payload();
    ex->req = std::move(req);
    ex->cb = std::move(cb);
    ex->timer.expires_after(timeout.count() > 0 ? timeout : options_.timeout);
    ex->timer.async_wait([self = shared_from_this(), ex](error_code ec) { self->on_timeout(ex, ec); });
    waiting_.push_back(ex);
    ++waiting_live_;
    pump();
}

// Gives waiting exchanges to idle connections, then opens connections for the rest.
void http_pool::pump() {
    assign_idle();
    open_more();
}

std::shared_ptr<http_pool::exchange> http_pool::next_waiting() {
    while (!waiting_.empty()) {
        auto ex = std::move(waiting_.front());
        waiting_.pop_front();
        if (!ex->done) {
            --waiting_live_;
            return ex;
        }
    }
    return nullptr;
}

void http_pool::assign_idle() {
    while (waiting_live_ > 0 && !idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        if (!c->still_open()) {
            drop(c);
            continue;
        }
        start(c, next_waiting());
    }
}

void http_pool::open_more() {
    // While other pools wait for the budget too, a waiting pool tries again on its timer only:
    // a slot it has just handed over (recycle) goes to the pool that was waiting before it.
    if (waiting_for_budget_ && budget_->wanted_by_others(true)) return;
    while (waiting_live_ > connecting_) {
        // A pool that holds nothing may always try: two empty pools must not defer to each other.
        std::size_t held = open_ + connecting_;
        if ((held > 0 && leave_to_others(held + 1)) || !budget_->try_acquire()) return start_waiting();
        ++connecting_;
        open_connection();
    }
}

// Another worker waits for the budget and this pool would hold more than its share.
bool http_pool::leave_to_others(std::size_t held) const {
    return budget_->wanted_by_others(waiting_for_budget_) && budget_->over_share(held);
}

// The budget is spent (maybe by idle connections of other workers): ask them to give theirs
// back, and try again shortly. Exchanges still wait under their own timers.
void http_pool::start_waiting() {
    if (waiting_for_budget_) return;
    waiting_for_budget_ = true;
    budget_->add_waiter(1);
    budget_->ask_to_shed(this);
    budget_timer_.expires_after(std::chrono::milliseconds(2));
    budget_timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec) self->on_wait_retry();
    });
}

void http_pool::on_wait_retry() {
    waiting_for_budget_ = false;
    budget_->add_waiter(-1);
    pump();  // waits again (and re-asks) if the budget is still spent
}

void http_pool::shed_idle() {
    for (auto& c : idle_) close_conn(c);
    idle_.clear();
}

void http_pool::open_connection() {
    auto c = std::make_shared<conn>(ioc_);
    const auto& ep = options_.endpoint;
    if (ep.unix_socket) {
        c->endpoints.emplace_back(asio::local::stream_protocol::endpoint(ep.socket_path));
        c->socket.async_connect(c->endpoints[0], [self = shared_from_this(), c](error_code ec) {
            self->on_connected(c, ec);
        });
        return;
    }
    // Asio resolves on its own thread: a slow DNS server never blocks this worker.
    resolver_.async_resolve(ep.host, ep.port, [self = shared_from_this(), c](
                                                  error_code ec, asio::ip::tcp::resolver::results_type r) {
        if (ec) return self->on_connected(c, ec);
        for (const auto& e : r) c->endpoints.emplace_back(e.endpoint());
        c->socket.async_connect(c->endpoints[0], [self, c](error_code e) { self->on_connected(c, e); });
    });
}

void http_pool::on_connected(const std::shared_ptr<conn>& c, error_code ec) {
    if (ec && ++c->next_endpoint < c->endpoints.size()) {  // next address of the name
        error_code ignored;
        c->socket.close(ignored);
        c->socket.async_connect(c->endpoints[c->next_endpoint],
                                [self = shared_from_this(), c](error_code e) { self->on_connected(c, e); });
        return;
    }
    --connecting_;
    if (ec) {
        budget_->release();
        // The backend never saw anything: the oldest waiting exchange retries once, then fails.
        if (auto ex = next_waiting()) retry_or_fail(ex, http_failure::unreachable);
        return open_more();
    }
    ++open_;
    if (!options_.endpoint.unix_socket) {
        error_code ignored;
        c->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    if (auto ex = next_waiting()) return start(c, ex);
    recycle(c);
}

void http_pool::start(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex) {
    ex->link = c;
    http::async_write(c->socket, ex->req, [self = shared_from_this(), c, ex](error_code ec, std::size_t) {
        self->on_write(c, ex, ec);
    });
}

void http_pool::on_write(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex,
                         error_code ec) {
    if (ex->done) return drop(c);  // timed out: the timer closed the socket
    if (ec) {
        ex->link.reset();
        bool stale = c->reused;  // a keep-alive connection the server closed under us
        drop(c);
        if (stale) return retry_or_fail(ex, http_failure::reset);
        return complete(ex, http_failure::reset);
    }
    read_answer(c, ex);
}

void http_pool::read_answer(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex) {
    c->parser.emplace();
    c->parser->header_limit(16 * 1024);
    c->parser->body_limit(options_.body_limit);
    http::async_read(c->socket, c->buffer, *c->parser, [self = shared_from_this(), c, ex](error_code e, std::size_t) {
        self->on_read(c, ex, e);
    });
}

// RFC 9110 §15.2: a 1xx answer is interim (a server may send 100 Continue or 103 Early Hints
// unasked) and the final answer follows on the same connection. Taken as the answer, it would
// leave that final answer in the buffer, to be read as the answer to the connection's next
// request: another client's reply. 101 is no interim answer: the connection left HTTP.
namespace {
bool interim(const http_response& res) {
    return res.result_int() / 100 == 1 && res.result() != http::status::switching_protocols;
}
}  // namespace

void http_pool::on_read(const std::shared_ptr<conn>& c, const std::shared_ptr<exchange>& ex,
                        error_code ec) {
    if (ex->done) return drop(c);
    if (!ec && interim(c->parser->get())) return read_answer(c, ex);
    ex->link.reset();
    if (ec) {
        // Beast's parser errors say "not HTTP" (or too large); end_of_stream and a cut message
        // say the connection went away.
        bool protocol = ec.category() == http::make_error_code(http::error::bad_version).category() &&
                        ec != http::error::end_of_stream && ec != http::error::partial_message;
        drop(c);
        return complete(ex, protocol ? http_failure::malformed : http_failure::reset);
    }
    // After a 101 the bytes that follow are not HTTP: the connection can carry nothing more.
    bool keep = c->parser->get().keep_alive() && !c->parser->get().need_eof() &&
                c->parser->get().result() != http::status::switching_protocols;
    http_result r;
    r.response = c->parser->release();
    c->parser.reset();
    if (keep) recycle(c);
    else drop(c);
    ex->done = true;
    ex->timer.cancel();
    r.elapsed = clock::now() - ex->start;
    finish(ex, std::move(r));
}

// A retry only when the request provably never reached the backend: sent again, first in
// line, on another connection.
void http_pool::retry_or_fail(const std::shared_ptr<exchange>& ex, http_failure f) {
    if (ex->attempts++ > 0) return complete(ex, f);
    waiting_.push_front(ex);
    ++waiting_live_;
    pump();
}

void http_pool::on_timeout(const std::shared_ptr<exchange>& ex, error_code ec) {
    if (ec || ex->done) return;
    if (ex->link) {
        error_code ignored;
        ex->link->socket.close(ignored);  // its pending read ends, and drops the connection
        ex->link.reset();
        return complete(ex, http_failure::timeout);
    }
    --waiting_live_;  // still queued: the entry stays in waiting_, marked done
    complete(ex, http_failure::overloaded);
}

void http_pool::complete(const std::shared_ptr<exchange>& ex, http_failure f) {
    ex->done = true;
    ex->timer.cancel();
    http_result r;
    r.failure = f;
    r.elapsed = clock::now() - ex->start;
    finish(ex, std::move(r));
}

// The exchange leaves the in-flight count only after its callback: what the callback submits
// next (a connection's queued disconnect) is counted first, so the drain, which waits for the
// count to reach zero, never sees zero between the two and exits before the disconnect is sent.
void http_pool::finish(const std::shared_ptr<exchange>& ex, http_result&& r) {
    auto cb = std::move(ex->cb);
    cb(std::move(r));
    if (options_.in_flight) options_.in_flight->fetch_sub(1, std::memory_order_relaxed);
}

// A connection free after an answer: the next waiting exchange takes it, or it goes idle —
// unless another worker waits for the budget, which it then gets (when idle, or when this pool
// holds more than its share: else a worker with busy clients keeps every slot, and the other
// worker's clients wait until `timeout` and are closed 1013 while the backend is healthy).
void http_pool::recycle(const std::shared_ptr<conn>& c) {
    c->reused = true;
    if (leave_to_others(open_ + connecting_)) return hand_over(c);
    if (auto ex = next_waiting()) return start(c, ex);
    if (budget_->wanted()) return drop(c);
    c->idle_since = clock::now();
    idle_.push_back(c);
    arm_sweep();
}

// Closes a connection to give its slot to another worker: this pool's waiting exchanges queue
// for the budget behind that worker's, instead of taking the slot straight back.
void http_pool::hand_over(const std::shared_ptr<conn>& c) {
    close_conn(c);
    if (waiting_live_ > 0) start_waiting();
}

void http_pool::drop(const std::shared_ptr<conn>& c) {
    close_conn(c);
    if (waiting_live_ > 0) open_more();
}

void http_pool::close_conn(const std::shared_ptr<conn>& c) {
    error_code ignored;
    c->socket.close(ignored);
    --open_;
    budget_->release();
}

// Closes connections idle longer than idle_timeout, so that the backend is not the one that
// closes them (which races with the next request).
void http_pool::arm_sweep() {
    if (sweeping_) return;
    sweeping_ = true;
    sweep_timer_.expires_after(options_.idle_timeout / 4);
    sweep_timer_.async_wait([weak = weak_from_this()](error_code ec) {
        auto self = weak.lock();
        if (ec || !self) return;
        self->sweeping_ = false;
        auto limit = clock::now() - self->options_.idle_timeout;
        std::erase_if(self->idle_, [&](const std::shared_ptr<conn>& c) {
            if (c->idle_since > limit) return false;
            self->close_conn(c);
            return true;
        });
        if (!self->idle_.empty()) self->arm_sweep();
    });
}

}  // namespace wsgated::http_client
