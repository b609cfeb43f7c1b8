// read_file: see read_file.h. stdio rather than iostreams: libstdc++'s filebuf throws when a
// read fails (a directory, say), and errno from fread is the reason to show.
#include "config/read_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace wsgated::config {

bool read_file(const std::string& path, std::string& out, std::string& error) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) {
        error = std::strerror(errno);
        return false;
    }
    out.clear();
    char buf[16384];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) out.append(buf, n);
    if (std::ferror(f.get())) {
        error = std::strerror(errno);
        return false;
    }
    return true;
}

}  // namespace wsgated::config
