// sections_auth: one route's `auth` map (see sections.h): an http hook or a local JWT check.

#include "auth/jwt_verifier.h"
#include "loader/formats.h"
#include "config/read_file.h"
#include "loader/sections.h"

namespace wsgated::config {
namespace {

void build_http_auth(const document& doc, error_list& errors, const key_path& at,
                     auth_http_config& out) {
    if (const node_value* url = doc.get(at.key("url"))) {
        std::string why;
        if (parse_http_url(url->text, out.endpoint, why)) out.url = url->text;
        else errors.add(url->mark, at.key("url").path, why);
    }
    key_path headers = at.key("forward_headers");
    for (std::size_t i = 0; i < doc.count(headers); ++i) {
        const node_value* h = doc.get(headers.item(i));
        if (!h) continue;
        if (is_token(h->text)) out.forward_headers.push_back(to_lower(h->text));
        else errors.add(h->mark, headers.item(i).path, "'" + h->text + "' is not a header name");
    }
    out.timeout = doc.time(at.key("timeout"));
    out.cache_ttl = doc.time(at.key("cache_ttl"));
    out.cache_size = doc.number(at.key("cache_size"));
    out.cache_negative = doc.flag(at.key("cache_negative"));
}

// Reads the key file now, so that a missing or unreadable file fails the load, not the first
// handshake; what the bytes hold (PEM, secret, JWKS) is the verifier's to judge, below. False
// when an error was added.
bool check_key_file(const node_value& v, const key_path& at, error_list& errors) {
    std::string content, why;
    if (!read_file(v.text, content, why)) {
        errors.add(v.mark, at.path, "cannot read " + v.text + ": " + why);
        return false;
    }
    if (content.empty()) { errors.add(v.mark, at.path, v.text + " is empty"); return false; }
    return true;
}

// Returns the key_file or jwks_file value when it names a readable file (its key path in
// `file_at`), else nullptr with the error added.
const node_value* build_jwt_keys(const document& doc, error_list& errors, const key_path& at,
                                 auth_jwt_config& out, key_path& file_at) {
    const node_value* key = doc.get(at.key("key_file"));
    const node_value* jwks = doc.get(at.key("jwks_file"));
    if (key && jwks) {
        errors.add(jwks->mark, at.key("jwks_file").path, "give key_file or jwks_file, not both");
        return nullptr;
    }
    if (!key && !jwks) {
        if (!doc.written(at.key("key_file")) && !doc.written(at.key("jwks_file")))
            errors.add(doc.key_mark(at), at.key("key_file").path,
                       "required for type jwt (or jwks_file)");
        return nullptr;
    }
    const node_value* file = key ? key : jwks;
    file_at = at.key(key ? "key_file" : "jwks_file");
    (key ? out.key_file : out.jwks_file) = file->text;
    return check_key_file(*file, file_at, errors) ? file : nullptr;
}

// The verifier parses the keys for real (PEM, JWKS) and checks the algorithms against them,
// so a bad JWKS, or a key that no listed algorithm can use, is a config error naming the
// file's key rather than a 401 for every client. A reload runs this again: keys are re-read.
void build_jwt_verifier(const node_value& file, const key_path& file_at, error_list& errors,
                        auth_jwt_config& out) {
    auth::jwt_build_result r = auth::jwt_verifier::build(out);
    if (r.verifier) out.verifier = std::move(r.verifier);
    else errors.add(file.mark, file_at.path, r.error);
}

void build_jwt_auth(const document& doc, error_list& errors, const key_path& at,
                    auth_jwt_config& out) {
    key_path algorithms = at.key("algorithms");
    for (std::size_t i = 0; i < doc.count(algorithms); ++i)
        if (const node_value* a = doc.get(algorithms.item(i))) out.algorithms.push_back(a->text);
    key_path file_at;
    const node_value* file = build_jwt_keys(doc, errors, at, out, file_at);
    key_path from = at.key("token_from");
    for (std::size_t i = 0; i < doc.count(from); ++i) {
        const node_value* v = doc.get(from.item(i));
        if (!v) continue;
        token_source t;
        std::string why;
        if (parse_token_source(v->text, t, why)) out.token_from.push_back(std::move(t));
        else errors.add(v->mark, from.item(i).path, why);
    }
    out.audience = doc.text(at.key("audience"));
    out.issuer = doc.text(at.key("issuer"));
    out.leeway = doc.time(at.key("leeway"));
    // With an algorithm refused (or none given) its error is already reported; a verifier
    // error about the remaining list would only repeat it.
    bool algorithms_ok = !out.algorithms.empty() && out.algorithms.size() == doc.count(algorithms);
    if (file && algorithms_ok) build_jwt_verifier(*file, file_at, errors, out);
}

}  // namespace

void build_auth(const document& doc, error_list& errors, const key_path& at, auth_config& out) {
    std::string type = doc.text(at.key("type"));
    if (type == "http") {
        out.type = auth_type::http;
        build_http_auth(doc, errors, at, out.http);
    } else if (type == "jwt") {
        out.type = auth_type::jwt;
        build_jwt_auth(doc, errors, at, out.jwt);
    }
}

}  // namespace wsgated::config
