// sections: turn a checked document into the gateway_config sections, adding the checks that
// need more than one value or more than the schema knows: addresses, URLs, CIDRs, TLS and JWT
// key files, backend names and references, route paths and room templates.
//
// Called by the loader, in file order of the sections, after the schema walk. A value the walk
// refused reads as absent here, so one mistake is reported once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "loader/document.h"
#include "loader/error_list.h"
#include "config/gateway_config.h"

namespace wsgated::config {

void build_server(const document& doc, error_list& errors, server_config& out);

// After build_server: an admin address equal to a public listener's is an error.
void build_admin(const document& doc, error_list& errors, const server_config& server,
                 admin_config& out);

void build_cluster(const document& doc, error_list& errors, cluster_config& out);

// Always adds the built-in `echo`.
void build_backends(const document& doc, error_list& errors,
                    std::map<std::string, backend_config>& out);

// After build_backends: each route's backend must be one of them.
void build_routes(const document& doc, error_list& errors,
                  const std::map<std::string, backend_config>& backends,
                  std::vector<route_config>& out);

// One route's `auth` map (sections_auth.cpp).
void build_auth(const document& doc, error_list& errors, const key_path& at, auth_config& out);

}  // namespace wsgated::config
