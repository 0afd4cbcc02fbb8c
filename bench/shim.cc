// bench/shim.cc - the extern "C" interface of bench/shim.h over Google
// Benchmark. The only C++ in ropecheck: everything that knows what a case
// does stays in C; this file only registers, runs and collects.
#include "bench/shim.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Entry {
    rcb_case c;
    std::string name;
    int threads;
    int repetitions;
    // Written by thread 0 before the timed loop starts and read by the
    // other threads inside it: Google Benchmark's start barrier orders them.
    bool setup_ok;
    char setup_err[256];
    rcb_result result;
};

std::vector<std::unique_ptr<Entry>> g_entries;

void copy_message(char *dst, size_t len, const char *src)
{
    std::snprintf(dst, len, "%s", src && *src ? src : "unknown error");
}

// A callback's own message, or "unknown error" when it left none. Not
// copy_message(buf, len, buf): snprintf from a buffer onto itself is
// undefined, and glibc empties the buffer first, which lost every
// mid-run error's message.
const char *message_or_unknown(const char *msg)
{
    return msg && *msg ? msg : "unknown error";
}

// One registered case. KeepRunning() rather than the range-for loop: after
// SkipWithError it ends the loop through the normal finishing barrier, which
// matters when several threads run one case.
//
// Each thread's first iteration makes one untimed warm-up call before its
// timed one. It must come after the start barrier (thread 0's setup
// prepares every thread's state), hence inside the loop with the timer
// paused. Without it a run whose single iteration already reaches the
// minimum time (a slow case, a sanitizer build) times a first call: cold
// pages and caches, and no rows kept from a previous call, which is
// neither the hot nor the repeated-positions case it claims to be; and
// every state sees at least two calls, so what a port does on a repeated
// call (or a repeated buffer) is always exercised.
void run_case(benchmark::State &st, Entry *e)
{
    const int n = st.threads();
    const int t = st.thread_index();
    if (t == 0) {
        e->setup_ok = true;
        e->setup_err[0] = '\0';
        if (e->c.setup && e->c.setup(e->c.ctx, n, e->setup_err, sizeof e->setup_err) != 0) {
            e->setup_ok = false;
            if (!e->setup_err[0])
                copy_message(e->setup_err, sizeof e->setup_err, nullptr);
        }
    }
    char err[256];
    bool warmed = false;
    while (st.KeepRunning()) {
        if (!e->setup_ok) {
            st.SkipWithError(e->setup_err);
            continue;
        }
        err[0] = '\0';
        if (!warmed) {
            warmed = true;
            st.PauseTiming();
            const int rc = e->c.iter(e->c.ctx, t, n, err, sizeof err);
            st.ResumeTiming();
            if (rc != 0) {
                st.SkipWithError(message_or_unknown(err));
                continue;
            }
        }
        if (e->c.iter(e->c.ctx, t, n, err, sizeof err) != 0) {
            st.SkipWithError(message_or_unknown(err));
        }
    }
    if (e->setup_ok && e->c.thread_end)
        e->c.thread_end(e->c.ctx, t);
    if (t == 0 && e->setup_ok && e->c.teardown)
        e->c.teardown(e->c.ctx);
    // Each thread reports its share; Google Benchmark sums counters over
    // threads and divides rates by the wall time.
    const double iters = static_cast<double>(st.iterations());
    const double share = iters / n;
    st.SetBytesProcessed(static_cast<int64_t>(share * e->c.bytes_per_iter + 0.5));
    st.SetItemsProcessed(static_cast<int64_t>(share * e->c.elements_per_iter + 0.5));
    if (e->c.tokens_per_iter > 0)
        st.counters["ns_per_token"] = benchmark::Counter(
            share * e->c.tokens_per_iter * 1e-9,
            benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    if (t == 0) {
        st.counters["bytes_per_iteration"] = e->c.bytes_per_iter;
        st.counters["elements_per_iteration"] = e->c.elements_per_iter;
        st.counters["tokens_per_iteration"] = e->c.tokens_per_iter;
    }
}

// Collects every run into g_entries (matched by the registered name) and
// optionally prints one progress line per case.
class Capture : public benchmark::BenchmarkReporter {
  public:
    explicit Capture(bool progress) : progress_(progress)
    {
        for (size_t i = 0; i < g_entries.size(); i++)
            index_[g_entries[i]->name] = i;
    }
    bool ReportContext(const Context &) override { return true; }
    void ReportRuns(const std::vector<Run> &runs) override
    {
        for (const Run &r : runs) {
            // With repetitions the median aggregate, which follows the
            // single runs, replaces them; without, the single run is it.
            bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            if (r.run_type != Run::RT_Iteration && !median)
                continue;
            auto it = index_.find(r.run_name.function_name);
            if (it == index_.end())
                continue;
            Entry &e = *g_entries[it->second];
            if (!median && e.repetitions > 1)
                continue;
            rcb_result &res = e.result;
            res.ran = 1;
            res.error = r.error_occurred ? 1 : 0;
            copy_message(res.error_message, sizeof res.error_message,
                         r.error_occurred ? r.error_message.c_str() : "none");
            res.iterations = static_cast<double>(r.iterations);
            res.seconds = r.real_accumulated_time;
            // Every thread ran r.iterations / threads iterations of its
            // share, so the whole case ran that many times in `seconds`.
            const double whole = res.iterations / static_cast<double>(r.threads);
            if (!res.error && whole > 0 && res.seconds > 0) {
                res.ns_per_iteration = res.seconds / whole * 1e9;
                res.bytes_per_second = e.c.bytes_per_iter * whole / res.seconds;
                res.elements_per_second = e.c.elements_per_iter * whole / res.seconds;
                res.ns_per_token = e.c.tokens_per_iter > 0
                                       ? res.ns_per_iteration / e.c.tokens_per_iter
                                       : 0.0;
            }
            if (progress_) {
                if (res.error)
                    std::fprintf(stderr, "  %-60s error: %s\n", e.name.c_str(),
                                 res.error_message);
                else
                    std::fprintf(stderr, "  %-60s %10.3f GB/s %12.1f ns/iter\n", e.name.c_str(),
                                 res.bytes_per_second * 1e-9, res.ns_per_iteration);
            }
        }
    }

  private:
    bool progress_;
    std::map<std::string, size_t> index_;
};

} // namespace

extern "C" int rcb_register(const rcb_case *c, int threads, double min_time_s, int repetitions)
{
    if (!c || !c->name || !c->iter || threads < 1 || !(min_time_s > 0) || repetitions < 1)
        return -1;
    try {
        std::unique_ptr<Entry> e(new Entry());
        e->c = *c;
        e->name = c->name;
        e->c.name = nullptr; // the copy in e->name is the one used
        e->threads = threads;
        e->repetitions = repetitions;
        e->setup_ok = false;
        e->setup_err[0] = '\0';
        std::memset(&e->result, 0, sizeof e->result);
        Entry *raw = e.get();
        benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
            raw->name.c_str(), [raw](benchmark::State &st) { run_case(st, raw); });
        // Real (wall) time: with threads, CPU time would hide idle cores.
        b->UseRealTime()->MinTime(min_time_s)->Threads(threads);
        if (repetitions > 1)
            b->Repetitions(repetitions);
        g_entries.push_back(std::move(e));
        return static_cast<int>(g_entries.size() - 1);
    } catch (...) {
        return -1;
    }
}

extern "C" int rcb_run_all(const char *json_path, int progress, char *err, size_t err_len)
{
    try {
        // Google Benchmark reads its output file from its flags, so they are
        // synthesized as a command line.
        std::vector<std::string> args = {"ropecheck-bench"};
        if (json_path) {
            args.push_back(std::string("--benchmark_out=") + json_path);
            args.push_back("--benchmark_out_format=json");
        }
        std::vector<char *> argv;
        for (std::string &a : args)
            argv.push_back(&a[0]);
        argv.push_back(nullptr);
        int argc = static_cast<int>(args.size());
        benchmark::Initialize(&argc, argv.data());
        Capture capture(progress != 0);
        benchmark::RunSpecifiedBenchmarks(&capture);
        return 0;
    } catch (const std::exception &ex) {
        std::snprintf(err, err_len, "benchmark run failed: %s", ex.what());
        return -1;
    } catch (...) {
        std::snprintf(err, err_len, "benchmark run failed");
        return -1;
    }
}

extern "C" size_t rcb_count(void)
{
    return g_entries.size();
}

extern "C" int rcb_get_result(size_t i, rcb_result *out)
{
    if (i >= g_entries.size())
        return -1;
    *out = g_entries[i]->result;
    return 0;
}

extern "C" void rcb_shutdown(void)
{
    benchmark::ClearRegisteredBenchmarks();
    benchmark::Shutdown();
    g_entries.clear();
}
