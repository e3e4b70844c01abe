// fifo.interleave.*: opens of one FIFO meeting, driven in schedules that rapidcheck chooses
// (controller.hpp): readers and writers block in open until the other side opens.
//
// POSIX.1-2017 open() (O_NONBLOCK, FIFO): with O_NONBLOCK clear, an open for reading-only
// blocks until a thread opens the file for writing, and an open for writing-only blocks
// until a thread opens it for reading; with O_NONBLOCK set, an open for reading-only
// returns at once, and an open for writing-only fails with ENXIO if no process has the
// file open for reading. fifo(7): "opening the FIFO blocks until the other end is opened
// also". So an open returns at once when the other end is open (or being opened: a blocked
// opener is a thread opening that end), and one open of an end releases EVERY caller
// blocked opening the other end. Closing never releases anyone.
//
// Left out, because the documentation does not settle it: O_RDWR (POSIX: undefined), and a
// non-blocking open for writing while the only readers are still blocked in their open
// ("unless the other end has already been opened", fifo(7)).
#include "controller.hpp"
#include "fx/behaviour.hpp"
#include "fx/tempdir.hpp"
#include "rc_support.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

using interleave::Command;
using interleave::Completion;
using interleave::Result;

namespace {

enum Op { kOpenRead = 0, kOpenWrite, kOpenReadNonblock, kOpenWriteNonblock, kClose };

struct FifoStep {
  int worker = 0;  // preferred worker; the first idle one from there does the step
  Op op = kOpenRead;
};

char const* op_name(Op op) {
  switch (op) {
    case kOpenRead: return "open O_RDONLY";
    case kOpenWrite: return "open O_WRONLY";
    case kOpenReadNonblock: return "open O_RDONLY|O_NONBLOCK";
    case kOpenWriteNonblock: return "open O_WRONLY|O_NONBLOCK";
    case kClose: return "close (its last opened end)";
  }
  return "?";
}

void showValue(FifoStep const& s, std::ostream& os) {
  os << interleave::worker_name(s.worker) << " " << op_name(s.op);
}

rc::Gen<FifoStep> fifo_step() {
  return rc::gen::apply(
      [](int w, int kind) {
        // Mostly blocking opens: they are what meets; some closes so that ends come and go.
        static constexpr Op kinds[10] = {kOpenRead, kOpenRead, kOpenRead, kOpenWrite, kOpenWrite,
                                         kOpenWrite, kClose, kClose, kOpenReadNonblock, kOpenWriteNonblock};
        return FifoStep{w, kinds[kind]};
      },
      rc::gen::inRange(0, interleave::kMaxWorkers), rc::gen::inRange(0, 10));
}

// The documented model, or a deliberately wrong one for the can-fail behaviour: an open
// releases only the first of the callers blocked opening the other end.
enum class Release { Every, FirstOnly };

struct Model {
  Release release;
  std::vector<std::vector<char>> held;  // per worker: the ends it opened, 'r' or 'w'
  std::vector<int> blocked_r, blocked_w;  // callers blocked in open, in order

  int open(char end) const {
    int n = 0;
    for (auto const& h : held) n += static_cast<int>(std::count(h.begin(), h.end(), end));
    return n;
  }

  // The other end's blocked openers complete (all of them, or the first in the wrong model).
  void release_blocked(std::vector<int>& blocked, char end, std::vector<Completion>& out) {
    size_t k = release == Release::Every ? blocked.size() : std::min<size_t>(1, blocked.size());
    for (size_t i = 0; i < k; ++i) {
      out.push_back({blocked[i], Result{}});
      held[blocked[i]].push_back(end);
    }
    blocked.erase(blocked.begin(), blocked.begin() + static_cast<long>(k));
  }

  // Predicts the step; false when the documentation leaves its outcome open (not run).
  bool apply(int w, Op op, std::vector<Completion>& out) {
    bool readers = open('r') > 0 || !blocked_r.empty();
    bool writers = open('w') > 0 || !blocked_w.empty();
    switch (op) {
      case kClose:
        if (held[w].empty()) return false;  // nothing to close
        held[w].pop_back();
        out.push_back({w, Result{}});
        break;
      case kOpenRead:
      case kOpenReadNonblock:
        if (writers || op == kOpenReadNonblock) {
          out.push_back({w, Result{}});
          held[w].push_back('r');
          release_blocked(blocked_w, 'w', out);
        } else {
          blocked_r.push_back(w);
        }
        break;
      case kOpenWrite:
        if (readers) {
          out.push_back({w, Result{}});
          held[w].push_back('w');
          release_blocked(blocked_r, 'r', out);
        } else {
          blocked_w.push_back(w);
        }
        break;
      case kOpenWriteNonblock:
        if (open('r') > 0) {
          out.push_back({w, Result{}});
          held[w].push_back('w');
          release_blocked(blocked_r, 'r', out);
        } else if (blocked_r.empty()) {
          Result r;
          r.rv = -1;
          r.err = ENXIO;
          out.push_back({w, r});
        } else {
          return false;
        }
        break;
    }
    std::sort(out.begin(), out.end(), [](Completion const& a, Completion const& b) { return a.worker < b.worker; });
    return true;
  }
};

void run_schedule(Release release) {
  const int n = *rc::gen::inRange(2, interleave::kMaxWorkers + 1);
  const auto steps = *rc::gen::resize(12, rc::gen::container<std::vector<FifoStep>>(rc::gen::resize(100, fifo_step())));

  // Per run: a fresh FIFO in a fresh directory, removed on every path out (also while
  // shrinking). The controller never opens it: only the workers' opens meet.
  fx::TempDir dir;
  const std::string path = dir / "fifo";
  fx::make_fifo(path);
  interleave::Controller ctl(n, [path, fds = std::vector<int>()](int, Command const& c) mutable {
    Result r;
    if (c.op == kClose) {
      r.rv = ::close(fds.back());
      fds.pop_back();
    } else {
      static constexpr int flags[] = {O_RDONLY, O_WRONLY, O_RDONLY | O_NONBLOCK, O_WRONLY | O_NONBLOCK};
      int fd = ::open(path.c_str(), flags[c.op]);
      if (fd >= 0) fds.push_back(fd);
      r.rv = fd >= 0 ? 0 : -1;  // descriptor numbers differ between workers: not compared
    }
    r.err = r.rv == -1 ? errno : 0;
    return r;
  });

  Model model{release, std::vector<std::vector<char>>(static_cast<size_t>(n)), {}, {}};
  std::string transcript;
  for (size_t i = 0; i < steps.size(); ++i) {
    FifoStep s = steps[i];
    s.worker = ctl.idle_from(s.worker % n);
    if (s.worker < 0) break;  // every worker is asleep in open: nothing can act any more
    std::ostringstream line;
    line << "step " << i << ": ";
    showValue(s, line);
    std::vector<Completion> predicted;
    if (!model.apply(s.worker, s.op, predicted)) {
      transcript += line.str() + " -> not run\n";
      continue;
    }
    Command c;
    c.op = s.op;
    auto observed = ctl.step(s.worker, c, s.op == kClose ? SYS_close : SYS_openat);
    transcript += line.str() + " -> " + interleave::describe(observed) + "\n";
    if (!interleave::same(predicted, observed))
      RC_FAIL(transcript + "the model predicts: " + interleave::describe(predicted));
  }
}

}  // namespace

BEHAVIOUR("fifo.interleave.blocked-opens-complete-as-model-predicts", "[posix][interleave]",
          "in any schedule of opens (blocking and O_NONBLOCK, read and write) and closes of one FIFO "
          "by 2-4 processes, an open returns at once iff the other end is open or being opened, and "
          "an open of one end releases every caller blocked opening the other",
          "POSIX.1-2017 open() DESCRIPTION (O_NONBLOCK, FIFO); fifo(7)") {
  interleave::default_rc_params("max_success=100");
  REQUIRE(prop::check("fifo: blocked opens complete as the model predicts",
                      [] { run_schedule(Release::Every); }));
}

BEHAVIOUR("fifo.interleave.blocked-opens-complete-as-model-predicts-can-fail", "[posix][interleave]",
          "the interleaving property for FIFO opens finds a counterexample to a model in which an "
          "open releases only the first caller blocked opening the other end",
          "POSIX.1-2017 open() DESCRIPTION (O_NONBLOCK, FIFO); fifo(7)") {
  interleave::default_rc_params("max_success=300 noshrink=1");
  REQUIRE(prop::falsified("fifo: a release-the-first-only model is refuted (a counterexample is expected)",
                          [] { run_schedule(Release::FirstOnly); }));
}
