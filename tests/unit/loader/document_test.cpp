// Tests for loader/document: reads of known keys, and a read of a key the schema does not know
// caught as the programming error it is (a typo in a builder would read "absent" forever).
#include "loader/document.h"

#include <gtest/gtest.h>

using namespace wsgated::config;

TEST(document, a_known_key_that_is_absent_reads_as_absent) {
    document doc;
    key_path at{"server.limits.send_queue", "server.limits.send_queue"};
    EXPECT_EQ(doc.get(at), nullptr);
    EXPECT_FALSE(doc.written(at));
    EXPECT_EQ(doc.number(at), 0u);
    node_value v;
    v.number = 42;
    doc.put(at, v);
    ASSERT_NE(doc.get(at), nullptr);
    EXPECT_EQ(doc.number(at), 42u);
}

#ifndef NDEBUG
TEST(document_death, reading_a_key_the_schema_does_not_know_is_a_programming_error) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    document doc;
    EXPECT_DEATH(doc.get({"server.limits.send_queu", "server.limits.send_queu"}), "schema does not know");
    EXPECT_DEATH(doc.written({"routes[0].nope", "routes[].nope"}), "schema does not know");
}
#endif
