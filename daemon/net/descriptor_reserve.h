// descriptor_reserve: one file descriptor held back so that a listener at the process's
// descriptor limit (EMFILE) can still accept a waiting client to tell it "503, retry", instead
// of leaving it in the kernel's backlog until it gives up.
//
// Why: at the limit accept() fails and the client waits unanswered; retrying the accept spins.
// Closing the reserve frees exactly one slot: the listener accepts one client with it, answers
// and closes it, and takes the reserve back (the trick libev's and nginx's users know). Another
// thread may take the freed slot first; then the accept fails again and the listener backs off.
//
// Control thread only (the listeners' thread).
#pragma once

namespace wsgated::net {

class descriptor_reserve {
public:
    descriptor_reserve();  // opens /dev/null
    ~descriptor_reserve();
    descriptor_reserve(const descriptor_reserve&) = delete;
    descriptor_reserve& operator=(const descriptor_reserve&) = delete;

    void release();  // closes it: one descriptor free for the caller
    void restore();  // takes it back, if a descriptor is free
    bool held() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

}  // namespace wsgated::net
