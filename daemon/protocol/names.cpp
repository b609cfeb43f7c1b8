// names: see names.h.
#include "protocol/names.h"

#include <algorithm>

#include "protocol/utf8.h"

namespace wsgated::protocol {

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 256) return false;
    return std::none_of(name.begin(), name.end(), [](char ch) {
        auto u = static_cast<unsigned char>(ch);
        return u < 0x20 || u == 0x7F;
    });
}

bool valid_close_reason(std::string_view reason) { return reason.size() <= 123 && valid_utf8(reason); }

}  // namespace wsgated::protocol
