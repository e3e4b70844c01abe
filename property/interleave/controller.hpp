// A controller that drives 2..4 forked worker processes in lock-step through a schedule of
// IPC operations, for properties about cross-process interleavings (which blocked caller is
// released by which operation, and with what result).
//
// Commands and results travel through fx::Shared memory and fx::Checkpoints (futexes), never
// through the mechanism under test. One step:
//   1. the controller posts a command to an idle worker and wakes it;
//   2. it waits until the step has SETTLED: every worker with a call in progress has either
//      posted its result or is proved asleep inside that call's system call
//      (fx::blocked_state: /proc/<pid>/stat and /proc/<pid>/syscall), no result arrived
//      while it looked, and the mechanism's own condition holds (for instance "no reader
//      asleep while the pipe holds data");
//   3. it returns the calls that returned during the step: the dispatched worker's own, if it
//      did not block, and those of blocked callers it released.
// A settle that does not happen within the deadline throws interleave::Failure, which
// rapidcheck reports as a failed run. Workers never touch Catch2 or rapidcheck.
//
// Why the snapshot in step 2 is sound: a blocked caller is released only by another worker's
// system call, and the kernel marks it runnable (state R in /proc) before that call returns,
// hence before that worker posts its result. A pass that reads the result counters, then
// sees every other busy worker asleep in its call, then finds the counters unchanged, cannot
// have missed a release.
#pragma once

#include "fx/child.hpp"
#include "fx/checkpoint.hpp"
#include "fx/deadline.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace interleave {

inline constexpr int kMaxWorkers = 4;
inline constexpr int kDataBytes = 32;

// One operation for a worker; the meaning of op and arg is the mechanism's.
struct Command {
  int op = 0;
  long arg[3] = {};
  int len = 0;
  char data[kDataBytes] = {};
};

// What the worker's call returned.
struct Result {
  long rv = 0;
  int err = 0;    // errno when rv == -1
  long aux = 0;   // a second value (for msgrcv: the message type)
  int len = 0;    // bytes in data
  char data[kDataBytes] = {};
  std::string text() const { return std::string(data, static_cast<size_t>(len)); }
};
std::string describe(Result const& r);  // "returned 3 \"abc\"", "failed with ENOMSG"

// Runs inside a worker (after the fork): performs one command. It may keep per-worker state
// (each worker has its own copy of it).
using Executor = std::function<Result(int worker, Command const&)>;

// A run failed for a reason that is not a model mismatch: a worker did not settle within the
// deadline, or died.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Completion {
  int worker;
  Result result;
};
// "w0 returned 3 type 2 \"m3\", w2 failed with ENOMSG" ("nothing returned" when empty).
std::string describe(std::vector<Completion> const& cs);
// Same workers (in worker order) with the same rv, errno, aux and data.
bool same(std::vector<Completion> const& a, std::vector<Completion> const& b);

class Controller {
 public:
  // Forks n workers (2..kMaxWorkers), each looping: wait for a command, run exec, post.
  Controller(int n, Executor exec);
  Controller(Controller const&) = delete;
  Controller& operator=(Controller const&) = delete;
  // Kills and reaps every worker, blocked or not (fx::Child).
  ~Controller();

  int size() const { return static_cast<int>(workers_.size()); }
  // A command was dispatched to w and its result has not come back: w is blocked.
  bool busy(int w) const { return busy_[w]; }
  // The first idle worker at or after w (cyclically), or -1 when every worker is blocked.
  int idle_from(int w) const;

  // Dispatches c to idle worker w, whose call sleeps in syscall_nr if it blocks, and waits
  // until the step settles. unsettled() (optional) returns "" when the mechanism is at rest,
  // else the reason it is not (for the failure message). Returns the calls that returned
  // during this step, in worker order.
  std::vector<Completion> step(int w, Command const& c, long syscall_nr,
                               std::function<std::string()> const& unsettled = {});

  // Every worker's state, for failure messages.
  std::string describe() const;

 private:
  struct Board {
    Command cmd[kMaxWorkers];
    Result res[kMaxWorkers];
  };
  static int cmd_cp(int w) { return w; }
  static int done_cp(int w) { return kMaxWorkers + w; }

  fx::Shared<Board> board_;
  fx::Checkpoints cp_;
  std::vector<fx::Child> workers_;
  std::vector<uint32_t> sent_;     // commands dispatched to each worker
  std::vector<bool> busy_;
  std::vector<long> syscall_;      // what each busy worker's call sleeps in
};

// How long a step may take to settle: fx::kWait, until one run in this process has timed
// out; after that (rapidcheck is shrinking a hang, each candidate being a fresh run) 1 s, so
// that shrinking a hang cannot run into the ctest TIMEOUT. A correct kernel settles a step in
// microseconds.
fx::Deadline settle_deadline();

// rapidcheck's parameters for these properties: the given defaults (e.g. "max_success=40")
// for every key that RC_PARAMS does not set. Must run before the first rc::check in the
// process (rapidcheck reads RC_PARAMS once).
void default_rc_params(std::string const& defaults);

// "w2" for worker 2: the names used in counterexamples and failure messages.
inline std::string worker_name(int w) { return "w" + std::to_string(w); }

}  // namespace interleave
