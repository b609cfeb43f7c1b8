// Tests for config/loader with real files: TLS certificates and keys (checked through
// net::make_tls_context), JWT key files, SPEC §2's full example, and load_file itself.
#include "loader/loader.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/tls_pair.h"

namespace wsgated::config {
namespace {

namespace fs = std::filesystem;

env_lookup no_env() {
    return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// A throw-away directory with a self-signed certificate, its key, a second key that does not
// match, a JWT public key and an HMAC secret. (A JWKS document is in tests/data/config.)
class loader_files : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("wsgated_loader_files_" + std::to_string(getpid()));
        fs::create_directories(dir_);
        EVP_PKEY* key = EVP_EC_gen("P-256");
        EVP_PKEY* other = EVP_EC_gen("P-256");
        ASSERT_TRUE(key && other);
        write_pem(path("tls.crt"), [&](FILE* f) { return test::write_self_signed_cert(f, key); });
        write_pem(path("tls.key"), [&](FILE* f) { return write_key(f, key); });
        write_pem(path("other.key"), [&](FILE* f) { return write_key(f, other); });
        write_pem(path("jwt.pem"), [&](FILE* f) { return PEM_write_PUBKEY(f, key); });
        EVP_PKEY_free(key);
        EVP_PKEY_free(other);
        write_text("hmac.secret", "a-long-random-hmac-secret");
        write_text("garbage.pem",
                   "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n");
    }

    static void TearDownTestSuite() { fs::remove_all(dir_); }

    static std::string path(const std::string& name) { return (dir_ / name).string(); }

    // Replaces every "@DIR@" with the test directory.
    static std::string in_dir(std::string yaml) {
        for (std::size_t at; (at = yaml.find("@DIR@")) != std::string::npos;)
            yaml.replace(at, 5, dir_.string());
        return yaml;
    }

    static std::string errors_of(const std::string& yaml) {
        std::string out;
        for (const auto& e : load_string(in_dir(yaml), "t.yaml", no_env()).errors)
            out += e.to_string() + "\n";
        return out;
    }

private:
    template <class F>
    static void write_pem(const std::string& file, F write) {
        FILE* f = std::fopen(file.c_str(), "w");
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(write(f), 1);
        std::fclose(f);
    }

    static int write_key(FILE* f, EVP_PKEY* key) {
        return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    }

    static void write_text(const std::string& name, const std::string& text) {
        std::ofstream(path(name)) << text;
    }

    static inline fs::path dir_;
};

constexpr const char* echo_route = "routes: [{path: /echo, backend: echo}]\n";

TEST_F(loader_files, tls_listener_with_matching_cert_and_key) {
    load_result r = load_string(in_dir("server:\n  listen:\n    - address: 127.0.0.1:0\n"
                                       "      tls: {cert: @DIR@/tls.crt, key: @DIR@/tls.key}\n") +
                                    echo_route,
                                "t.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    const listen_config& l = r.config->server.listen[0];
    ASSERT_TRUE(l.tls);
    EXPECT_TRUE(l.tls->context);
    EXPECT_EQ(l.tls->min_version, "1.2");
    EXPECT_EQ(l.tls->cert_file, path("tls.crt"));
}

TEST_F(loader_files, missing_certificate_is_reported_on_the_cert_key) {
    std::string errors = errors_of(std::string("server:\n  listen:\n    - address: 127.0.0.1:0\n"
                                               "      tls:\n        cert: @DIR@/missing.crt\n"
                                               "        key: @DIR@/tls.key\n") + echo_route);
    EXPECT_TRUE(errors.starts_with("t.yaml:5:15: server.listen[0].tls.cert: cannot read "))
        << errors;
    EXPECT_NE(errors.find("No such file or directory"), std::string::npos) << errors;
}

TEST_F(loader_files, certificate_that_is_not_pem_is_reported_on_the_cert_key) {
    std::string errors = errors_of(std::string("server:\n  listen:\n    - address: 127.0.0.1:0\n"
                                               "      tls:\n        cert: @DIR@/hmac.secret\n"
                                               "        key: @DIR@/tls.key\n") + echo_route);
    EXPECT_TRUE(errors.starts_with("t.yaml:5:15: server.listen[0].tls.cert: ")) << errors;
}

TEST_F(loader_files, key_that_does_not_match_is_reported_on_the_key_key) {
    std::string errors = errors_of(std::string("server:\n  listen:\n    - address: 127.0.0.1:0\n"
                                               "      tls:\n        cert: @DIR@/tls.crt\n"
                                               "        key: @DIR@/other.key\n") + echo_route);
    EXPECT_TRUE(errors.starts_with("t.yaml:6:14: server.listen[0].tls.key: ")) << errors;
    EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 1) << errors;
}

TEST_F(loader_files, jwt_with_a_pem_public_key) {
    load_result r = load_string(in_dir("routes:\n  - path: /feed\n    backend: echo\n"
                                       "    auth: {type: jwt, algorithms: [ES256], key_file: "
                                       "@DIR@/jwt.pem, token_from: [\"header:Authorization\", "
                                       "\"cookie:session\"], audience: feed, leeway: 1s}\n"),
                                "t.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    const auth_config& a = r.config->routes[0].auth;
    EXPECT_EQ(a.type, auth_type::jwt);
    EXPECT_EQ(a.jwt.algorithms, std::vector<std::string>{"ES256"});
    EXPECT_EQ(a.jwt.key_file, path("jwt.pem"));
    ASSERT_EQ(a.jwt.token_from.size(), 2u);
    EXPECT_EQ(a.jwt.token_from[0].where, token_source::kind::header);
    EXPECT_EQ(a.jwt.token_from[0].name, "authorization");
    EXPECT_EQ(a.jwt.token_from[1].where, token_source::kind::cookie);
    EXPECT_EQ(a.jwt.audience, "feed");
    EXPECT_EQ(a.jwt.leeway, std::chrono::seconds(1));
}

TEST_F(loader_files, jwt_token_sources_default_to_authorization_header_then_token_query) {
    load_result r = load_string(in_dir("routes:\n  - path: /feed\n    backend: echo\n"
                                       "    auth: {type: jwt, algorithms: [HS256], key_file: "
                                       "@DIR@/hmac.secret}\n"),
                                "t.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    const auth_jwt_config& jwt = r.config->routes[0].auth.jwt;
    ASSERT_EQ(jwt.token_from.size(), 2u);
    EXPECT_EQ(jwt.token_from[0].where, token_source::kind::header);
    EXPECT_EQ(jwt.token_from[0].name, "authorization");
    EXPECT_EQ(jwt.token_from[1].where, token_source::kind::query);
    EXPECT_EQ(jwt.token_from[1].name, "token");
    EXPECT_EQ(jwt.leeway, std::chrono::seconds(5));
}

TEST_F(loader_files, jwt_with_a_jwks_file) {
    std::string jwks = std::string(WSGATED_TEST_DATA) + "/config/jwks.json";
    load_result r = load_string("routes:\n  - path: /feed\n    backend: echo\n"
                                "    auth: {type: jwt, algorithms: [ES256], jwks_file: " + jwks +
                                    "}\n",
                                "t.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    EXPECT_EQ(r.config->routes[0].auth.jwt.jwks_file, jwks);
    EXPECT_EQ(r.config->routes[0].auth.jwt.key_file, "");
}

TEST_F(loader_files, jwt_with_both_key_file_and_jwks_file) {
    EXPECT_EQ(errors_of("routes:\n  - path: /feed\n    backend: echo\n    auth:\n      type: jwt\n"
                        "      algorithms: [RS256]\n      key_file: @DIR@/jwt.pem\n"
                        "      jwks_file: " WSGATED_TEST_DATA "/config/jwks.json\n"),
              "t.yaml:8:18: routes[0].auth.jwks_file: give key_file or jwks_file, not both\n");
}

TEST_F(loader_files, jwt_key_file_with_pem_text_that_is_not_a_key) {
    EXPECT_EQ(errors_of("routes:\n  - path: /feed\n    backend: echo\n    auth:\n      type: jwt\n"
                        "      algorithms: [RS256]\n      key_file: @DIR@/garbage.pem\n"),
              in_dir("t.yaml:7:17: routes[0].auth.key_file: @DIR@/garbage.pem: holds PEM text that "
                     "is not a public key or a certificate\n"));
}

TEST_F(loader_files, jwt_key_file_that_is_a_directory) {
    EXPECT_EQ(errors_of("routes:\n  - path: /feed\n    backend: echo\n    auth:\n"
                        "      type: jwt\n      algorithms: [HS256]\n      key_file: @DIR@\n"),
              in_dir("t.yaml:7:17: routes[0].auth.key_file: cannot read @DIR@: Is a directory\n"));
}

// SPEC §2's example, with its files in the test directory.
constexpr const char* spec_example = R"(server:
  workers: auto
  listen:
    - address: 0.0.0.0:8080
    - address: "[::]:8443"
      tls: {cert: @DIR@/tls.crt, key: @DIR@/tls.key, min_version: "1.2"}
  trusted_proxies: [10.0.0.0/8]
  limits:
    max_connections: 100000
    max_connections_per_ip: 1000
    handshake_timeout: 5s
    max_message_size: 1MiB
    send_queue: 4MiB
    messages_per_second: 0
  heartbeat: {interval: 30s, timeout: 10s}
  drain_timeout: 30s
  log: {level: info, format: json}
admin:
  listen: 127.0.0.1:9090
  token: ${WSGATED_ADMIN_TOKEN}

backends:
  app:   {type: http, url: "http://127.0.0.1:8000/ws", timeout: 5s, max_connections: 64}
  local: {type: http, url: "unix:/run/app.sock:/ws"}
  chat:  {type: stream, path: /run/chat.sock}

routes:
  - path: /echo
    backend: echo
  - path: /chat/{room}
    backend: chat
    auth: {type: http, url: "http://127.0.0.1:8000/auth", forward_headers: [cookie, authorization]}
    rooms: ["room:{room}"]
    origins: ["https://app.example.com"]
    subprotocols: [chat.v1]
    compression: {enabled: true, threshold: 1KiB, server_max_window_bits: 15}
    events: [connect, message, disconnect]
  - path: /feed
    backend: app
    auth: {type: jwt, algorithms: [HS256, RS256, ES256], key_file: @DIR@/jwt.pem,
           token_from: ["query:token", "header:authorization", "cookie:session"], audience: feed}
cluster:
  redis: redis://127.0.0.1:6379/0
  node_id: ${HOSTNAME}
)";

TEST_F(loader_files, spec_example_loads) {
    env_lookup env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "WSGATED_ADMIN_TOKEN") return "s3cret";
        if (name == "HOSTNAME") return "node-7";
        return std::nullopt;
    };
    load_result r = load_string(in_dir(spec_example), "gateway.yaml", env);
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    const gateway_config& c = *r.config;
    ASSERT_EQ(c.server.listen.size(), 2u);
    EXPECT_TRUE(c.server.listen[1].tls);
    EXPECT_EQ(c.server.listen[1].host, "::");
    EXPECT_EQ(c.server.listen[1].port, 8443);
    EXPECT_EQ(c.admin.token, "s3cret");
    EXPECT_EQ(c.backends.size(), 4u);  // with echo
    ASSERT_EQ(c.routes.size(), 3u);
    EXPECT_EQ(c.routes[1].auth.type, auth_type::http);
    EXPECT_EQ(c.routes[1].auth.http.forward_headers,
              (std::vector<std::string>{"cookie", "authorization"}));
    EXPECT_EQ(c.routes[1].rooms, std::vector<std::string>{"room:{room}"});
    EXPECT_EQ(*c.routes[1].origins, std::vector<std::string>{"https://app.example.com"});
    EXPECT_TRUE(c.routes[1].compression.enabled);
    EXPECT_EQ(c.routes[2].auth.jwt.token_from.size(), 3u);
    EXPECT_EQ(c.cluster.redis_port, 6379);
    EXPECT_EQ(c.cluster.node_id, "node-7");
}

// The repository: WSGATED_TEST_DATA is its tests/data.
std::string source_dir() { return fs::path(WSGATED_TEST_DATA).parent_path().parent_path(); }

std::string read_text(const std::string& file) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST_F(loader_files, shipped_minimal_config_loads) {
    load_result r = load_file(source_dir() + "/config/gateway.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    EXPECT_EQ(r.config->server.listen[0].address, "127.0.0.1:8080");
    EXPECT_EQ(r.config->admin.listen.address, "127.0.0.1:9090");
    EXPECT_EQ(r.config->routes[0].backend, "echo");
}

TEST_F(loader_files, shipped_full_config_loads_with_its_files_in_place) {
    std::string text = read_text(source_dir() + "/config/gateway.full.yaml");
    ASSERT_FALSE(text.empty());
    const std::string etc = "${WSGATED_ETC:-/etc/wsgated}/";  // what config/make-example-keys fills
    for (std::size_t at; (at = text.find(etc)) != std::string::npos;) text.replace(at, etc.size(), "@DIR@/");
    load_result r = load_string(in_dir(text), "gateway.full.yaml", no_env());
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
    EXPECT_EQ(r.config->routes.size(), 3u);
}

TEST_F(loader_files, load_file_names_the_file_in_errors_and_the_snapshot) {
    std::string file = path("gateway.yaml");
    std::ofstream(file) << "routes:\n  - path: /echo\n    backend: nope\n";
    load_result bad = load_file(file, no_env());
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_EQ(bad.errors[0].to_string(),
              file + ":3:14: routes[0].backend: backend 'nope' is not defined in `backends` (nor "
                     "built in: echo)");
    std::ofstream(file) << echo_route;
    load_result good = load_file(file, no_env());
    ASSERT_TRUE(good.config);
    EXPECT_EQ(good.config->source_file, file);
}

TEST_F(loader_files, load_file_of_a_missing_file) {
    load_result r = load_file(path("nope.yaml"), no_env());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              path("nope.yaml") + ": cannot read: No such file or directory");
}

TEST_F(loader_files, load_file_of_a_directory) {
    load_result r = load_file(path(""), no_env());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].reason, "cannot read: Is a directory");
}

}  // namespace
}  // namespace wsgated::config
