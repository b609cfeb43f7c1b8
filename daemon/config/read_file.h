// read_file: reads a whole file named by the configuration (the config file itself, JWT key
// files) without exceptions, so that an unreadable one becomes a config error with the OS's
// reason.
#pragma once

#include <string>

namespace wsgated::config {

// On failure returns false and sets `error` to the OS's reason ("No such file or directory",
// "Is a directory", "Permission denied").
bool read_file(const std::string& path, std::string& out, std::string& error);

}  // namespace wsgated::config
