// Tests for config/schema: the key table is well formed, its defaults parse, and
// docs/configuration.md renders exactly the same table.
#include "loader/schema.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace wsgated::config {
namespace {

// "server.listen[].tls" → "server.listen[]", "routes[]" → "routes", "backends.*" → "backends"
std::string parent_of(std::string_view path) {
    if (path.ends_with("[]")) return std::string(path.substr(0, path.size() - 2));
    std::size_t dot = path.rfind('.');
    return dot == std::string_view::npos ? "" : std::string(path.substr(0, dot));
}

bool literal_default(const schema_entry& e) {
    return !e.default_text.empty() && e.default_text.front() != '(';
}

TEST(schema, every_path_is_unique) {
    std::set<std::string_view> seen;
    for (const auto& e : schema::entries()) EXPECT_TRUE(seen.insert(e.path).second) << e.path;
}

TEST(schema, every_parent_is_in_the_table_with_a_matching_kind) {
    for (const auto& e : schema::entries()) {
        std::string parent = parent_of(e.path);
        if (parent.empty()) continue;
        const schema_entry* p = schema::find(parent);
        ASSERT_NE(p, nullptr) << e.path;
        value_kind expected = e.path.ends_with("[]")   ? value_kind::list
                              : e.path.ends_with(".*") ? value_kind::dict
                                                       : value_kind::map;
        EXPECT_EQ(p->kind, expected) << e.path;
    }
}

TEST(schema, every_list_and_dict_describes_its_items) {
    for (const auto& e : schema::entries()) {
        if (e.kind == value_kind::list) {
            EXPECT_NE(schema::find(std::string(e.path) + "[]"), nullptr) << e.path;
        }
        if (e.kind == value_kind::dict) {
            EXPECT_NE(schema::find(std::string(e.path) + ".*"), nullptr) << e.path;
        }
    }
}

TEST(schema, every_scalar_default_parses_as_its_kind) {
    for (const auto& e : schema::entries()) {
        if (!literal_default(e) || e.kind == value_kind::map || e.kind == value_kind::list)
            continue;
        std::uint64_t n = 0;
        std::string error;
        std::string text = YAML::Load(std::string(e.default_text)).Scalar();
        EXPECT_TRUE(schema::parse_scalar(e, text, n, error)) << e.path << ": " << error;
    }
}

TEST(schema, every_list_default_holds_valid_items) {
    for (const auto& e : schema::entries()) {
        if (e.kind != value_kind::list || !literal_default(e)) continue;
        YAML::Node items = YAML::Load(std::string(e.default_text));
        ASSERT_TRUE(items.IsSequence()) << e.path;
        const schema_entry* item = schema::find(std::string(e.path) + "[]");
        for (const auto& it : items) {
            if (item->kind == value_kind::map) { EXPECT_TRUE(it.IsMap()) << e.path; continue; }
            std::uint64_t n = 0;
            std::string error;
            EXPECT_TRUE(schema::parse_scalar(*item, it.Scalar(), n, error))
                << e.path << ": " << error;
        }
    }
}

TEST(schema, a_map_filled_by_default_has_no_required_keys) {
    // An absent "{}" map is walked as empty; a required key in it would always be missing.
    for (const auto& e : schema::entries()) {
        if (e.kind != value_kind::map || e.default_text != "{}") continue;
        for (const schema_entry* c : schema::children(e.path))
            EXPECT_FALSE(c->required && c->variant.empty()) << c->path;
    }
}

TEST(schema, maps_default_to_nothing_or_to_themselves_filled) {
    for (const auto& e : schema::entries()) {
        if (e.kind != value_kind::map && e.kind != value_kind::dict) continue;
        EXPECT_TRUE(e.default_text.empty() || e.default_text == "{}") << e.path;
    }
}

TEST(schema, a_variant_is_a_value_of_the_sibling_type) {
    for (const auto& e : schema::entries()) {
        if (e.variant.empty()) continue;
        const schema_entry* type = schema::find(parent_of(e.path) + ".type");
        ASSERT_NE(type, nullptr) << e.path;
        std::uint64_t n = 0;
        std::string error;
        EXPECT_TRUE(schema::parse_scalar(*type, e.variant, n, error)) << e.path;
    }
}

TEST(schema, bounds_are_ordered_and_only_on_numbers) {
    for (const auto& e : schema::entries()) {
        EXPECT_LE(e.min, e.max) << e.path;
        bool numeric = e.kind == value_kind::integer || e.kind == value_kind::auto_integer ||
                       e.kind == value_kind::duration || e.kind == value_kind::size;
        if (numeric) continue;
        EXPECT_TRUE(e.min == 0 && e.max == no_limit) << e.path;
    }
}

TEST(schema, every_entry_is_documented_on_one_line) {
    for (const auto& e : schema::entries()) {
        EXPECT_FALSE(e.doc.empty()) << e.path;
        EXPECT_EQ(e.doc.find('\n'), std::string_view::npos) << e.path;
        // Each is a markdown table cell.
        EXPECT_EQ(e.doc.find('|'), std::string_view::npos) << e.path;
        EXPECT_EQ(e.format.find('|'), std::string_view::npos) << e.path;
    }
}

TEST(schema, children_lists_direct_keys_only) {
    std::vector<std::string_view> names;
    for (const schema_entry* e : schema::children("server.heartbeat")) names.push_back(e->path);
    EXPECT_EQ(names, (std::vector<std::string_view>{"server.heartbeat.interval",
                                                     "server.heartbeat.timeout"}));
    names.clear();
    for (const schema_entry* e : schema::children("")) names.push_back(e->path);
    EXPECT_EQ(names, (std::vector<std::string_view>{"server", "admin", "backends", "routes",
                                                     "cluster"}));
}

TEST(schema, parse_scalar_checks_bounds_in_the_entrys_units) {
    const schema_entry* bits = schema::find("routes[].compression.server_max_window_bits");
    std::uint64_t n = 0;
    std::string error;
    EXPECT_FALSE(schema::parse_scalar(*bits, "8", n, error));
    EXPECT_EQ(error, "must be between 9 and 15");
    const schema_entry* workers = schema::find("server.workers");
    EXPECT_TRUE(schema::parse_scalar(*workers, "auto", n, error));
    EXPECT_EQ(n, 0u);
    EXPECT_FALSE(schema::parse_scalar(*workers, "1025", n, error));
    EXPECT_EQ(error, "must be between 1 and 1024 (or auto)");
    const schema_entry* handshake = schema::find("server.limits.handshake_timeout");
    EXPECT_FALSE(schema::parse_scalar(*handshake, "0", n, error));
    EXPECT_EQ(error, "must be at least 1ms");
}

TEST(schema, refused_enumeration_value_gets_its_own_reason) {
    const schema_entry* alg = schema::find("routes[].auth.algorithms[]");
    std::uint64_t n = 0;
    std::string error;
    EXPECT_FALSE(schema::parse_scalar(*alg, "NONE", n, error));
    EXPECT_EQ(error, "'none' is never accepted: an unsigned token proves nothing");
}

std::string read_docs() {
    // WSGATED_TEST_DATA is the repository's tests/data.
    auto root = std::filesystem::path(WSGATED_TEST_DATA).parent_path().parent_path();
    std::ifstream in(root / "docs" / "configuration.md");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(schema, docs_have_a_row_for_every_entry) {
    std::string docs = read_docs();
    ASSERT_FALSE(docs.empty()) << "docs/configuration.md not found";
    for (const auto& e : schema::entries())
        EXPECT_NE(docs.find(schema::doc_row(e) + "\n"), std::string::npos)
            << "docs/configuration.md lacks (or differs on) the row\n" << schema::doc_row(e);
}

TEST(schema, docs_have_no_row_for_an_unknown_key) {
    std::istringstream docs(read_docs());
    for (std::string line; std::getline(docs, line);) {
        // A key row has five cells; other tables on the page have fewer.
        if (!line.starts_with("| `") || std::count(line.begin(), line.end(), '|') != 6) continue;
        std::string path = line.substr(3, line.find('`', 3) - 3);
        EXPECT_NE(schema::find(path), nullptr) << "docs/configuration.md documents " << path;
    }
}

}  // namespace
}  // namespace wsgated::config
