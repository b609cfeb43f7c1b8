// document: a configuration file after the schema walk — every value written in it (or taken
// from the schema's defaults), ${VAR}-expanded and typed, by its concrete key path.
//
// Filled by schema_walk, read by the section builders (sections.h), owned by one load. The
// builders never see YAML; they ask for "routes[1].auth.url" and get text, a number and the
// place it was written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/gateway_config.h"

namespace wsgated::config {

// A concrete key path and the schema pattern it matches, built together so that neither is
// ever derived from the other: "routes[1].auth" / "routes[].auth", "backends.app" /
// "backends.*".
struct key_path {
    std::string path;
    std::string pattern;

    key_path key(std::string_view name) const;    // a key of a map
    key_path item(std::size_t index) const;       // an item of a list
    key_path entry(std::string_view name) const;  // a key of a dict (backends)
};

struct node_value {
    source_mark mark;      // where the value is; line 0 = a default
    source_mark key_mark;  // where its key is (for a list item: the item)
    bool valid = true;     // false = written but refused by the walk, which said why
    std::string text;      // scalars, after ${VAR} expansion
    // integer, size, boolean (0/1), duration (ms), auto_integer (0 = auto)
    std::uint64_t number = 0;
    std::vector<std::string> keys;  // dict: its keys, in file order
    std::size_t count = 0;          // list: its length
};

class document {
public:
    void put(const key_path& at, node_value v) { values_[at.path] = std::move(v); }

    // The value if it is there and valid; nullptr when absent or refused.
    const node_value* get(const key_path& at) const;
    // Written in the file (or defaulted), valid or not.
    bool written(const key_path& at) const;

    // Typed reads; an absent or refused value reads as zero / empty.
    std::uint64_t number(const key_path& at) const;
    duration time(const key_path& at) const;
    bool flag(const key_path& at) const { return number(at) != 0; }
    std::string text(const key_path& at) const;
    std::size_t count(const key_path& at) const;
    const std::vector<std::string>& keys(const key_path& at) const;
    source_mark mark(const key_path& at) const;      // of the value
    source_mark key_mark(const key_path& at) const;  // of its key

private:
    std::unordered_map<std::string, node_value> values_;
};

}  // namespace wsgated::config
