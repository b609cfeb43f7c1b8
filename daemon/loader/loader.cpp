// loader: see loader.h. YAML is parsed here and nowhere else; yaml-cpp's exceptions stop here.
// Loading is two passes over one document: the schema walk (every key, generically) and the
// section builders (what needs more than one key), each adding to one error list.
#include "loader/loader.h"

#include <cstdlib>

#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "loader/document.h"
#include "loader/error_list.h"
#include "config/read_file.h"
#include "loader/schema_walk.h"
#include "loader/sections.h"

namespace wsgated::config {
namespace {

// The one document of the file, if it is a map; otherwise says why and returns false.
// Sees only where each document starts.
class document_starts final : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark& m) override { last = m; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
    YAML::Mark last = YAML::Mark::null_mark();
};

// yaml-cpp 0.7's LoadAll never returns on some malformed input (a ',' at the document level
// yields empty documents forever without consuming it; found by tests/fuzz). Walk the
// documents first and refuse one that starts where the previous one started.
void check_documents_progress(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    document_starts starts;
    int previous = -1;
    while (parser.HandleNextDocument(starts)) {
        if (starts.last.pos == previous)
            throw YAML::ParserException(starts.last, "unexpected character at the top level");
        previous = starts.last.pos;
    }
}

bool root_of(const std::vector<YAML::Node>& documents, YAML::Node& root, error_list& errors) {
    if (documents.empty() || (documents.size() == 1 && documents[0].IsNull())) {
        errors.add({}, "", "the file is empty; at least `routes` is needed");
        return false;
    }
    if (documents.size() > 1) {
        errors.add(to_source_mark(documents[1].Mark()), "",
                   "only one YAML document is allowed (remove this '---' part)");
        return false;
    }
    if (!documents[0].IsMap()) {
        errors.add(to_source_mark(documents[0].Mark()), "",
                   "the top level must be a map of sections: server, admin, backends, routes, "
                   "cluster");
        return false;
    }
    root = documents[0];
    return true;
}

std::shared_ptr<gateway_config> build(const document& doc, error_list& errors) {
    auto config = std::make_shared<gateway_config>();
    build_server(doc, errors, config->server);
    build_admin(doc, errors, config->server, config->admin);
    build_backends(doc, errors, config->backends);
    build_routes(doc, errors, config->backends, config->routes);
    build_cluster(doc, errors, config->cluster);
    return config;
}

}  // namespace

std::string config_error::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += ": ";
    if (!key_path.empty()) out += key_path + ": ";
    return out + reason;
}

env_lookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        // getenv is safe to call from the loading thread as long as nothing calls setenv, and
        // wsgated never does.
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
}

load_result load_string(std::string_view yaml, const std::string& file_name,
                        const env_lookup& env) {
    error_list errors(file_name);
    load_result result;
    try {
        YAML::Node root;
        std::string text(yaml);
        check_documents_progress(text);
        if (root_of(YAML::LoadAll(text), root, errors)) {
            document doc;
            walk_schema(root, env, doc, errors);
            std::shared_ptr<gateway_config> config = build(doc, errors);
            config->source_file = file_name;
            if (errors.empty()) result.config = std::move(config);
        }
    } catch (const YAML::Exception& e) {
        // A syntax error: yaml-cpp stops at the first, so it is the only one reported.
        errors.add(to_source_mark(e.mark), "", "YAML syntax: " + e.msg);
    } catch (const std::exception& e) {
        // Out of memory, or an OpenSSL context that could not be created.
        errors.add({}, "", e.what());
    }
    result.errors = errors.take_sorted();
    return result;
}

load_result load_file(const std::string& path, const env_lookup& env) {
    std::string text, why;
    if (!read_file(path, text, why)) {
        load_result unreadable;
        unreadable.errors.push_back({path, 0, 0, "", "cannot read: " + why});
        return unreadable;
    }
    return load_string(text, path, env);
}

}  // namespace wsgated::config
