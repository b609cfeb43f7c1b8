// ticket_keys: the keys that encrypt TLS session tickets (resumption, TLS 1.2 and 1.3), one set
// for the whole process, installed into every TLS context net/tls_context builds.
//
// Why not OpenSSL's own: those are random per SSL_CTX, and a reload (SIGHUP, a certificate
// rotation) builds new contexts, so every ticket issued before it stopped resuming and every
// client that came back paid a full handshake. Here the keys outlive the contexts. They rotate
// every 12 hours (a stolen key opens at most a day of tickets); a ticket under the previous key
// still resumes, and its client gets a new one. Also cheaper: the cipher is fetched once, not
// per ticket (OpenSSL 3.0 looks it up by name each time).
//
// Not shared between processes or nodes: a client that resumes on another node gets a full
// handshake there.
#pragma once

typedef struct ssl_ctx_st SSL_CTX;

namespace wsgated::net {

void use_process_ticket_keys(SSL_CTX* ctx);

// Tests: rotate now, as the 12 hours would.
void rotate_ticket_keys_for_test();

}  // namespace wsgated::net
