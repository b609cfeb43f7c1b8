// echo_backend: see echo_backend.h.
#include "backend/echo_backend.h"

namespace wsgated::backend {
namespace {

class echo_channel final : public channel {
public:
    // The session owns this channel and calls it only while alive: a plain pointer is enough
    // (and costs no atomic per message).
    explicit echo_channel(connection* c) : conn_(c) {}

    bool on_message(std::string_view payload, bool binary) override {
        // The read buffer is reused for the next message, so the reply is copied out now.
        conn_->send_copy(payload, binary);
        return true;
    }
    void on_close(std::uint16_t, std::string_view) override {}

private:
    connection* conn_;
};

}  // namespace

std::shared_ptr<channel> echo_backend::open(const std::shared_ptr<connection>& c,
                                            const channel_place&) {
    return std::make_shared<echo_channel>(c.get());
}

}  // namespace wsgated::backend
