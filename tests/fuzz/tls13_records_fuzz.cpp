// Fuzz target: what a TLS 1.3 client sends after the handshake, read by net/tls13_records the way
// net/tls_engine reads it (whole records cut from a byte stream that arrives in pieces), mixed
// with the server's own writes.
//
// Input: byte 0 picks the suite and the size of the pieces the stream arrives in; then steps, each
// a tag byte and its operands:
//   tag % 4 == 0  raw bytes into the stream (a length byte, then the bytes): anything at all;
//   tag % 4 == 1  a record sealed by the reference client (support/tls13_client.h) with the inner
//                 type the next byte names (22, 23 or itself), a body of the next two bytes' length
//                 (mod 17,000) of input bytes, and tag / 4 bytes of padding;
//   tag % 4 == 2  a well-formed KeyUpdate from the client (tag & 4: update_requested), after
//                 which the reference client seals under its next key;
//   tag % 4 == 3  the server seals tag bytes of data.
//
// Checked: the server hands out exactly the data records the reference sealed, in order, and
// nothing else (raw bytes never pass as data); a stream made only of well-formed steps never
// fails; once it failed it hands out nothing more; everything the server writes (data, KeyUpdate
// answers, its alert) opens at the reference client in order, and the alert is fatal.
// fuzz-runs: 1000
#include <cstdint>
#include <string>
#include <vector>

#include "net/tls13_records.h"
#include "support/fail.h"
#include "support/tls13_client.h"

namespace {

using namespace wsgated;
using net::tls13_records;

struct run {
    explicit run(const test::suite_info& s)
        : to_server(s, std::string(s.hash_size, 'c')), from_server(s, std::string(s.hash_size, 's')) {
        std::string c(s.hash_size, 'c'), v(s.hash_size, 's');
        auto u = [](const std::string& x) { return std::span(reinterpret_cast<const unsigned char*>(x.data()), x.size()); };
        server = tls13_records::make(s.id, u(c), u(v), 0);
    }

    // Opens the whole records of what arrived so far, as the engine does.
    void read_stream(std::string_view arrived) {
        for (;;) {
            std::size_t size = tls13_records::record_size(arrived.substr(at));
            if (size == 0 || failed || closed) return;
            std::vector<char> plain(size + 1);
            auto r = server->open(arrived.substr(at, size), plain.data(), written);
            at += size;
            if (r.what == tls13_records::opened::data) {
                if (expected.empty() || expected.front() != std::string(plain.data(), r.size)) FUZZ_FAIL();
                expected.erase(expected.begin());
            }
            if (r.what == tls13_records::opened::closed) closed = true;
            if (r.what == tls13_records::opened::failed) failed = true;
        }
    }

    // Everything the server wrote opens at the reference client, KeyUpdates followed.
    void check_written() {
        std::string out(written.begin(), written.end());
        written.clear();
        while (!out.empty()) {
            auto [type, body] = from_server.open(out);
            if (type < 0) FUZZ_FAIL();
            if (type == 22) {
                if (body != std::string("\x18\x00\x00\x01\x00", 5)) FUZZ_FAIL();
                from_server.next_generation();
            } else if (type == 21) {
                if (body.size() != 2 || body[0] != 2 || !failed) FUZZ_FAIL();
            } else if (type != 23) {
                FUZZ_FAIL();
            }
        }
    }

    std::unique_ptr<tls13_records> server;
    test::client_side to_server, from_server;
    std::string stream;
    std::size_t at = 0;
    std::vector<std::string> expected;  // data sealed by the reference, not yet handed out
    std::vector<char> written;
    int idle = 0;  // well-formed KeyUpdates since the last data record
    bool failed = false, closed = false, malformed = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const test::suite_info* suites[] = {&test::aes128, &test::aes256, &test::chacha};
    run r(*suites[data[0] % 3]);
    if (!r.server) FUZZ_FAIL();
    std::size_t piece = 1 + data[0] / 3;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::size_t fed = 0;  // of r.stream, handed to the server so far (in pieces)
    auto take = [&](std::size_t n) {
        auto s = in.substr(0, std::min(n, in.size()));
        in.remove_prefix(s.size());
        return std::string(s);
    };
    while (!in.empty()) {
        std::uint8_t tag = static_cast<std::uint8_t>(take(1)[0]);
        switch (tag % 4) {
        case 0: {
            auto n = take(1);
            r.stream += take(n.empty() ? 0 : static_cast<std::uint8_t>(n[0]));
            r.malformed = true;
            break;
        }
        case 1: {
            auto t = take(1), len = take(2);
            std::uint8_t type = t.empty() ? 23 : static_cast<std::uint8_t>(t[0]);
            if (type % 8 == 0) type = 23;
            else if (type % 8 == 1) type = 22;
            std::size_t n = len.size() < 2 ? 0 : (static_cast<std::uint8_t>(len[0]) << 8 | static_cast<std::uint8_t>(len[1])) % 17000;
            std::string body = take(n);
            r.stream += r.to_server.seal(type, body, tag / 4);
            if (type == 23 && !body.empty() && body.size() <= 16384) {
                r.expected.push_back(body);
                r.idle = 0;
            } else {
                r.malformed = true;  // empty data included: 33 in a row fail
            }
            break;
        }
        case 2:
            r.stream += r.to_server.seal(22, std::string("\x18\x00\x00\x01", 4) + static_cast<char>(tag & 4 ? 1 : 0));
            r.to_server.next_generation();
            if (++r.idle > 32) r.malformed = true;  // records without data in a row: bounded
            break;
        case 3: {
            std::string plain(tag, 'w');
            if (r.server->seal(plain, r.written) == r.failed) FUZZ_FAIL();  // fails only once failed
            break;
        }
        }
        // What arrived so far, in pieces: the server reads what whole records there are.
        while (fed < r.stream.size()) {
            fed = std::min(r.stream.size(), fed + piece);
            r.read_stream(std::string_view(r.stream).substr(0, fed));
        }
        r.check_written();
        if (r.failed && !r.malformed) FUZZ_FAIL();
        if (r.failed && !r.server->reason().size()) FUZZ_FAIL();
    }
    if (!r.failed && !r.closed && !r.expected.empty() && r.at == r.stream.size()) FUZZ_FAIL();
    return 0;
}
