// utf8_stream: UTF-8 validation (the rules of protocol/utf8.h) of a text that arrives in pieces
// (the frames of one WebSocket message, or the output of its inflater): each piece is judged as
// it comes, so a client that sends invalid text is refused at the first bad byte (RFC 6455 §8.1,
// Autobahn's "fail fast"), and nothing is kept but the state of one unfinished sequence.
// Three bytes of state; one per connection's message reader, on its worker.
#pragma once

#include <cstdint>
#include <string_view>

namespace wsgated::protocol {

class utf8_stream {
public:
    // False as soon as the text so far can no longer be UTF-8, whatever follows.
    bool feed(std::string_view piece);
    // The text so far ends between code points: the message may end here.
    bool complete() const { return need_ == 0; }
    void reset() { *this = utf8_stream{}; }

private:
    std::uint8_t need_ = 0;  // continuation bytes still owed by the last sequence
    std::uint8_t lo_ = 0x80;  // the range of the next continuation byte (narrower only right
    std::uint8_t hi_ = 0xBF;  // after E0, ED, F0 and F4: overlong forms, surrogates, > U+10FFFF)
};

}  // namespace wsgated::protocol
