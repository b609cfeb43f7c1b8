// resp: see resp.h.
#include "cluster/resp.h"

namespace wsgated::cluster {
namespace {

// hiredis 0.14 (Debian 12) allocates an array's element pointers when it reads the array's
// header, before any element arrives, and has no bound of its own (1.x has maxelements):
// "*1999999999" would ask for 16 GB (the cluster_shards fuzz target found it). Our replies are
// counts, CLUSTER SHARDS, member lists: over a million elements is a wrong peer, refused as
// hiredis refuses a failed allocation (the link drops the connection).
constexpr int max_array_elements = 1 << 20;

const redisReplyObjectFunctions* hiredis_functions = nullptr;  // hiredis's own, wrapped below

void* bounded_array(const redisReadTask* task, int elements) {
    if (elements > max_array_elements) return nullptr;
    return hiredis_functions->createArray(task, elements);
}

redisReplyObjectFunctions* bounded_functions(const redisReplyObjectFunctions* original) {
    static redisReplyObjectFunctions fns = [original] {
        hiredis_functions = original;
        redisReplyObjectFunctions f = *original;
        f.createArray = bounded_array;
        return f;
    }();
    return &fns;
}

}  // namespace

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
    else reader_->fn = bounded_functions(reader_->fn);
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
