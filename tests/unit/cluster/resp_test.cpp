// resp: commands written as RESP arrays, replies parsed by hiredis's reader (cluster/resp.h).
#include "cluster/resp.h"

#include <gtest/gtest.h>

namespace wsgated::cluster {
namespace {

TEST(resp, a_command_is_an_array_of_bulk_strings) {
    std::string out;
    append_command(out, {"PUBLISH", "ch", std::string_view("a\0\r\n", 4)});
    EXPECT_EQ(out, std::string("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$4\r\na\0\r\n\r\n", 35));
    append_command(out, {"PING"});
    EXPECT_TRUE(out.ends_with("*1\r\n$4\r\nPING\r\n"));
}

TEST(resp, replies_come_whole_whatever_the_reads_cut) {
    std::string wire = "+OK\r\n:42\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n-ERR no\r\n$-1\r\n";
    resp_reader reader;
    std::vector<reply_ptr> got;
    for (char ch : wire) {  // one byte per read: the worst case of TCP segmentation
        ASSERT_TRUE(reader.feed(&ch, 1));
        while (auto r = reader.next()) got.push_back(std::move(r));
    }
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0]->type, REDIS_REPLY_STATUS);
    EXPECT_EQ(text_of(got[0].get()), "OK");
    EXPECT_EQ(got[1]->integer, 42);
    ASSERT_EQ(got[2]->type, REDIS_REPLY_ARRAY);
    EXPECT_EQ(text_of(got[2]->element[2]), "hello");
    EXPECT_TRUE(is_error(got[3].get()));
    EXPECT_EQ(got[4]->type, REDIS_REPLY_NIL);
    EXPECT_FALSE(reader.failed());
}

TEST(resp, a_protocol_error_fails_the_reader) {
    resp_reader reader;
    ASSERT_TRUE(reader.feed("?what\r\n", 7));
    EXPECT_EQ(reader.next(), nullptr);
    EXPECT_TRUE(reader.failed());
    EXPECT_FALSE(reader.error().empty());
    EXPECT_FALSE(reader.feed("+OK\r\n", 5));
}

// hiredis 0.14 would allocate 16 GB of element pointers for this header alone (the
// cluster_shards fuzz target's find): refused at the header, and a large honest array still reads.
TEST(resp, an_array_header_over_a_million_elements_fails_the_reader_before_any_allocation) {
    resp_reader reader;
    std::string huge = "*1999999999\r\n";
    reader.feed(huge.data(), huge.size());
    EXPECT_EQ(reader.next(), nullptr);
    EXPECT_TRUE(reader.failed());
    resp_reader ok;
    std::string many = "*100000\r\n";
    for (int i = 0; i < 100000; ++i) many += ":1\r\n";
    ASSERT_TRUE(ok.feed(many.data(), many.size()));
    auto r = ok.next();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->elements, 100000u);
}

}  // namespace
}  // namespace wsgated::cluster
