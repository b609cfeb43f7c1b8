// listener_set: the public listeners of the running configuration, known by address, and what
// a reload does to them (SPEC §1): an address that stays keeps its socket and takes its new
// settings (certificate, proxy_protocol) for the next connection; an address added is bound,
// one removed stops accepting — connections it accepted stay open; a listener switched between
// ws and wss keeps its socket (TLS is chosen per accept). Connections never belong to a
// listener, so none of this drops one.
//
// Control thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config_diff.h"
#include "config/gateway_config.h"
#include "net/listener.h"

namespace wsgated::server {

class listener_set {
public:
    listener_set(boost::asio::io_context& control, std::vector<core::worker*> workers, net::listener::accept_fn on_socket,
                 net::listener::refused_fn on_refused);

    // Startup: binds every listener of `cfg`; the first failure's message, or empty.
    std::string bind(const config::gateway_config& cfg);
    void start();  // begins accepting on every bound listener, logging each address

    // A reload, in two steps. prepare() binds the new addresses before anything else changes:
    // when one cannot be bound it returns the message, and nothing changed (the ones it bound
    // are closed). commit() then starts them, stops the removed ones, and gives the kept ones
    // their settings; it cannot fail.
    std::string prepare(const config::gateway_config& next);
    void commit(const config::gateway_config& next);
    void abort() { pending_.clear(); }

    void stop();   // stops accepting everywhere (the drain)
    void clear();  // closes every listener

private:
    struct entry {
        std::string key;  // the address, "#2" for its second occurrence (port 0 twice)
        std::shared_ptr<net::listener> l;
    };
    std::shared_ptr<net::listener> make(const config::listen_config& c);
    entry* find(const std::string& key);

    boost::asio::io_context& control_;
    std::vector<core::worker*> workers_;
    net::listener::accept_fn on_socket_;
    net::listener::refused_fn on_refused_;
    std::vector<entry> entries_;
    std::vector<entry> pending_;  // bound by prepare(), started by commit()
};

}  // namespace wsgated::server
