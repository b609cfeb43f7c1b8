// schema_walk: see schema_walk.h.
#include "loader/schema_walk.h"

#include <algorithm>
#include <optional>

#include "loader/env_expand.h"
#include "loader/schema.h"

namespace wsgated::config {
namespace {

std::string_view last_key(std::string_view pattern) {
    std::size_t dot = pattern.rfind('.');
    return dot == std::string_view::npos ? pattern : pattern.substr(dot + 1);
}

std::string found_text(const YAML::Node& n) {
    if (n.IsMap()) return "a map";
    if (n.IsSequence()) return "a list";
    if (n.IsNull()) return "nothing";
    return "'" + n.Scalar() + "'";
}

std::string expected_text(const schema_entry& e) {
    switch (e.kind) {
        case value_kind::map:
        case value_kind::dict: return "a map";
        case value_kind::list: return "a list";
        case value_kind::integer: return "an integer";
        case value_kind::boolean: return "true or false";
        case value_kind::duration: return "a duration such as 30s";
        case value_kind::size: return "a size such as 64KiB";
        case value_kind::enumeration: return schema::type_text(e);
        case value_kind::auto_integer: return "auto or an integer";
        case value_kind::string: break;
    }
    return "a string";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// "unknown key", with the closest known sibling when one is close (a typo).
std::string unknown_key_reason(std::string_view parent_pattern, std::string_view name) {
    std::string best;
    std::size_t best_distance = 3;
    for (const schema_entry* e : schema::children(parent_pattern)) {
        std::size_t d = edit_distance(name, last_key(e->path));
        if (d < best_distance) { best_distance = d; best = std::string(last_key(e->path)); }
    }
    return best.empty() ? "unknown key" : "unknown key (did you mean '" + best + "'?)";
}

class walker {
public:
    walker(const env_lookup& env, document& doc, error_list& errors)
        : env_(env), doc_(doc), errors_(errors) {}

    void root(const YAML::Node& n) { map(n, key_path{}, to_source_mark(n.Mark())); }

private:
    void node(const YAML::Node& n, const key_path& at, const schema_entry& e, source_mark key_mark);
    void map(const YAML::Node& n, const key_path& at, source_mark here);
    void member(const YAML::Node& k, const YAML::Node& v, const key_path& at,
                const std::optional<std::string>& variant, std::vector<std::string>& seen);
    void fill_absent(const key_path& at, const std::optional<std::string>& variant,
                     const std::vector<std::string>& seen, source_mark here);
    void walk_default(const key_path& at, const schema_entry& e);
    void dict(const YAML::Node& n, const key_path& at, node_value v);
    void list(const YAML::Node& n, const key_path& at, node_value v);
    void scalar(const YAML::Node& n, const key_path& at, const schema_entry& e, node_value v);
    std::optional<std::string> variant_of(const YAML::Node& n, const key_path& at) const;

    // A default names no place in the file: its marks stay 0.
    source_mark mark_of(const YAML::Node& n, source_mark fallback) const {
        if (in_default_) return {};
        // yaml-cpp places an empty value at the next token; its key is the better place.
        return n.IsNull() || n.Mark().is_null() ? fallback : to_source_mark(n.Mark());
    }
    void error(source_mark at, const std::string& path, std::string reason) {
        errors_.add(at, path, std::move(reason));
    }

    const env_lookup& env_;
    document& doc_;
    error_list& errors_;
    bool in_default_ = false;
};

void walker::node(const YAML::Node& n, const key_path& at, const schema_entry& e,
                  source_mark key_mark) {
    node_value v;
    v.key_mark = key_mark;
    v.mark = mark_of(n, key_mark);
    bool null = n.IsNull();  // an empty map or list may be written as nothing
    bool fits = e.kind == value_kind::map || e.kind == value_kind::dict ? n.IsMap() || null
              : e.kind == value_kind::list ? n.IsSequence() || null
              : n.IsScalar();
    if (!fits) {
        error(v.mark, at.path, "expected " + expected_text(e) + ", found " + found_text(n));
        v.valid = false;
        doc_.put(at, std::move(v));
        return;
    }
    if (e.kind == value_kind::map) {
        // A missing key is reported at the map's own key (or list item), where a reader looks.
        map(n, at, key_mark.line ? key_mark : v.mark);
        doc_.put(at, std::move(v));
    } else if (e.kind == value_kind::dict) {
        dict(n, at, std::move(v));
    } else if (e.kind == value_kind::list) {
        list(n, at, std::move(v));
    } else {
        scalar(n, at, e, std::move(v));
    }
}

void walker::map(const YAML::Node& n, const key_path& at, source_mark here) {
    std::optional<std::string> variant = variant_of(n, at);
    std::vector<std::string> seen;
    if (n.IsMap())
        for (auto it = n.begin(); it != n.end(); ++it)
            member(it->first, it->second, at, variant, seen);
    fill_absent(at, variant, seen, here);
}

void walker::member(const YAML::Node& k, const YAML::Node& v, const key_path& at,
                    const std::optional<std::string>& variant, std::vector<std::string>& seen) {
    source_mark km = mark_of(k, {});
    if (!k.IsScalar()) { error(km, at.path, "a key must be a plain name"); return; }
    key_path child = at.key(k.Scalar());
    if (std::find(seen.begin(), seen.end(), k.Scalar()) != seen.end()) {
        error(km, child.path, "duplicate key");
        return;
    }
    seen.push_back(k.Scalar());
    const schema_entry* e = schema::find(child.pattern);
    if (!e) { error(km, child.path, unknown_key_reason(at.pattern, k.Scalar())); return; }
    if (!e->variant.empty() && variant && *variant != e->variant) {
        error(km, child.path, "not valid for type " + *variant);
        return;
    }
    node(v, child, *e, km);
}

void walker::fill_absent(const key_path& at, const std::optional<std::string>& variant,
                         const std::vector<std::string>& seen, source_mark here) {
    for (const schema_entry* e : schema::children(at.pattern)) {
        std::string_view name = last_key(e->path);
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
        if (!e->variant.empty() && variant != e->variant) continue;
        key_path child = at.key(name);
        if (e->required) {
            error(here, child.path,
                  e->variant.empty() ? "required key is missing"
                                     : "required for type " + std::string(e->variant));
        } else if (!e->default_text.empty() && e->default_text.front() != '(') {
            walk_default(child, *e);
        }
    }
}

void walker::walk_default(const key_path& at, const schema_entry& e) {
    bool outer = in_default_;
    in_default_ = true;
    try {
        node(YAML::Load(std::string(e.default_text)), at, e, {});
    } catch (const YAML::Exception& x) {
        error({}, at.path, "bad default in the schema table: " + x.msg);
    }
    in_default_ = outer;
}

void walker::dict(const YAML::Node& n, const key_path& at, node_value v) {
    const schema_entry* item = schema::find(at.pattern + ".*");
    if (n.IsMap()) {
        for (auto it = n.begin(); it != n.end(); ++it) {
            source_mark km = mark_of(it->first, {});
            if (!it->first.IsScalar()) {
                error(km, at.path, "a key must be a plain name");
                continue;
            }
            const std::string& name = it->first.Scalar();
            if (std::find(v.keys.begin(), v.keys.end(), name) != v.keys.end()) {
                error(km, at.entry(name).path, "duplicate key");
                continue;
            }
            v.keys.push_back(name);
            node(it->second, at.entry(name), *item, km);
        }
    }
    doc_.put(at, std::move(v));
}

void walker::list(const YAML::Node& n, const key_path& at, node_value v) {
    const schema_entry* item = schema::find(at.pattern + "[]");
    if (n.IsSequence())
        for (const auto& it : n) node(it, at.item(v.count++), *item, mark_of(it, v.mark));
    doc_.put(at, std::move(v));
}

void walker::scalar(const YAML::Node& n, const key_path& at, const schema_entry& e,
                    node_value v) {
    std::string reason;
    if (!expand_env(n.Scalar(), env_, v.text, reason) ||
        !schema::parse_scalar(e, v.text, v.number, reason)) {
        error(v.mark, at.path, std::move(reason));
        v.valid = false;
    }
    doc_.put(at, std::move(v));
}

// The value of this map's `type` key, when the map has one and it is valid: it decides which
// other keys may appear (backends.*.url is for type http only).
std::optional<std::string> walker::variant_of(const YAML::Node& n, const key_path& at) const {
    const schema_entry* type = schema::find(at.key("type").pattern);
    if (!type || !n.IsMap()) return std::nullopt;
    // Looked up by iterating: a const yaml-cpp lookup of a missing key yields a node that
    // throws when asked anything.
    auto t = std::find_if(n.begin(), n.end(), [](const auto& kv) {
        return kv.first.IsScalar() && kv.first.Scalar() == "type";
    });
    std::string text, ignored;
    if (t == n.end() || !t->second.IsScalar() ||
        !expand_env(t->second.Scalar(), env_, text, ignored))
        return std::nullopt;
    std::uint64_t unused = 0;
    if (!schema::parse_scalar(*type, text, unused, ignored)) return std::nullopt;
    return text;
}

}  // namespace

source_mark to_source_mark(const YAML::Mark& m) {
    if (m.is_null()) return {};
    return {m.line + 1, m.column + 1};
}

void walk_schema(const YAML::Node& root, const env_lookup& env, document& doc,
                 error_list& errors) {
    walker(env, doc, errors).root(root);
}

}  // namespace wsgated::config
