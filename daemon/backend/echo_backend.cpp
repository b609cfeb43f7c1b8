// echo_backend: see echo_backend.h.
#include "backend/echo_backend.h"

namespace wsgated::backend {

bool echo_backend::on_message(const std::shared_ptr<connection>& c, std::string_view payload,
                              bool binary) {
    // The read buffer is reused for the next message, so the reply needs its own copy.
    c->send(message{std::make_shared<const std::string>(payload), binary, nullptr});
    return true;
}

}  // namespace wsgated::backend
