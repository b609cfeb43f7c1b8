// sections_auth: one route's `auth` map (see sections.h): an http hook or a local JWT check.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config/formats.h"
#include "config/read_file.h"
#include "config/sections.h"

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

// A PEM key file must hold something OpenSSL reads as a public key (or a certificate carrying
// one); anything else is taken as an HMAC secret by the verifier.
std::string check_pem_public_key(const std::string& content) {
    BIO* bio = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
    if (!bio) return "out of memory";
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    if (!key) {
        BIO_reset(bio);
        if (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
            key = X509_get_pubkey(cert);
            X509_free(cert);
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    if (!key) return "holds PEM text that is not a public key or a certificate";
    EVP_PKEY_free(key);
    return {};
}

// Reads the key file now, so that a missing or unreadable file fails the load, not the first
// handshake. The verifier (auth/jwt_verifier) reads it again when it is built.
void check_key_file(const node_value& v, const key_path& at, bool pem_check, error_list& errors) {
    std::string content, why;
    if (!read_file(v.text, content, why)) {
        errors.add(v.mark, at.path, "cannot read " + v.text + ": " + why);
        return;
    }
    if (content.empty()) { errors.add(v.mark, at.path, v.text + " is empty"); return; }
    if (!pem_check || content.find("-----BEGIN") == std::string::npos) return;
    if (std::string bad = check_pem_public_key(content); !bad.empty())
        errors.add(v.mark, at.path, v.text + " " + bad);
}

void build_jwt_keys(const document& doc, error_list& errors, const key_path& at,
                    auth_jwt_config& out) {
    const node_value* key = doc.get(at.key("key_file"));
    const node_value* jwks = doc.get(at.key("jwks_file"));
    if (key && jwks) {
        errors.add(jwks->mark, at.key("jwks_file").path, "give key_file or jwks_file, not both");
        return;
    }
    if (!key && !jwks) {
        if (!doc.written(at.key("key_file")) && !doc.written(at.key("jwks_file")))
            errors.add(doc.key_mark(at), at.key("key_file").path,
                       "required for type jwt (or jwks_file)");
        return;
    }
    if (key) {
        check_key_file(*key, at.key("key_file"), true, errors);
        out.key_file = key->text;
    } else {
        check_key_file(*jwks, at.key("jwks_file"), false, errors);
        out.jwks_file = jwks->text;
    }
}

void build_jwt_auth(const document& doc, error_list& errors, const key_path& at,
                    auth_jwt_config& out) {
    key_path algorithms = at.key("algorithms");
    for (std::size_t i = 0; i < doc.count(algorithms); ++i)
        if (const node_value* a = doc.get(algorithms.item(i))) out.algorithms.push_back(a->text);
    build_jwt_keys(doc, errors, at, out);
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
