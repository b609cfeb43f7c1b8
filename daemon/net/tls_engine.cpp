// tls_engine: see tls_engine.h.
#include "net/tls_engine.h"
#include "net/tls13_records.h"
#include "net/tls_key_log.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string_view>

#include <boost/asio/error.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace wsgated::net {

struct tls_engine::state {
    SSL* ssl = nullptr;                       // until a TLS 1.3 handshake ends: then `records`
    std::unique_ptr<tls_key_log> secrets;      // during a TLS 1.3 handshake
    std::unique_ptr<tls13_records> records;
    std::vector<char> spill;                  // records: plaintext opened and not handed out yet
    std::size_t spill_at = 0;
    bool resumed = false;
    bool peer_closed = false;
    std::span<const char> source;  // what this call reads from: the caller's span, or `kept`
    std::size_t used = 0;          // of `source`, taken by OpenSSL
    bool from_kept = false;
    bool failed = false;           // a fatal error: no close_notify after it
    boost::system::error_code ended; // read_stream: the end behind the plaintext it handed out
    std::vector<char> kept;        // ciphertext left over by an earlier call
    std::vector<char> out;         // records to send
    std::string why;

    ~state() {
        if (ssl) SSL_free(ssl);
    }

    void switch_to_records();
    result read_records(std::span<char> out);
    std::size_t take_spill(std::span<char> out) {
        if (spill.empty()) return 0;
        std::size_t n = std::min(spill.size() - spill_at, out.size());
        std::memcpy(out.data(), spill.data() + spill_at, n);
        spill_at += n;
        if (spill_at == spill.size()) {
            std::vector<char>().swap(spill);
            spill_at = 0;
        }
        return n;
    }

    // Around each call: the input it reads, and what of it is kept for the next.
    void begin(std::span<const char> in) {
        ERR_clear_error();  // the queue is per thread: another connection's errors may be in it
        why.clear();
        used = 0;
        from_kept = !kept.empty();
        if (from_kept) {
            kept.insert(kept.end(), in.begin(), in.end());
            source = kept;
        } else {
            source = in;
        }
    }
    void end() {
        if (from_kept) {
            kept.erase(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(used));
            if (kept.empty()) std::vector<char>().swap(kept);  // an idle connection keeps nothing
        } else if (used < source.size()) {
            kept.assign(source.begin() + static_cast<std::ptrdiff_t>(used), source.end());
        }
        source = {};
    }

    // What SSL_get_error says about a call that returned `r` <= 0.
    status judge(int r) {
        switch (SSL_get_error(ssl, r)) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE: return status::want_read;  // writes never block (our BIO)
        case SSL_ERROR_ZERO_RETURN: return status::closed;
        default: break;
        }
        failed = true;
        unsigned long e = ERR_peek_last_error();
        const char* text = e ? ERR_reason_error_string(e) : nullptr;
        why = text ? text : "TLS error";
        ERR_clear_error();
        return status::failed;
    }
};

namespace {

// The BIO under the SSL (State is tls_engine::state, private): reads from the call's input,
// writes into output().
template <class State>
int read_from(BIO* b, char* buf, int len) {
    auto* st = static_cast<State*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    std::size_t avail = st->source.size() - st->used;
    if (avail == 0 || len <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    std::size_t n = std::min(avail, static_cast<std::size_t>(len));
    std::memcpy(buf, st->source.data() + st->used, n);
    st->used += n;
    return static_cast<int>(n);
}

template <class State>
int write_to(BIO* b, const char* buf, int len) {
    auto* st = static_cast<State*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    if (len <= 0) return 0;
    st->out.insert(st->out.end(), buf, buf + len);
    if (st->secrets) st->secrets->on_written(buf, static_cast<std::size_t>(len));
    return len;
}

long control(BIO*, int cmd, long, void*) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing to flush: the caller sends output()
}

int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

template <class State>
int bio_type() {
    static const int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    return type;
}

template <class State>
BIO_METHOD* bio_method() {
    static BIO_METHOD* m = [] {
        BIO_METHOD* made = BIO_meth_new(bio_type<State>(), "wsgated tls_engine");
        BIO_meth_set_read(made, read_from<State>);
        BIO_meth_set_write(made, write_to<State>);
        BIO_meth_set_ctrl(made, control);
        BIO_meth_set_create(made, create);
        return made;
    }();
    return m;
}

// OpenSSL's key log, on the listeners' contexts: the secrets of a connection of ours (its BIO
// says so) go to its engine, and nowhere else (no file, no log).
template <class State>
void on_key_log(const SSL* ssl, const char* line) {
    BIO* b = SSL_get_rbio(ssl);
    if (!b || BIO_method_type(b) != bio_type<State>()) return;
    auto* st = static_cast<State*>(BIO_get_data(b));
    if (!st->secrets) st->secrets = std::make_unique<tls_key_log>();
    st->secrets->on_line(line);
}

}  // namespace

void tls_engine::use_own_records(SSL_CTX* ctx) { SSL_CTX_set_keylog_callback(ctx, on_key_log<tls_engine::state>); }

// Once a TLS 1.3 server handshake is done: hand the connection to tls13_records and free the
// SSL object. Only when every count is known to be exact: OpenSSL holds no unread record (it
// reads one record at a time without read-ahead, so what follows the client's Finished is still
// ours, under the client's first key at sequence 0), its writes ended on a record boundary, no
// maximum fragment length or early data was agreed. Otherwise OpenSSL goes on as before.
void tls_engine::state::switch_to_records() {
    auto keys = std::move(secrets);
    if (!keys || !keys->complete()) return;
    if (!SSL_is_server(ssl) || SSL_version(ssl) != TLS1_3_VERSION || SSL_has_pending(ssl)) return;
    SSL_SESSION* session = SSL_get_session(ssl);
    if (!session || SSL_SESSION_get_max_fragment_length(session) != TLSEXT_max_fragment_length_DISABLED) return;
    if (SSL_get_early_data_status(ssl) == SSL_EARLY_DATA_ACCEPTED) return;
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    if (!cipher) return;
    records = tls13_records::make(SSL_CIPHER_get_protocol_id(cipher), keys->client(), keys->server(), keys->records_sent());
    if (!records) return;
    resumed = SSL_session_reused(ssl) == 1;
    SSL_free(ssl);
    ssl = nullptr;
}

// Whole records from `source`, opened into `out` while they fit; one that does not fit is
// opened into `spill` and handed out from there.
tls_engine::result tls_engine::state::read_records(std::span<char> to) {
    result res;
    if (failed) return {status::failed, 0};
    res.produced = take_spill(to);
    while (res.produced < to.size()) {
        if (peer_closed) return {status::closed, res.produced};
        auto rest = source.subspan(used);
        std::size_t size = tls13_records::record_size(rest);
        if (size == 0) {
            res.st = status::want_read;
            break;
        }
        std::size_t room = size > tls13_records::overhead ? size - tls13_records::overhead + 1 : 0;
        bool fits = to.size() - res.produced >= room;
        if (!fits) spill.resize(room);
        auto r = records->open(rest.first(size), fits ? to.data() + res.produced : spill.data(), out);
        used += size;
        if (!fits && r.what != tls13_records::opened::data) std::vector<char>().swap(spill);  // nothing to hand out
        if (r.what == tls13_records::opened::data) {
            if (!fits) spill.resize(r.size);
            res.produced += fits ? r.size : take_spill(to.subspan(res.produced));
        } else if (r.what == tls13_records::opened::closed) {
            peer_closed = true;
        } else if (r.what == tls13_records::opened::failed) {
            failed = true;
            why = records->reason();
            return {status::failed, res.produced};
        }
    }
    if (peer_closed && res.produced < to.size()) res.st = status::closed;
    return res;
}

tls_engine::tls_engine(SSL_CTX* ctx, role r, const char* server_name) : s_(std::make_unique<state>()) {
    s_->ssl = SSL_new(ctx);
    BIO* bio = s_->ssl ? BIO_new(bio_method<tls_engine::state>()) : nullptr;
    if (!bio) {
        s_.reset();
        return;
    }
    BIO_set_data(bio, s_.get());
    SSL_set_bio(s_->ssl, bio, bio);  // one reference, for both directions
    if (r == role::server) {
        SSL_set_accept_state(s_->ssl);
    } else {
        SSL_set_connect_state(s_->ssl);
        if (server_name) SSL_set_tlsext_host_name(s_->ssl, server_name);
    }
}

tls_engine::tls_engine() = default;
tls_engine::tls_engine(tls_engine&&) noexcept = default;
tls_engine& tls_engine::operator=(tls_engine&&) noexcept = default;
tls_engine::~tls_engine() = default;

tls_engine::status tls_engine::handshake(std::span<const char> in) {
    s_->begin(in);
    if (s_->records) {  // done already: `in` is kept for the first read
        s_->end();
        return status::ok;
    }
    int r = SSL_do_handshake(s_->ssl);
    status st = r == 1 ? status::ok : s_->judge(r);
    s_->end();
    if (st == status::ok) s_->switch_to_records();
    return st;
}

bool tls_engine::handshake_done() const { return s_->records || SSL_is_init_finished(s_->ssl) == 1; }

tls_engine::result tls_engine::read(std::span<const char> in, std::span<char> out) {
    s_->begin(in);
    if (s_->records) {
        auto res = s_->read_records(out);
        s_->end();
        return res;
    }
    result res;
    while (res.produced < out.size()) {
        std::size_t room = std::min<std::size_t>(out.size() - res.produced, INT_MAX);
        std::size_t n = 0;
        int r = SSL_read_ex(s_->ssl, out.data() + res.produced, room, &n);
        if (r == 1) {
            res.produced += n;
            continue;
        }
        res.st = s_->judge(r);
        break;
    }
    s_->end();
    return res;
}

// Not SSL_has_pending: that counts a record's first part waiting for the rest, which no read
// can finish before more arrives (the caller would spin).
// With our records: a whole record kept, or plaintext opened and not handed out.
bool tls_engine::has_buffered() const {
    if (s_->records) return s_->spill_at < s_->spill.size() || tls13_records::record_size(s_->kept) != 0;
    return !s_->kept.empty() || SSL_pending(s_->ssl) > 0;
}

std::size_t tls_engine::read_stream(std::span<const char> in, std::span<char> out, boost::system::error_code& ec) {
    ec = {};
    if (s_->ended && !has_buffered() && in.empty()) {
        ec = std::exchange(s_->ended, {});
        return 0;
    }
    auto r = read(in, out);
    boost::system::error_code end;
    switch (r.st) {
    case status::ok: break;
    case status::want_read:
        if (r.produced == 0) ec = boost::asio::error::would_block;  // a record's first part, or none
        break;
    case status::closed: end = boost::asio::error::eof; break;
    case status::failed: end = failure(); break;
    }
    if (end && r.produced == 0) ec = end;
    else if (end) s_->ended = end;  // the plaintext first
    return r.produced;
}

bool tls_engine::ready() const { return has_buffered() || static_cast<bool>(s_->ended); }

tls_engine::status tls_engine::write(std::span<const char> plain) {
    if (plain.empty()) return status::ok;
    if (s_->records) {
        if (s_->failed) return status::failed;
        if (s_->records->seal(plain, s_->out)) return status::ok;
        s_->failed = true;
        s_->why = s_->records->reason();
        return status::failed;
    }
    s_->begin({});
    std::size_t n = 0;
    int r = SSL_write_ex(s_->ssl, plain.data(), plain.size(), &n);
    status st = r == 1 ? status::ok : s_->judge(r);
    s_->end();
    return st;
}

void tls_engine::close() {
    if (s_->failed || !handshake_done()) return;  // no close_notify after a fatal alert
    if (s_->records) return s_->records->close_notify(s_->out);
    s_->begin({});
    SSL_shutdown(s_->ssl);
    ERR_clear_error();
    s_->end();
}

std::vector<char>& tls_engine::output() { return s_->out; }
const std::string& tls_engine::reason() const { return s_->why; }
const char* tls_engine::version() const { return s_->records ? "TLSv1.3" : SSL_get_version(s_->ssl); }
bool tls_engine::tls13() const { return s_->records || SSL_version(s_->ssl) == TLS1_3_VERSION; }
SSL* tls_engine::native() const { return s_->ssl; }
bool tls_engine::own_records() const { return s_->records != nullptr; }
bool tls_engine::resumed() const { return s_->records ? s_->resumed : SSL_session_reused(s_->ssl) == 1; }
void tls_engine::update_keys() {
    if (s_->records) s_->records->update_keys();
    else SSL_key_update(s_->ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
}
void tls_engine::release() {
    std::vector<char>().swap(s_->out);
    if (s_->records) s_->records->release();
}

}  // namespace wsgated::net
