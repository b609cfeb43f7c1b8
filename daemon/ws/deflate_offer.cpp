// deflate_offer: see deflate_offer.h.
#include "ws/deflate_offer.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include "text/http_text.h"
#include "text/split.h"

namespace wsgated::ws {
namespace {

bool asks_for_8_bit_window(std::string_view offer) {
    for (auto raw : text::split(offer, ';')) {
        std::string param;
        for (char c : raw)
            if (c != ' ' && c != '\t' && c != '"') param.push_back(c);
        if (param == "server_max_window_bits=8") return true;
    }
    return false;
}

}  // namespace

void drop_unanswerable_deflate_offers(upgrade_request& req) {
    auto it = req.find(http::field::sec_websocket_extensions);
    if (it == req.end()) return;
    std::string kept;
    for (auto offer : text::split(it->value(), ','))
        if (!asks_for_8_bit_window(offer)) kept.append(kept.empty() ? "" : ",").append(offer);
    if (kept.empty()) req.erase(http::field::sec_websocket_extensions);
    else req.set(http::field::sec_websocket_extensions, kept);
}

bool offers_deflate(const upgrade_request& req) {
    auto it = req.find(http::field::sec_websocket_extensions);
    if (it == req.end()) return false;
    for (auto offer : text::split(it->value(), ',')) {
        auto name = text::trim(offer.substr(0, offer.find(';')));
        if (boost::beast::iequals(name, "permessage-deflate")) return true;
    }
    return false;
}

bool first_offer_names_server_window(const upgrade_request& req) {
    auto it = req.find(http::field::sec_websocket_extensions);
    if (it == req.end()) return false;
    for (auto offer : text::split(it->value(), ',')) {
        auto params = text::split(offer, ';');
        if (params.empty() || !boost::beast::iequals(text::trim(params.front()), "permessage-deflate")) continue;
        for (auto param : params)
            if (boost::beast::iequals(text::trim(param.substr(0, param.find('='))), "server_max_window_bits"))
                return true;
        return false;  // the first offer is the one Beast answers
    }
    return false;
}

void complete_deflate_answer(boost::beast::websocket::response_type& res) {
    auto it = res.find(http::field::sec_websocket_extensions);
    if (it == res.end() || it->value().find("server_max_window_bits") != std::string_view::npos) return;
    // Beast names every window under 15; one it left out is 15.
    res.set(http::field::sec_websocket_extensions, std::string(it->value()) + "; server_max_window_bits=15");
}

boost::beast::websocket::permessage_deflate deflate_options(const config::compression_config& c) {
    boost::beast::websocket::permessage_deflate pmd;
    pmd.server_enable = c.enabled;
    pmd.server_max_window_bits = c.server_max_window_bits;
    pmd.client_max_window_bits = c.client_max_window_bits;
    pmd.server_no_context_takeover = c.server_no_context_takeover;
    pmd.client_no_context_takeover = c.client_no_context_takeover;
    pmd.compLevel = c.level;
    pmd.memLevel = c.mem_level;
    pmd.msg_size_threshold = c.threshold;
    return pmd;
}

}  // namespace wsgated::ws
