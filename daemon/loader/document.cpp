// document: see document.h.
#include "loader/document.h"

#include <boost/assert.hpp>

#include "loader/schema.h"

namespace wsgated::config {
namespace {

// A builder that asks for a key the schema does not know has a typo or a key missing from the
// table: it would silently read "absent" forever. A programming error, so an assertion (every
// loader test runs the builders with assertions on), not a config error.
void check_known(const key_path& at) {
    BOOST_ASSERT_MSG(at.pattern.empty() || schema::find(at.pattern) != nullptr,
                     "document read of a key the schema does not know");
    (void)at;
}

}  // namespace

key_path key_path::key(std::string_view name) const {
    if (path.empty()) return {std::string(name), std::string(name)};
    return {path + "." + std::string(name), pattern + "." + std::string(name)};
}

key_path key_path::item(std::size_t index) const {
    return {path + "[" + std::to_string(index) + "]", pattern + "[]"};
}

key_path key_path::entry(std::string_view name) const {
    return {path + "." + std::string(name), pattern + ".*"};
}

const node_value* document::get(const key_path& at) const {
    check_known(at);
    auto it = values_.find(at.path);
    return it == values_.end() || !it->second.valid ? nullptr : &it->second;
}

bool document::written(const key_path& at) const {
    check_known(at);
    return values_.count(at.path) != 0;
}

std::uint64_t document::number(const key_path& at) const {
    const node_value* v = get(at);
    return v ? v->number : 0;
}

duration document::time(const key_path& at) const {
    return duration(static_cast<duration::rep>(number(at)));
}

std::string document::text(const key_path& at) const {
    const node_value* v = get(at);
    return v ? v->text : std::string();
}

std::size_t document::count(const key_path& at) const {
    const node_value* v = get(at);
    return v ? v->count : 0;
}

const std::vector<std::string>& document::keys(const key_path& at) const {
    static const std::vector<std::string> none;
    const node_value* v = get(at);
    return v ? v->keys : none;
}

source_mark document::mark(const key_path& at) const {
    check_known(at);
    auto it = values_.find(at.path);
    return it == values_.end() ? source_mark{} : it->second.mark;
}

source_mark document::key_mark(const key_path& at) const {
    check_known(at);
    auto it = values_.find(at.path);
    return it == values_.end() ? source_mark{} : it->second.key_mark;
}

}  // namespace wsgated::config
