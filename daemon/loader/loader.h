// loader: YAML text → validated gateway_config snapshot, or every error found.
//
// The only place that sees YAML (yaml-cpp exceptions stop here). Each error names the place as
// "file:line:column: key.path: reason"; all errors are collected, not just the first.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"

namespace wsgated::config {

struct config_error {
    std::string file;
    int line = 0;    // 1-based; 0 when the error concerns the file as a whole
    int column = 0;  // 1-based
    std::string key_path;  // "server.listen[1].address", "routes[0].auth.algorithms[2]"
    std::string reason;

    // "file:line:column: key.path: reason" (file-level errors: "file: reason")
    std::string to_string() const;
};

// Returns the value of an environment variable, or nullopt when it is unset.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment (std::getenv).
env_lookup process_env();

struct load_result {
    config_ptr config;                 // set only when errors is empty
    std::vector<config_error> errors;  // in file order
};

// Reads and validates a file. TLS certificates, keys and JWT key files it names are opened and
// checked here, so a config that loads will not fail later for a bad file.
load_result load_file(const std::string& path, const env_lookup& env = process_env());

// Same, from text; `file_name` is what errors name.
load_result load_string(std::string_view yaml, const std::string& file_name,
                        const env_lookup& env = process_env());

}  // namespace wsgated::config
