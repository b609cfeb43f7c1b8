// stream_frame: the stream backend's framing (SPEC §4), both ways.
#include "backend/stream_frame.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace wsgated::backend {
namespace {

const std::string conn = "abcdefABCDEFGHIJKLMNOPQRSTUV";  // 28 base64url characters

frame_reader::result parse(frame_reader& r, std::string_view in, std::uint64_t max = 1 << 20) {
    return r.parse(in, max);
}

TEST(stream_frame, a_whole_frame_is_cut_with_its_payload) {
    frame_reader r;
    std::string in = "{\"action\":\"send\",\"size\":5}\nhello{\"next\":1}\n";
    auto f = parse(r, in);
    ASSERT_EQ(f.st, frame_reader::status::frame);
    EXPECT_EQ(f.payload, "hello");
    EXPECT_EQ(f.consumed, in.find("hello") + 5);
    EXPECT_EQ(f.header->at("action").as_string(), "send");
}

TEST(stream_frame, size_absent_is_zero) {
    frame_reader r;
    auto f = parse(r, "{\"action\":\"join\"}\nrest");
    ASSERT_EQ(f.st, frame_reader::status::frame);
    EXPECT_EQ(f.payload, "");
    EXPECT_EQ(f.consumed, 18u);
}

TEST(stream_frame, payload_may_hold_newlines_nul_and_invalid_utf8) {
    frame_reader r;
    std::string payload("a\n\0\xff\xfe\n", 6);
    std::string in = "{\"size\":6}\n" + payload;
    auto f = parse(r, in);
    ASSERT_EQ(f.st, frame_reader::status::frame);
    EXPECT_EQ(f.payload, payload);
}

TEST(stream_frame, incomplete_header_or_payload_needs_more) {
    frame_reader r;
    EXPECT_EQ(parse(r, "{\"size\":5").st, frame_reader::status::need_more);
    EXPECT_EQ(parse(r, "{\"size\":5}\nhel").st, frame_reader::status::need_more);
    EXPECT_EQ(parse(r, "").st, frame_reader::status::need_more);
}

TEST(stream_frame, header_without_newline_past_64k_is_an_error) {
    frame_reader r;
    std::string in(max_header_bytes, ' ');
    EXPECT_EQ(parse(r, in).st, frame_reader::status::need_more);  // exactly 64 KiB may still end
    in += ' ';
    auto f = parse(r, in);
    EXPECT_EQ(f.st, frame_reader::status::error);
    EXPECT_EQ(f.error, frame_error::header_too_long);
}

TEST(stream_frame, header_of_64k_is_accepted) {
    frame_reader r;
    std::string in = "{\"pad\":\"" + std::string(max_header_bytes - 11, 'x') + "\"}";
    ASSERT_EQ(in.size(), max_header_bytes - 1);
    EXPECT_EQ(parse(r, in + "\n").st, frame_reader::status::frame);
}

TEST(stream_frame, each_bad_frame_kind_is_named) {
    frame_reader r;
    auto err = [&](std::string_view in, std::uint64_t max = 1 << 20) { return parse(r, in, max).error; };
    EXPECT_EQ(err("not json\n"), frame_error::not_json);
    EXPECT_EQ(err("{\"a\":1} trailing\n"), frame_error::not_json);
    EXPECT_EQ(err("{\"a\":\"\xff\"}\n"), frame_error::not_json);  // a header is UTF-8
    EXPECT_EQ(err("[1,2]\n"), frame_error::not_object);
    EXPECT_EQ(err("\n"), frame_error::not_json);
    EXPECT_EQ(err("{\"size\":-1}\n"), frame_error::bad_size);
    EXPECT_EQ(err("{\"size\":\"5\"}\n"), frame_error::bad_size);
    EXPECT_EQ(err("{\"size\":5.0}\n"), frame_error::bad_size);
    EXPECT_EQ(err("{\"size\":null}\n"), frame_error::bad_size);
    EXPECT_EQ(err("{\"size\":11}\n", 10), frame_error::size_too_large);
    EXPECT_EQ(err("{\"size\":18446744073709551615}\n"), frame_error::size_too_large);
}

TEST(stream_frame, crlf_and_spaces_around_the_header_are_json_whitespace) {
    frame_reader r;
    EXPECT_EQ(parse(r, " {\"size\":1} \r\nx").st, frame_reader::status::frame);
}

TEST(stream_frame, the_reader_is_reused_across_many_frames) {
    frame_reader r;
    std::string big = "{\"k\":[" + std::string(20000, '1') + "]}\n";  // past the 4 KiB arena
    for (int i = 0; i < 1000; ++i) {
        auto f = parse(r, i % 2 ? big : std::string("{\"size\":0}\n"));
        ASSERT_EQ(f.st, frame_reader::status::frame) << i;
    }
}

// --- actions ---

action_error decode(std::string_view header, action& a, std::string_view payload = "") {
    static boost::json::value v;
    v = boost::json::parse(header);
    return decode_action(v.as_object(), payload, a);
}

TEST(stream_frame, send_decodes_every_field) {
    action a;
    EXPECT_EQ(decode(R"({"action":"send","conn":")" + conn + R"(","binary":true,"wait":"written","id":"42"})", a,
                     "\xff"),
              action_error::none);
    EXPECT_EQ(a.kind, action_kind::send);
    EXPECT_EQ(a.conn, conn);
    EXPECT_TRUE(a.binary);
    EXPECT_TRUE(a.wait_written);
    EXPECT_EQ(a.payload, "\xff");
    ASSERT_TRUE(a.id);
    EXPECT_EQ(boost::json::serialize(*a.id), "\"42\"");
}

TEST(stream_frame, each_action_needs_its_target) {
    action a;
    EXPECT_EQ(decode(R"({"action":"send"})", a), action_error::bad_conn);
    EXPECT_EQ(decode(R"({"action":"send","conn":"short"})", a), action_error::bad_conn);
    EXPECT_EQ(decode(R"({"action":"join","conn":")" + conn + "\"}", a), action_error::bad_room);
    EXPECT_EQ(decode(R"({"action":"leave","conn":")" + conn + R"(","room":""})", a), action_error::bad_room);
    EXPECT_EQ(decode(R"({"action":"publish","room":"a\u0001"})", a), action_error::bad_room);
    EXPECT_EQ(decode(R"({"action":"publish","room":"a","exclude":"x"})", a), action_error::bad_conn);
    EXPECT_EQ(decode(R"({"action":"send_user"})", a), action_error::bad_user);
    EXPECT_EQ(decode(R"({"action":"broadcast"})", a), action_error::none);
    EXPECT_EQ(decode(R"({"action":"publish","room":"room:a"})", a), action_error::none);
    EXPECT_EQ(a.exclude, "");
}

TEST(stream_frame, close_codes_and_reasons_are_checked) {
    action a;
    auto close = [&](std::string_view rest) { return decode(R"({"action":"close","conn":")" + conn + "\"" + std::string(rest) + "}", a); };
    EXPECT_EQ(close(""), action_error::none);
    EXPECT_EQ(a.code, 1000);
    EXPECT_EQ(close(R"(,"code":4000,"reason":"kicked")"), action_error::none);
    EXPECT_EQ(a.code, 4000);
    EXPECT_EQ(a.reason, "kicked");
    for (auto bad : {",\"code\":1001", ",\"code\":2999", ",\"code\":5000", ",\"code\":-1", ",\"code\":4000.5",
                     ",\"code\":\"4000\"", ",\"code\":65536000"})
        EXPECT_EQ(close(bad), action_error::bad_code) << bad;
    EXPECT_EQ(close(",\"reason\":\"" + std::string(124, 'r') + "\""), action_error::bad_reason);
    EXPECT_EQ(close(",\"reason\":5"), action_error::bad_field);
}

TEST(stream_frame, unknown_actions_and_wrong_types) {
    action a;
    EXPECT_EQ(decode(R"({"action":"fly","id":"x"})", a), action_error::unknown_action);
    EXPECT_TRUE(a.id);  // still acked
    EXPECT_EQ(decode(R"({"event":"send"})", a), action_error::unknown_action);
    EXPECT_EQ(decode(R"({"action":7})", a), action_error::unknown_action);
    EXPECT_EQ(decode(R"({"action":"broadcast","binary":"yes"})", a), action_error::bad_field);
    EXPECT_EQ(decode(R"({"action":"send","conn":")" + conn + R"(","wait":"later"})", a), action_error::bad_field);
    EXPECT_EQ(decode(R"({"action":"broadcast","id":{"a":1}})", a), action_error::bad_field);
    EXPECT_FALSE(a.id);  // an id that cannot be echoed is not acked
    EXPECT_EQ(decode(R"({"action":"broadcast","id":12,"future_key":[1,{"x":2}]})", a), action_error::none);
}

TEST(stream_frame, a_text_payload_must_be_utf8) {
    action a;
    EXPECT_EQ(decode(R"({"action":"broadcast"})", a, "\xc3\x28"), action_error::bad_utf8);
    EXPECT_EQ(decode(R"({"action":"broadcast","binary":true})", a, "\xc3\x28"), action_error::none);
    EXPECT_EQ(decode(R"({"action":"broadcast"})", a, "h\xc3\xa9"), action_error::none);
}

// --- what the gateway writes ---

boost::json::object header_of(const std::string& frame) {
    return boost::json::parse(std::string_view(frame).substr(0, frame.find('\n'))).as_object();
}

TEST(stream_frame, hello_message_disconnect_and_ack_are_json_lines) {
    std::string out;
    append_hello(out, "n1", 3);
    EXPECT_EQ(out, "{\"event\":\"hello\",\"node\":\"n1\",\"worker\":3,\"version\":1,\"size\":0}\n");
    out.clear();
    append_message_header(out, conn, true, 5);
    EXPECT_EQ(out, "{\"event\":\"message\",\"conn\":\"" + conn + "\",\"binary\":true,\"size\":5}\n");
    out.clear();
    append_disconnect(out, conn, 4000, "bye \"now\"\n");
    auto d = header_of(out);
    EXPECT_EQ(d.at("code").as_int64(), 4000);
    EXPECT_EQ(d.at("reason").as_string(), "bye \"now\"\n");
    EXPECT_EQ(out.find('\n'), out.size() - 1);  // one line: the reason's newline is escaped
    out.clear();
    append_ack(out, "\"42\"", action_error::not_found);
    EXPECT_EQ(out, "{\"event\":\"ack\",\"id\":\"42\",\"ok\":false,\"error\":\"not_found\"}\n");
    out.clear();
    append_ack(out, "7", action_error::none, 3);
    EXPECT_EQ(out, "{\"event\":\"ack\",\"id\":7,\"ok\":true,\"count\":3}\n");
}

TEST(stream_frame, connect_carries_the_connection_facts) {
    std::vector<std::pair<std::string, std::string>> params{{"room", "a\"b"}}, headers{{"cookie", "s=1"}};
    std::vector<std::string> rooms{"room:a", "x"};
    connect_fields f{conn, "/chat/{room}", "u1", "203.0.113.7", &params, &headers, &rooms, R"({"sub":"u1"})"};
    std::string out;
    append_connect(out, f, true);
    auto c = header_of(out);
    EXPECT_EQ(c.at("event").as_string(), "connect");
    EXPECT_EQ(c.at("conn").as_string(), conn);
    EXPECT_EQ(c.at("route").as_string(), "/chat/{room}");
    EXPECT_EQ(c.at("params").at("room").as_string(), "a\"b");
    EXPECT_EQ(c.at("user").as_string(), "u1");
    EXPECT_EQ(c.at("rooms").as_array().size(), 2u);
    EXPECT_EQ(c.at("remote").as_string(), "203.0.113.7");
    EXPECT_EQ(c.at("headers").at("cookie").as_string(), "s=1");
    EXPECT_EQ(c.at("claims").at("sub").as_string(), "u1");
    EXPECT_TRUE(c.at("replay").as_bool());
    EXPECT_EQ(c.at("size").as_int64(), 0);
    f.user = "";
    out.clear();
    append_connect(out, f, false);
    EXPECT_TRUE(header_of(out).at("user").is_null());
}

TEST(stream_frame, strings_that_are_not_utf8_still_make_valid_json) {
    std::string out;
    append_json_string(out, std::string("a\xff\x01\x7f\xc3\xa9\xe2\x82", 8));
    EXPECT_EQ(out, "\"a\\ufffd\\u0001\\u007f\xc3\xa9\\ufffd\\ufffd\"");
    EXPECT_NO_THROW(boost::json::parse(out));
}

TEST(stream_frame, what_the_gateway_writes_parses_back) {
    std::string out;
    append_hello(out, "n", 0);
    append_message_header(out, conn, false, 3);
    out += "a\nb";
    append_disconnect(out, conn, 1000, "");
    frame_reader r;
    std::string_view in(out);
    int frames = 0;
    while (!in.empty()) {
        auto f = parse(r, in);
        ASSERT_EQ(f.st, frame_reader::status::frame);
        in.remove_prefix(f.consumed);
        ++frames;
    }
    EXPECT_EQ(frames, 3);
}

}  // namespace
}  // namespace wsgated::backend
