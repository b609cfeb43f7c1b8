// local_bus: the bus of a gateway that runs alone (no `cluster:` in the config). There are no
// other nodes: a connection id that names another node is answered "no such connection", and
// the other nodes' share of every fan-out and view is empty. Always connected.
//
// Stateless, so any thread may call it; answers are posted to the caller's executor like any
// bus's, so callers see the same order of events whichever bus is plugged in.
#pragma once

#include "hub/bus.h"

namespace wsgated::hub {

class local_bus final : public bus {
public:
    bool connected() const override { return true; }
    void send(const std::string& id, core::message m, bool wait_written, reply_executor ex,
              outcome_fn done) override;
    void close(const std::string& id, std::uint16_t code, const std::string& reason, reply_executor ex,
               outcome_fn done) override;
    void join(const std::string& room, const std::string& id, bool join, reply_executor ex,
              change_fn done) override;
    void view(const std::string& id, reply_executor ex, view_fn done) override;
    void publish(const std::string& room, const core::message& m, const std::string& exclude, reply_executor ex,
                 count_fn done) override;
    void send_to_user(const std::string& user, const core::message& m, reply_executor ex, count_fn done) override;
    void broadcast(const core::message& m, reply_executor ex, count_fn done) override;
    void join_user(const std::string& user, const std::string& room, bool join, reply_executor ex,
                   count_fn done) override;
    void close_user(const std::string& user, std::uint16_t code, const std::string& reason, reply_executor ex,
                    count_fn done) override;
    void room_count(const std::string& room, reply_executor ex, count_fn done) override;
    void room_members(const std::string& room, reply_executor ex, members_fn done) override;
    void user_connections(const std::string& user, reply_executor ex, members_fn done) override;
};

}  // namespace wsgated::hub
