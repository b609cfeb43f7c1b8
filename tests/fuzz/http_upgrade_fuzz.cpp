// Fuzz target: a raw HTTP request through Beast's parser (with the handshake's limits) and, when
// it parses, the upgrade decision — everything a client controls before the upgrade.
#include <cstdint>
#include <memory>

#include <boost/beast/http/parser.hpp>

#include "route/router.h"
#include "ws/upgrade.h"

namespace {

std::shared_ptr<wsgated::route::router> make_router() {
    auto c = std::make_shared<wsgated::config::gateway_config>();
    for (const char* p : {"/echo", "/chat/{room}", "/t/{a}/r/{b}"}) {
        wsgated::config::route_config r;
        r.path = p;
        r.backend = "echo";
        if (r.path == "/chat/{room}") {
            r.origins = std::vector<std::string>{"https://app.example.com"};
            r.subprotocols = {"chat.v1"};
        }
        c->routes.push_back(r);
    }
    return std::make_shared<wsgated::route::router>(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto router = make_router();
    boost::beast::http::request_parser<boost::beast::http::empty_body> parser;
    parser.header_limit(8 * 1024 + 16 * 1024 + 4);
    parser.body_limit(0);
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (!ec && parser.is_header_done()) {
        auto d = wsgated::ws::decide_upgrade(parser.get(), *router);
        if (d.accepted() && d.route == nullptr) __builtin_trap();
    }
    return 0;
}
