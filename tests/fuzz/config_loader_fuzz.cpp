// Fuzz target: config::load_string on arbitrary text. Whatever the YAML, the loader must
// return errors or a config — never crash, throw or leak.
// fuzz-runs: 20000
#include <cstdint>
#include <string>

#include "loader/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "SET") return std::string("value");
        return std::nullopt;
    };
    auto r = wsgated::config::load_string(text, "fuzz.yaml", env);
    if (r.errors.empty() == (r.config == nullptr)) __builtin_trap();  // exactly one of the two
    for (const auto& e : r.errors) (void)e.to_string();
    return 0;
}
