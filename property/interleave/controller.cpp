#include "controller.hpp"

#include "fx/blocked.hpp"
#include "fx/matchers.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

namespace interleave {
namespace {
bool g_timed_out = false;
}

std::string describe(Result const& r) {
  if (r.rv == -1) return "failed with " + fx::errno_name(r.err);
  std::string s = "returned " + std::to_string(r.rv);
  if (r.aux) s += " type " + std::to_string(r.aux);
  if (r.len) s += " \"" + r.text() + "\"";
  return s;
}

std::string describe(std::vector<Completion> const& cs) {
  if (cs.empty()) return "nothing returned";
  std::string s;
  for (auto const& c : cs) s += (s.empty() ? "" : ", ") + worker_name(c.worker) + " " + describe(c.result);
  return s;
}

bool same(std::vector<Completion> const& a, std::vector<Completion> const& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    Result const &x = a[i].result, &y = b[i].result;
    if (a[i].worker != b[i].worker || x.rv != y.rv || x.aux != y.aux || x.text() != y.text()) return false;
    if (x.rv == -1 && x.err != y.err) return false;
  }
  return true;
}

fx::Deadline settle_deadline() { return fx::deadline(g_timed_out ? fx::Clock::duration(std::chrono::seconds(1)) : fx::kWait); }

void default_rc_params(std::string const& defaults) {
  char const* env = std::getenv("RC_PARAMS");
  std::string given = env ? env : "";
  std::string merged;
  std::istringstream in(defaults);
  for (std::string kv; in >> kv;) {
    std::string key = kv.substr(0, kv.find('='));
    if (given.find(key + "=") == std::string::npos) merged += kv + " ";
  }
  merged += given;
  ::setenv("RC_PARAMS", merged.c_str(), 1);
}

Controller::Controller(int n, Executor exec) {
  if (n < 1 || n > kMaxWorkers) throw std::invalid_argument("interleave::Controller: 1..4 workers");
  sent_.assign(n, 0);
  busy_.assign(n, false);
  syscall_.assign(n, -1);
  workers_.reserve(n);
  for (int w = 0; w < n; ++w) {
    workers_.push_back(fx::Child::fork([this, w, exec]() mutable -> int {
      for (uint32_t k = 1;; ++k) {
        // An idle worker waits for its next command; a controller that stopped sending
        // them for this long is gone or stuck, and the worker leaves.
        if (!cp_.wait(cmd_cp(w), fx::deadline(3 * fx::kWait), k)) return 3;
        Command c = board_->cmd[w];
        board_->res[w] = exec(w, c);
        cp_.wake(done_cp(w));
      }
    }));
  }
}

Controller::~Controller() = default;  // fx::Child kills and reaps each worker

int Controller::idle_from(int w) const {
  for (int i = 0; i < size(); ++i) {
    int c = (w + i) % size();
    if (!busy_[c]) return c;
  }
  return -1;
}

std::vector<Completion> Controller::step(int w, Command const& c, long syscall_nr,
                                         std::function<std::string()> const& unsettled) {
  if (w < 0 || w >= size() || busy_[w]) throw std::logic_error("interleave: dispatch to a busy worker");
  board_->cmd[w] = c;
  ++sent_[w];
  busy_[w] = true;
  syscall_[w] = syscall_nr;
  cp_.wake(cmd_cp(w));

  std::vector<Completion> done;
  fx::Deadline d = settle_deadline();
  fx::Backoff backoff;
  for (;;) {
    std::string why;
    // 1. collect every result posted so far
    std::vector<uint32_t> before(size());
    for (int i = 0; i < size(); ++i) {
      before[i] = cp_.passed(done_cp(i));
      if (busy_[i] && before[i] >= sent_[i]) {
        busy_[i] = false;
        done.push_back({i, board_->res[i]});
      }
    }
    // 2. every worker still busy must be asleep in its call
    for (int i = 0; i < size() && why.empty(); ++i) {
      if (!busy_[i]) continue;
      if (workers_[i].exited_yet())
        throw Failure(worker_name(i) + " died during its call\n" + describe());
      // The waits of these mechanisms (msgrcv, semop, pipe read, FIFO open) are
      // interruptible sleeps, state S; a D sleep inside the call is a lock or I/O wait on the
      // way (say, a pipe's mutex), not the blocking under test, and the step goes on.
      fx::BlockedState b = fx::blocked_state(workers_[i].pid(), syscall_[i]);
      if (!b.blocked || b.state != 'S') why = worker_name(i) + " neither returned nor is asleep in its call: " + b.describe();
    }
    // 3. and nothing may have returned meanwhile
    for (int i = 0; i < size() && why.empty(); ++i)
      if (cp_.passed(done_cp(i)) != before[i]) why = worker_name(i) + " returned while looking";
    if (why.empty() && unsettled) why = unsettled();
    if (why.empty()) break;
    if (d.expired()) {
      g_timed_out = true;
      throw Failure("step did not settle within " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d.span()).count()) +
                    " ms: " + why + "\n" + describe());
    }
    backoff.pause();
  }
  std::sort(done.begin(), done.end(), [](Completion const& a, Completion const& b) { return a.worker < b.worker; });
  return done;
}

std::string Controller::describe() const {
  std::ostringstream o;
  for (int i = 0; i < size(); ++i) {
    o << "  " << worker_name(i) << " pid " << workers_[i].pid();
    if (busy_[i])
      o << ": busy, " << fx::blocked_state(workers_[i].pid(), syscall_[i]).describe();
    else
      o << ": idle";
    o << "\n";
  }
  return o.str();
}

}  // namespace interleave
