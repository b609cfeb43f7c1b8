// resp: see resp.h.
#include "cluster/resp.h"

namespace wsgated::cluster {

void append_command(std::string& out, std::span<const std::string_view> args) {
    out += '*';
    out += std::to_string(args.size());
    out += "\r\n";
    for (std::string_view a : args) {
        out += '$';
        out += std::to_string(a.size());
        out += "\r\n";
        out.append(a);
        out += "\r\n";
    }
}

// hiredis's default maxbuf (16 KiB) frees a larger idle buffer: a node has two links, so the
// idle cost is bounded; 0 would mean "never free".
resp_reader::resp_reader() : reader_(redisReaderCreate()) {
    if (!reader_) failed_ = true;
}

bool resp_reader::feed(const char* data, std::size_t n) {
    if (failed_ || redisReaderFeed(reader_.get(), data, n) != REDIS_OK) failed_ = true;
    return !failed_;
}

reply_ptr resp_reader::next() {
    if (failed_) return nullptr;
    void* out = nullptr;
    if (redisReaderGetReply(reader_.get(), &out) != REDIS_OK) {
        failed_ = true;
        return nullptr;
    }
    return reply_ptr(static_cast<redisReply*>(out));
}

std::string resp_reader::error() const {
    return reader_ ? std::string(reader_->errstr) : std::string("out of memory");
}

}  // namespace wsgated::cluster
