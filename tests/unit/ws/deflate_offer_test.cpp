// Tests for ws/deflate_offer.
#include "ws/deflate_offer.h"

#include <gtest/gtest.h>

using namespace wsgated;
namespace http = boost::beast::http;

namespace {

std::string filtered(const char* offers) {
    ws::upgrade_request req{http::verb::get, "/", 11};
    req.set(http::field::sec_websocket_extensions, offers);
    ws::drop_unanswerable_deflate_offers(req);
    auto it = req.find(http::field::sec_websocket_extensions);
    return it == req.end() ? "<none>" : std::string(it->value());
}

}  // namespace

TEST(deflate_offer, an_offer_asking_for_an_8_bit_window_is_removed) {
    EXPECT_EQ(filtered("permessage-deflate; server_max_window_bits=8"), "<none>");
    EXPECT_EQ(filtered("permessage-deflate; server_max_window_bits = \"8\"; client_max_window_bits"), "<none>");
}

TEST(deflate_offer, other_offers_are_kept_in_order) {
    EXPECT_EQ(filtered("permessage-deflate; server_max_window_bits=8, permessage-deflate"), "permessage-deflate");
    EXPECT_EQ(filtered("permessage-deflate; server_max_window_bits=9"), "permessage-deflate; server_max_window_bits=9");
    EXPECT_EQ(filtered("permessage-deflate; server_max_window_bits=15, x-webkit-deflate-frame"),
              "permessage-deflate; server_max_window_bits=15, x-webkit-deflate-frame");
}

TEST(deflate_offer, no_header_stays_no_header) {
    ws::upgrade_request req{http::verb::get, "/", 11};
    ws::drop_unanswerable_deflate_offers(req);
    EXPECT_EQ(req.find(http::field::sec_websocket_extensions), req.end());
}

TEST(deflate_offer, offers_deflate_finds_the_extension_by_name) {
    auto offers = [](const char* v) {
        ws::upgrade_request req{http::verb::get, "/", 11};
        if (v) req.set(http::field::sec_websocket_extensions, v);
        return ws::offers_deflate(req);
    };
    EXPECT_FALSE(offers(nullptr));
    EXPECT_FALSE(offers("x-webkit-deflate-frame"));
    EXPECT_FALSE(offers("permessage-deflate-x; a=1"));
    EXPECT_TRUE(offers("permessage-deflate"));
    EXPECT_TRUE(offers("x-webkit-deflate-frame, Permessage-Deflate ; client_max_window_bits"));
}

TEST(deflate_offer, the_first_offer_decides_whether_the_answer_names_the_server_window) {
    auto names = [](const char* v) {
        ws::upgrade_request req{http::verb::get, "/", 11};
        req.set(http::field::sec_websocket_extensions, v);
        return ws::first_offer_names_server_window(req);
    };
    EXPECT_TRUE(names("permessage-deflate; server_max_window_bits=15"));
    EXPECT_TRUE(names("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits; Server_Max_Window_Bits = 12"));
    EXPECT_FALSE(names("permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=15"));
    EXPECT_FALSE(names("permessage-deflate"));
}

TEST(deflate_offer, an_answer_without_the_server_window_gets_15) {
    boost::beast::websocket::response_type res;
    res.set(http::field::sec_websocket_extensions, "permessage-deflate; client_max_window_bits=15");
    ws::complete_deflate_answer(res);
    EXPECT_EQ(res[http::field::sec_websocket_extensions], "permessage-deflate; client_max_window_bits=15; server_max_window_bits=15");
    res.set(http::field::sec_websocket_extensions, "permessage-deflate; server_max_window_bits=10");
    ws::complete_deflate_answer(res);
    EXPECT_EQ(res[http::field::sec_websocket_extensions], "permessage-deflate; server_max_window_bits=10");
    boost::beast::websocket::response_type declined;  // no extension: nothing to complete
    ws::complete_deflate_answer(declined);
    EXPECT_EQ(declined.find(http::field::sec_websocket_extensions), declined.end());
}
