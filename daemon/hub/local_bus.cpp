// local_bus: see local_bus.h.
#include "hub/local_bus.h"

#include <boost/asio/post.hpp>

namespace wsgated::hub {
namespace {

void none(reply_executor& ex, count_fn& done) {
    boost::asio::post(ex, [done = std::move(done)] { done(outcome::ok, 0); });
}

void no_members(reply_executor& ex, members_fn& done) {
    boost::asio::post(ex, [done = std::move(done)] { done(outcome::ok, {}); });
}

}  // namespace

void local_bus::send(const std::string&, core::message, bool, reply_executor ex, outcome_fn done) {
    boost::asio::post(ex, [done = std::move(done)] { done(outcome::not_found); });
}

void local_bus::close(const std::string&, std::uint16_t, const std::string&, reply_executor ex,
                      outcome_fn done) {
    boost::asio::post(ex, [done = std::move(done)] { done(outcome::not_found); });
}

void local_bus::join(const std::string&, const std::string&, bool, reply_executor ex, change_fn done) {
    boost::asio::post(ex, [done = std::move(done)] { done(outcome::not_found, false); });
}

void local_bus::view(const std::string&, reply_executor ex, view_fn done) {
    boost::asio::post(ex, [done = std::move(done)] { done(outcome::not_found, {}); });
}

void local_bus::publish(const std::string&, const core::message&, const std::string&, reply_executor ex,
                        count_fn done) {
    none(ex, done);
}

void local_bus::send_to_user(const std::string&, const core::message&, reply_executor ex, count_fn done) {
    none(ex, done);
}

void local_bus::broadcast(const core::message&, reply_executor ex, count_fn done) { none(ex, done); }

void local_bus::join_user(const std::string&, const std::string&, bool, reply_executor ex, count_fn done) {
    none(ex, done);
}

void local_bus::close_user(const std::string&, std::uint16_t, const std::string&, reply_executor ex,
                           count_fn done) {
    none(ex, done);
}

void local_bus::room_count(const std::string&, reply_executor ex, count_fn done) { none(ex, done); }

void local_bus::room_members(const std::string&, reply_executor ex, members_fn done) { no_members(ex, done); }

void local_bus::user_connections(const std::string&, reply_executor ex, members_fn done) {
    no_members(ex, done);
}

}  // namespace wsgated::hub
