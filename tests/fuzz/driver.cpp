// driver: runs a fuzz target (LLVMFuzzerTestOneInput) without libFuzzer, so CI exercises every
// target under g++ with ASan+UBSan in bounded time:
//   <target> [-runs=N] [-seed=S] [CORPUS_DIR|FILE]...
// Every corpus file is replayed, then N inputs are derived from them by random mutations
// (byte flips, inserts, deletes, splices, repeats). A crash or sanitizer report fails the run,
// and the input that caused it is written to ./fuzz-crash (a failed property aborts: the same).
// With clang, build the same targets with -fsanitize=fuzzer for coverage-guided fuzzing.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// ASan's and UBSan's hook for "about to exit after a report"; absent without a sanitizer.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

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

// The input being run, for the crash handlers: only async-signal-safe calls below.
const std::string* current = nullptr;

void keep_current() {
    static bool kept = false;
    if (kept || !current) return;
    kept = true;
    int fd = ::open("fuzz-crash", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    if (::write(fd, current->data(), current->size()) < 0) {}
    ::close(fd);
    const char note[] = "fuzz: the failing input is in ./fuzz-crash\n";
    if (::write(2, note, sizeof note - 1) < 0) {}
}

void on_signal(int sig) {
    keep_current();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void run(const std::string& input) {
    current = &input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    current = nullptr;
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
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(keep_current);
    for (int sig : {SIGABRT, SIGSEGV, SIGILL, SIGFPE, SIGBUS}) std::signal(sig, on_signal);
    auto corpus = load(paths);
    for (const auto& c : corpus) run(c);
    std::mt19937_64 rng(seed);
    for (long i = 0; i < runs; ++i) {
        auto input = mutate(corpus[rng() % corpus.size()], corpus, rng);
        // WSGATED_FUZZ_DUMP=N writes run N's input to fuzz-input-N (to keep a hang or crash).
        if (const char* d = std::getenv("WSGATED_FUZZ_DUMP"); d && std::atol(d) == i) {
            std::ofstream("fuzz-input-" + std::to_string(i), std::ios::binary) << input;
        }
        run(input);
    }
    std::printf("fuzz: %zu corpus inputs and %ld mutations, no crash (seed %lu)\n", corpus.size(), runs, seed);
    return 0;
}
