// Tests for ws/deflate_negotiation: RFC 7692 §5 and §7.1 as wsgated answers them.
#include "ws/deflate_negotiation.h"

#include <gtest/gtest.h>

using namespace wsgated;

namespace {

// The loader's defaults (loader/schema.cpp): what a route with `compression: {enabled: true}` has.
config::compression_config route() {
    config::compression_config c;
    c.enabled = true;
    c.threshold = 1024;
    c.server_max_window_bits = 15;
    c.client_max_window_bits = 15;
    c.level = 6;
    c.mem_level = 8;
    return c;
}

std::string answer(std::string_view offers, const config::compression_config& c = route()) {
    auto a = ws::negotiate_deflate(offers, c);
    EXPECT_EQ(a.params.enabled, !a.extension.empty());
    return a.params.enabled ? a.extension : "<declined>";
}

}  // namespace

TEST(deflate_negotiation, a_disabled_route_declines_every_offer) {
    auto c = route();
    c.enabled = false;
    auto a = ws::negotiate_deflate("permessage-deflate", c);
    EXPECT_FALSE(a.params.enabled);
    EXPECT_EQ(a.extension, "");
}

TEST(deflate_negotiation, no_offer_is_declined) {
    EXPECT_EQ(answer(""), "<declined>");
    EXPECT_EQ(answer(" , ,"), "<declined>");
}

TEST(deflate_negotiation, a_plain_offer_gets_the_defaults) {
    auto a = ws::negotiate_deflate("permessage-deflate", route());
    EXPECT_TRUE(a.params.enabled);
    EXPECT_EQ(a.extension, "permessage-deflate");
    EXPECT_EQ(a.params.server_max_window_bits, 15);
    EXPECT_EQ(a.params.client_max_window_bits, 15);
    EXPECT_FALSE(a.params.server_no_context_takeover);
    EXPECT_FALSE(a.params.client_no_context_takeover);
}

TEST(deflate_negotiation, other_extensions_are_skipped) {
    EXPECT_EQ(answer("x-webkit-deflate-frame"), "<declined>");
    EXPECT_EQ(answer("permessage-deflate-x; server_no_context_takeover"), "<declined>");
    EXPECT_EQ(answer("x-webkit-deflate-frame; no_context_takeover, permessage-deflate; server_no_context_takeover"),
              "permessage-deflate; server_no_context_takeover");
}

TEST(deflate_negotiation, a_quoted_comma_of_another_extension_does_not_split_offers) {
    EXPECT_EQ(answer("foo; x=\"a, permessage-deflate, b\"; y"), "<declined>");
    EXPECT_EQ(answer("foo; x=\"a\\\", permessage-deflate, b\""), "<declined>");  // \" does not end it
    EXPECT_EQ(answer("foo; x=\"a;b,c\", permessage-deflate; client_no_context_takeover"),
              "permessage-deflate; client_no_context_takeover");
}

TEST(deflate_negotiation, tokens_are_case_insensitive_and_whitespace_is_optional) {
    EXPECT_EQ(answer("  PerMessage-Deflate ;Client_Max_Window_Bits = 10 ;\tSERVER_NO_CONTEXT_TAKEOVER  "),
              "permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
    EXPECT_EQ(answer("permessage-deflate;server_max_window_bits=11"), "permessage-deflate; server_max_window_bits=11");
}

TEST(deflate_negotiation, values_may_be_quoted) {
    EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"10\"; client_max_window_bits = \"9\""),
              "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9");
    EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"1\\2\""), "permessage-deflate; server_max_window_bits=12");
    EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"12"), "<declined>");  // unbalanced
}

TEST(deflate_negotiation, offers_from_several_header_lines_are_read_in_order) {
    // ws/session joins the request's Sec-WebSocket-Extensions lines with ", ".
    EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits"),
              "permessage-deflate; client_max_window_bits=15");
}

TEST(deflate_negotiation, the_first_acceptable_offer_wins) {
    EXPECT_EQ(answer("permessage-deflate; client_no_context_takeover, permessage-deflate"),
              "permessage-deflate; client_no_context_takeover");
    EXPECT_EQ(answer("permessage-deflate, permessage-deflate; client_no_context_takeover"), "permessage-deflate");
}

// Each unacceptable first offer is followed by a plain fallback: the answer is the fallback's.
TEST(deflate_negotiation, an_unacceptable_offer_is_skipped_for_the_next) {
    const char* bad[] = {
        "permessage-deflate; no_such_param",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_no_context_takeover; Client_No_Context_Takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=+9",
        "permessage-deflate; client_max_window_bits=9.5",
        "permessage-deflate; client_max_window_bits=ten",
        "permessage-deflate; client_max_window_bits=",
        "permessage-deflate; server_max_window_bits=8",
        "permessage-deflate; server_max_window_bits=\"8\"; client_max_window_bits",
        "permessage-deflate;",
    };
    for (const char* first : bad) {
        EXPECT_EQ(answer(first), "<declined>") << first;
        EXPECT_EQ(answer(std::string(first) + ", permessage-deflate; client_no_context_takeover"),
                  "permessage-deflate; client_no_context_takeover")
            << first;
    }
}

TEST(deflate_negotiation, the_client_may_offer_an_8_bit_window_of_its_own) {
    auto a = ws::negotiate_deflate("permessage-deflate; client_max_window_bits=8", route());
    EXPECT_EQ(a.extension, "permessage-deflate; client_max_window_bits=8");
    EXPECT_EQ(a.params.client_max_window_bits, 9);  // zlib inflates it with 9: a larger window is safe
}

TEST(deflate_negotiation, an_offered_server_window_is_answered_even_at_15) {
    EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=15"), "permessage-deflate; server_max_window_bits=15");
    auto a = ws::negotiate_deflate("permessage-deflate; server_max_window_bits=12", route());
    EXPECT_EQ(a.extension, "permessage-deflate; server_max_window_bits=12");
    EXPECT_EQ(a.params.server_max_window_bits, 12);
}

TEST(deflate_negotiation, the_server_window_is_the_smaller_of_offer_and_route) {
    auto c = route();
    c.server_max_window_bits = 10;
    auto a = ws::negotiate_deflate("permessage-deflate; server_max_window_bits=12", c);
    EXPECT_EQ(a.extension, "permessage-deflate; server_max_window_bits=10");
    EXPECT_EQ(a.params.server_max_window_bits, 10);
    EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=9", c), "permessage-deflate; server_max_window_bits=9");
}

TEST(deflate_negotiation, a_route_window_under_15_is_named_when_not_offered) {
    auto c = route();
    c.server_max_window_bits = 12;
    auto a = ws::negotiate_deflate("permessage-deflate", c);
    EXPECT_EQ(a.extension, "permessage-deflate; server_max_window_bits=12");
    EXPECT_EQ(a.params.server_max_window_bits, 12);
}

TEST(deflate_negotiation, an_unoffered_client_window_is_15_and_not_named) {
    auto c = route();
    c.client_max_window_bits = 10;  // asked of clients that allow it; this one did not
    auto a = ws::negotiate_deflate("permessage-deflate", c);
    EXPECT_EQ(a.extension, "permessage-deflate");
    EXPECT_EQ(a.params.client_max_window_bits, 15);
}

TEST(deflate_negotiation, an_offered_client_window_is_the_smaller_of_offer_and_route) {
    auto c = route();
    c.client_max_window_bits = 10;
    auto a = ws::negotiate_deflate("permessage-deflate; client_max_window_bits", c);
    EXPECT_EQ(a.extension, "permessage-deflate; client_max_window_bits=10");
    EXPECT_EQ(a.params.client_max_window_bits, 10);
    a = ws::negotiate_deflate("permessage-deflate; client_max_window_bits=12", c);
    EXPECT_EQ(a.extension, "permessage-deflate; client_max_window_bits=10");
    a = ws::negotiate_deflate("permessage-deflate; client_max_window_bits=9", c);
    EXPECT_EQ(a.extension, "permessage-deflate; client_max_window_bits=9");
    EXPECT_EQ(a.params.client_max_window_bits, 9);
    EXPECT_EQ(answer("permessage-deflate; client_max_window_bits"), "permessage-deflate; client_max_window_bits=15");
}

TEST(deflate_negotiation, no_context_takeover_comes_from_the_offer_or_the_route) {
    auto a = ws::negotiate_deflate("permessage-deflate; server_no_context_takeover", route());
    EXPECT_TRUE(a.params.server_no_context_takeover);
    EXPECT_FALSE(a.params.client_no_context_takeover);
    a = ws::negotiate_deflate("permessage-deflate; client_no_context_takeover", route());
    EXPECT_FALSE(a.params.server_no_context_takeover);
    EXPECT_TRUE(a.params.client_no_context_takeover);
    auto c = route();
    c.server_no_context_takeover = true;
    c.client_no_context_takeover = true;
    a = ws::negotiate_deflate("permessage-deflate", c);
    EXPECT_TRUE(a.params.server_no_context_takeover);
    EXPECT_TRUE(a.params.client_no_context_takeover);
    EXPECT_EQ(a.extension, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST(deflate_negotiation, the_answer_lists_its_parts_in_one_order) {
    auto c = route();
    c.client_max_window_bits = 10;
    EXPECT_EQ(answer("permessage-deflate; client_max_window_bits; server_max_window_bits=12; "
                     "client_no_context_takeover; server_no_context_takeover",
                     c),
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
              "server_max_window_bits=12; client_max_window_bits=10");
}

TEST(deflate_negotiation, route_windows_outside_the_bounds_are_clamped) {
    config::compression_config c;  // not from the loader: windows 0
    c.enabled = true;
    auto a = ws::negotiate_deflate("permessage-deflate; client_max_window_bits", c);
    EXPECT_EQ(a.params.server_max_window_bits, 9);
    EXPECT_EQ(a.params.client_max_window_bits, 9);
    EXPECT_EQ(a.extension, "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9");
}
