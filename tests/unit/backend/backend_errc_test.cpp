// Tests for backend/backend_errc: every exchange result has one outcome label and one close.
#include "backend/backend_errc.h"

#include <gtest/gtest.h>

using namespace wsgated::backend;
using namespace wsgated::http_client;

namespace {

http_result answer(unsigned status) {
    http_result r;
    r.response.result(status);
    return r;
}

http_result failed(http_failure f) {
    http_result r;
    r.failure = f;
    return r;
}

}  // namespace

TEST(backend_errc, status_classes) {
    EXPECT_EQ(classify(answer(200)), backend_errc::ok);
    EXPECT_EQ(classify(answer(204)), backend_errc::ok);
    EXPECT_EQ(classify(answer(404)), backend_errc::http_4xx);
    EXPECT_EQ(classify(answer(500)), backend_errc::http_5xx);
    EXPECT_EQ(classify(answer(302)), backend_errc::malformed);  // nothing to act on
}

TEST(backend_errc, transport_failures) {
    EXPECT_EQ(classify(failed(http_failure::unreachable)), backend_errc::unreachable);
    EXPECT_EQ(classify(failed(http_failure::overloaded)), backend_errc::overloaded);
    EXPECT_EQ(classify(failed(http_failure::timeout)), backend_errc::timeout);
    EXPECT_EQ(classify(failed(http_failure::reset)), backend_errc::reset);
    EXPECT_EQ(classify(failed(http_failure::malformed)), backend_errc::malformed);
}

TEST(backend_errc, unreachable_and_overloaded_close_1013) {
    EXPECT_EQ(close_for(backend_errc::unreachable, 0).code, 1013);
    EXPECT_EQ(close_for(backend_errc::overloaded, 0).code, 1013);
    EXPECT_EQ(close_for(backend_errc::http_5xx, 503).code, 1013);
    EXPECT_EQ(close_for(backend_errc::http_4xx, 429).code, 1013);
}

TEST(backend_errc, other_failures_close_1011) {
    EXPECT_EQ(close_for(backend_errc::http_5xx, 500).code, 1011);
    EXPECT_EQ(close_for(backend_errc::http_4xx, 400).code, 1011);
    EXPECT_EQ(close_for(backend_errc::timeout, 0).code, 1011);
    EXPECT_EQ(close_for(backend_errc::timeout, 0).reason, "backend timeout");
    EXPECT_EQ(close_for(backend_errc::reset, 0).code, 1011);
    EXPECT_EQ(close_for(backend_errc::malformed, 0).code, 1011);
}

TEST(backend_errc, labels_are_distinct_words) {
    std::set<std::string_view> seen;
    for (auto e : all_backend_errcs) EXPECT_TRUE(seen.insert(outcome_label(e)).second);
    EXPECT_EQ(outcome_label(backend_errc::ok), "ok");
}
