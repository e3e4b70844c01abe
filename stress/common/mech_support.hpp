// What the stress programs of the message, semaphore, shared-memory and socket mechanisms
// share on top of stress.hpp: the run's command line (duration in rounds, the hidden
// --inject-fault and --expect-violation), tallies and bitmaps in MAP_SHARED memory that
// workers report into, a pool of workers waited on with a no-progress deadline, and the
// exit verdict.
//
// A run is made of rounds. A round has a fixed number of records per writer, so it can be
// checked completely (every record of every writer arrived exactly once); without a
// duration there is one round, with --seconds / IPCSUITE_STRESS_SECONDS rounds repeat
// until the duration is spent (a soak). Every blocking call of a worker is bounded by
// --wait-ms (default fx::kWait): a call that times out is reported as a violation (a
// deadlock or a lost record), never waited on forever.
//
// Exit status: 0 every record verified, 1 a violation (reported as a "VIOLATION" line with
// the offending record), 2 usage or set-up error (or a run interrupted by SIGINT/SIGTERM
// without a violation). With --expect-violation (the self-tests
// of the checkers, together with --inject-fault) the verdict is inverted only when a
// violation was reported and the run otherwise completed: a crash or hang still fails.
#pragma once

#include "common/stress.hpp"
#include "fx/child.hpp"
#include "fx/deadline.hpp"
#include "fx/posix_ipc.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace stress::mech {

// A set-up step failed (exit 2), as opposed to a violation found by a checker.
struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit code of a worker: 0 all fine, 1 it reported violations, anything else: set-up.
inline constexpr int kWorkerOk = 0;
inline constexpr int kWorkerViolation = 1;
inline constexpr int kWorkerSetup = 2;

// An array of T in anonymous MAP_SHARED memory (zero-filled, made before fork), for
// workers to report into. T must be valid when all-zero (atomics, integers).
template <class T>
class SharedArray {
 public:
  explicit SharedArray(size_t n)
      : n_(n), map_(fx::map_memory(bytes(n), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE)) {}
  T& operator[](size_t i) const { return reinterpret_cast<T*>(map_.get())[i]; }
  size_t size() const { return n_; }
  void clear() { std::memset(map_.get(), 0, bytes(n_)); }

 private:
  static size_t bytes(size_t n) { return n == 0 ? 1 : n * sizeof(T); }
  size_t n_;
  fx::Mapping map_;
};

// What workers report to the parent.
struct Tally {
  std::atomic<uint64_t> violations;
  std::atomic<uint64_t> records;  // records verified
  std::atomic<uint64_t> bytes;
  std::atomic<uint64_t> progress;  // anything that moved (sent or received), for deadlines
  std::atomic<uint64_t> full;      // times a sender found the object full and had to block
  std::atomic<uint64_t> sent;      // records sent
};

// Reports a violation from any process (worker or parent) in the format of
// stress::violation ("VIOLATION <mechanism>/<variant>: ..."); the first 20 of a round are
// printed, all are counted.
inline void report(Tally& t, Metrics const& m, std::string const& what) {
  uint64_t n = t.violations.fetch_add(1);
  // The format of stress::violation, written with one write(2) so that lines of several
  // processes do not interleave.
  std::string line = "VIOLATION " + m.mechanism + "/" + m.variant + ": " + what + "\n";
  if (n == 20) line = "(further violations counted, not printed)\n";
  if (n <= 20) (void)!::write(2, line.data(), line.size());
}

// Exactly-once delivery over a round: one bit per (stream, seq) in shared memory, set by
// whichever consumer received the record. A bit already set is a duplicate; a bit still
// clear at the end of the round is a loss.
class ExactlyOnce {
 public:
  ExactlyOnce(size_t streams, uint64_t per_stream)
      : streams_(streams), words_((per_stream + 63) / 64), bits_(streams * words_) {}
  enum Mark { kNew, kDuplicate, kOutOfRange };
  Mark mark(uint32_t stream, uint64_t seq) const {
    if (stream >= streams_ || seq >= words_ * 64) return kOutOfRange;
    uint64_t bit = uint64_t(1) << (seq % 64);
    uint64_t old = bits_[stream * words_ + seq / 64].fetch_or(bit);
    return (old & bit) ? kDuplicate : kNew;
  }
  // The seqs in [0, count) of stream that never arrived (at most `limit` of them).
  std::vector<uint64_t> missing(uint32_t stream, uint64_t count, size_t limit = 8) const {
    std::vector<uint64_t> out;
    for (uint64_t s = 0; s < count && out.size() < limit; ++s)
      if (!(bits_[stream * words_ + s / 64].load() & (uint64_t(1) << (s % 64)))) out.push_back(s);
    return out;
  }
  void clear() { bits_.clear(); }

 private:
  size_t streams_, words_;
  SharedArray<std::atomic<uint64_t>> bits_;
};

// Record lengths vary within [lo, hi] as a function of (writer, seq), so that message
// boundaries are exercised at many sizes and a checker can recompute them.
inline size_t record_len(uint32_t writer, uint64_t seq, size_t lo, size_t hi) {
  if (hi <= lo) return lo;
  uint64_t x = (uint64_t(writer) + 1) * 0x9E3779B97F4A7C15ull ^ (seq + 1) * 0xC2B2AE3D27D4EB4Full;
  x ^= x >> 31;
  return lo + x % (hi - lo + 1);
}
// A small deterministic mixer for choosing types, priorities, victims.
inline uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ull + b * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 27);
}

// The injected faults a checker must catch (--inject-fault NAME); each program says which
// of them it implements.
enum class Fault { None, Skip, Corrupt, Duplicate, Split, NoUndo, DoubleIncrement };
inline Fault parse_fault(std::string const& s) {
  if (s.empty() || s == "none") return Fault::None;
  if (s == "skip") return Fault::Skip;            // a writer skips one sequence number
  if (s == "corrupt") return Fault::Corrupt;      // a writer flips one payload byte
  if (s == "duplicate") return Fault::Duplicate;  // a writer sends one record twice
  if (s == "split") return Fault::Split;          // a writer sends one record as two messages
  if (s == "no-undo") return Fault::NoUndo;       // a holder takes the lock without SEM_UNDO
  if (s == "double-increment") return Fault::DoubleIncrement;
  throw SetupError("unknown --inject-fault " + s);
}
// The record (writer 0, seq kFaultSeq) is the one a fault hits.
inline constexpr uint64_t kFaultSeq = 3;

// SIGINT, SIGTERM and SIGHUP end a run at the end of the current round, so that the
// objects of the round are removed and the JSON lines printed (an interrupted soak).
// Workers lead their own process groups: a terminal's SIGINT reaches only this process.
inline volatile sig_atomic_t g_stop = 0;
inline void on_stop_signal(int) { g_stop = 1; }
inline void install_stop_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

// The run: options, duration in rounds, and the verdict.
class Run {
 public:
  Run(int argc, char** argv, Options defaults) {
    install_stop_handlers();
    opt = parse(argc, argv, defaults);
    auto take = [&](char const* k) -> std::string {
      auto it = opt.extra.find(k);
      if (it == opt.extra.end()) return {};
      std::string v = it->second;
      opt.extra.erase(it);
      return v;
    };
    fault = parse_fault(take("inject-fault"));
    std::string ev = take("expect-violation");
    expect_violation = !ev.empty() && ev != "0" && ev != "no";
    if (std::string w = take("wait-ms"); !w.empty()) wait = std::chrono::milliseconds(std::stoll(w));
  }
  // Options of the program's own (--key value); empty when not given.
  std::string extra(char const* k, std::string def = {}) {
    auto it = opt.extra.find(k);
    if (it == opt.extra.end()) return def;
    std::string v = it->second;
    opt.extra.erase(it);
    return v;
  }
  // After the program has taken its own options: anything left is a usage error.
  void no_more_options() const {
    for (auto const& [k, v] : opt.extra) throw SetupError("unknown option --" + k);
  }
  // Does the variant (a configuration name) run? --variant selects one (or "all").
  bool selected(std::string const& variant) const {
    if (g_stop) return false;
    return opt.variant.empty() || opt.variant == "all" || opt.variant == variant;
  }

  // Runs rounds of one configuration until the duration is spent (one round without a
  // duration), then prints its JSON line. round(m) runs one round and adds to m.
  void configuration(Metrics m, std::function<void(Metrics&)> const& round) {
    m.verified = true;
    auto t0 = fx::Clock::now();
    uint64_t rounds = 0;
    for (;;) {
      round(m);
      ++rounds;
      double el = std::chrono::duration<double>(fx::Clock::now() - t0).count();
      if (opt.seconds <= 0 || el >= opt.seconds || !completed || g_stop) break;
      if (m.violations > 0 && (fault != Fault::None || expect_violation)) break;
    }
    m.seconds = std::chrono::duration<double>(fx::Clock::now() - t0).count();
    violations += m.violations;
    ++configurations;
    print_json(m);
    if (g_stop) {
      std::cerr << "stopped by a signal after " << rounds << " rounds\n";
      completed = false;
    }
  }

  // A worker crashed, hung, or a round could not finish: the run did not complete.
  void incomplete(Metrics& m, Tally& t, std::string const& why) {
    completed = false;
    report(t, m, why);
  }

  int verdict() const {
    if (g_stop) {
      // Not a verdict on the kernel: the records checked were fine unless reported.
      std::cerr << "INTERRUPTED: the run was stopped by a signal\n";
      return violations > 0 ? 1 : 2;
    }
    if (configurations == 0) {
      std::cerr << "SETUP ERROR: no configuration selected by --variant " << opt.variant << "\n";
      return 2;
    }
    if (!expect_violation) return violations == 0 ? 0 : 1;
    if (violations > 0 && completed) {
      std::cerr << "expected violation reported (" << violations << "): the checker detects the injected fault\n";
      return 0;
    }
    std::cerr << (completed ? "FAILED: an injected fault went undetected (no violation reported)\n"
                            : "FAILED: the run did not complete (crashed or hung worker)\n");
    return 1;
  }

  Options opt;
  Fault fault = Fault::None;
  bool expect_violation = false;
  std::chrono::milliseconds wait = fx::kWait;
  bool completed = true;
  uint64_t violations = 0;
  unsigned configurations = 0;
};

// Workers of one round. wait_all waits for every worker while `progress` keeps moving:
// only a stretch of `stall` without progress (a deadlock, a lost wake-up) makes it give
// up, kill everyone and report. Workers this program killed on purpose (expect_kill) may
// die by SIGKILL; any other death by a signal, a worker exit code other than 0/1, or a
// worker outliving the stall is reported and marks the run incomplete.
class Workers {
 public:
  template <class F>
  pid_t spawn(std::string name, F&& fn) {
    kids_.push_back(fx::Child::fork(std::forward<F>(fn)));
    names_.push_back(std::move(name));
    return kids_.back().pid();
  }
  size_t size() const { return kids_.size(); }
  pid_t pid(size_t i) const { return kids_[i].pid(); }
  void expect_kill(pid_t p) { killed_.insert(p); }
  void kill(size_t i) {
    expect_kill(kids_[i].pid());
    ::kill(kids_[i].pid(), SIGKILL);
  }

  // Waits for workers [first, last) (all by default).
  void wait_all(Run& run, Metrics& m, Tally& t, std::chrono::milliseconds stall,
                std::function<uint64_t()> progress = {}, size_t first = 0, size_t last = SIZE_MAX) {
    if (!progress) progress = [&t] { return t.progress.load(); };
    last = std::min(last, kids_.size());
    uint64_t seen = progress();
    auto d = fx::deadline(stall);
    fx::Backoff b;
    for (size_t i = first; i < last;) {
      auto& k = kids_[i];
      if (k.pid() <= 0) { ++i; continue; }
      if (k.exited_yet()) {
        pid_t p = k.pid();
        auto st = k.wait(fx::deadline(fx::kWait));
        judge(run, m, t, i, p, st);
        ++i;
        continue;
      }
      uint64_t now = progress();
      if (now != seen) {
        seen = now;
        d = fx::deadline(stall);
        b = fx::Backoff();
      }
      if (d.expired()) {
        run.incomplete(m, t, "no progress for " + std::to_string(stall.count()) + " ms: " + names_[i] +
                                 " (pid " + std::to_string(k.pid()) + ") still running (deadlock or lost wake-up)");
        // Workers that already died may be the cause: say how; the others are killed here.
        for (size_t j = 0; j < kids_.size(); ++j) {
          pid_t p = kids_[j].pid();
          if (p <= 0) continue;
          if (kids_[j].exited_yet()) {
            auto st = kids_[j].wait(fx::deadline(fx::kWait));
            judge(run, m, t, j, p, st);
          } else {
            kill(j);
            (void)kids_[j].wait(fx::deadline(fx::kWait));
          }
        }
        return;
      }
      b.pause();
    }
  }

 private:
  void judge(Run& run, Metrics& m, Tally& t, size_t i, pid_t p, fx::WaitStatus const& st) {
    if (st.exited() && (st.exit_code() == kWorkerOk || st.exit_code() == kWorkerViolation)) return;
    if (st.signaled() && st.term_signal() == SIGKILL && killed_.count(p)) return;
    std::string what = names_[i] + " (pid " + std::to_string(p) + ") " + st.describe();
    if (st.exited()) throw SetupError(what + ": set-up failed in a worker");
    run.incomplete(m, t, what);
  }

  std::vector<fx::Child> kids_;
  std::vector<std::string> names_;
  std::set<pid_t> killed_;
};

// A relative timespec for semtimedop.
inline timespec rel_timespec(std::chrono::nanoseconds d) {
  return timespec{static_cast<time_t>(d.count() / 1'000'000'000), static_cast<long>(d.count() % 1'000'000'000)};
}

// main(): runs body, maps set-up errors to exit 2 and prints what failed.
inline int guarded_main(std::function<int()> const& body) {
  try {
    return body();
  } catch (std::system_error const& e) {
    // The mechanism itself is missing: reported like fx::unsupported() (ctest skips it).
    if (e.code().value() == ENOSYS && e.code().category() == std::generic_category()) {
      std::cout << "IPCSUITE-UNSUPPORTED: " << e.what() << std::endl;
      return 0;
    }
    std::cerr << "SETUP ERROR: " << e.what() << "\n";
  } catch (SetupError const& e) {
    std::cerr << "SETUP ERROR: " << e.what() << "\n";
  } catch (std::exception const& e) {
    std::cerr << "SETUP ERROR: " << e.what() << "\n";
  }
  return 2;
}

// In a worker: runs fn, turning an exception into a set-up exit code with a message.
inline int worker_main(std::function<int()> const& fn) {
  try {
    return fn();
  } catch (std::exception const& e) {
    std::string msg = std::string("worker set-up error: ") + e.what() + "\n";
    (void)!::write(2, msg.data(), msg.size());
    return kWorkerSetup;
  }
}

}  // namespace stress::mech
