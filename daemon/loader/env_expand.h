// env_expand: replaces ${VAR} and ${VAR:-default} in one scalar value of the configuration
// file with values from the environment (containers and Kubernetes inject settings that way).
//
// Called by the schema walk on every scalar value (never on keys) before it is typed, so a
// "${PORT}" may stand where an integer is expected. Errors are values.
#pragma once

#include <string>
#include <string_view>

#include "loader/loader.h"

namespace wsgated::config {

// ${NAME}: the variable's value, "" when it is unset (so an optional secret such as
//          `token: ${WSGATED_ADMIN_TOKEN}` still loads).
// ${NAME:-default}: `default` when NAME is unset or empty (as in the shell); the default is
//          taken literally up to the first '}'.
// $$: a literal '$'. A '$' followed by anything else is kept as it is.
// NAME is [A-Za-z_][A-Za-z0-9_]*. An unterminated "${" or a bad name is an error.
bool expand_env(std::string_view text, const env_lookup& env, std::string& out,
                std::string& error);

}  // namespace wsgated::config
