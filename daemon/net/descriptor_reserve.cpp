// descriptor_reserve: see descriptor_reserve.h.
#include "net/descriptor_reserve.h"

#include <fcntl.h>
#include <unistd.h>

namespace wsgated::net {

descriptor_reserve::descriptor_reserve() { restore(); }

descriptor_reserve::~descriptor_reserve() { release(); }

void descriptor_reserve::release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void descriptor_reserve::restore() {
    if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace wsgated::net
