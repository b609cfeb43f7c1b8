// error_list: the configuration errors found while loading one file, kept in file order.
//
// Owned by one load (loader.cpp); the schema walk and the section builders add to it. Nothing
// stops at the first error, so an operator fixes a file in one round.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "loader/loader.h"

namespace wsgated::config {

class error_list {
public:
    explicit error_list(std::string file) : file_(std::move(file)) {}

    // `at` line 0 = the file as a whole (or a default, which names no place in it).
    void add(source_mark at, std::string key_path, std::string reason) {
        errors_.push_back({file_, at.line, at.column, std::move(key_path), std::move(reason)});
    }

    bool empty() const { return errors_.empty(); }

    // File-level errors first, then by position; equal positions keep the order found.
    std::vector<config_error> take_sorted() {
        std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
            return a.line != b.line ? a.line < b.line : a.column < b.column;
        });
        return std::move(errors_);
    }

private:
    std::string file_;
    std::vector<config_error> errors_;
};

}  // namespace wsgated::config
