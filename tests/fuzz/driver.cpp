// driver: runs a fuzz target (LLVMFuzzerTestOneInput) without libFuzzer, so CI exercises every
// target under g++ with ASan+UBSan in bounded time:
//   <target> [-runs=N] [-seed=S] [CORPUS_DIR|FILE]...
// Every corpus file is replayed, then N inputs are derived from them by random mutations
// (byte flips, inserts, deletes, splices, repeats). A crash or sanitizer report fails the run.
// With clang, build the same targets with -fsanitize=fuzzer for coverage-guided fuzzing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::string> load(const std::vector<std::string>& paths) {
    std::vector<std::string> corpus;
    auto add = [&](const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    for (const auto& p : paths) {
        if (std::filesystem::is_directory(p)) {
            for (const auto& e : std::filesystem::directory_iterator(p))
                if (e.is_regular_file()) add(e.path());
        } else {
            add(p);
        }
    }
    if (corpus.empty()) corpus.emplace_back();
    return corpus;
}

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
    auto pick = [&](std::size_t n) { return n ? std::uniform_int_distribution<std::size_t>(0, n - 1)(rng) : 0; };
    int steps = 1 + static_cast<int>(pick(8));
    for (int i = 0; i < steps; ++i) {
        switch (pick(6)) {
        case 0: if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << pick(8)); break;
        case 1: s.insert(pick(s.size() + 1), 1, static_cast<char>(pick(256))); break;
        case 2: if (!s.empty()) s.erase(pick(s.size()), 1 + pick(8)); break;
        case 3: { const auto& o = corpus[pick(corpus.size())];
                  if (!o.empty()) s.insert(pick(s.size() + 1), o.substr(pick(o.size()), 1 + pick(32))); } break;
        case 4: if (!s.empty()) { auto at = pick(s.size()); s.insert(at, s.substr(at, 1 + pick(16))); } break;
        case 5: if (!s.empty()) s[pick(s.size())] = "\0\r\n:{}[]-%/\xff"[pick(12)]; break;
        }
    }
    return s.size() > 65536 ? s.substr(0, 65536) : s;
}

}  // namespace

int main(int argc, char** argv) {
    long runs = 10000;
    unsigned long seed = 1;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "-runs=", 6) == 0) runs = std::atol(argv[i] + 6);
        else if (std::strncmp(argv[i], "-seed=", 6) == 0) seed = std::strtoul(argv[i] + 6, nullptr, 10);
        else paths.emplace_back(argv[i]);
    }
    auto corpus = load(paths);
    for (const auto& c : corpus)
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(c.data()), c.size());
    std::mt19937_64 rng(seed);
    for (long i = 0; i < runs; ++i) {
        auto input = mutate(corpus[rng() % corpus.size()], corpus, rng);
        // WSGATED_FUZZ_DUMP=N writes run N's input to fuzz-input-N (to keep a hang or crash).
        if (const char* d = std::getenv("WSGATED_FUZZ_DUMP"); d && std::atol(d) == i) {
            std::ofstream("fuzz-input-" + std::to_string(i), std::ios::binary) << input;
        }
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    }
    std::printf("fuzz: %zu corpus inputs and %ld mutations, no crash (seed %lu)\n", corpus.size(), runs, seed);
    return 0;
}
