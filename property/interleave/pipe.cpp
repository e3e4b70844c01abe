// pipe.interleave.*: readers blocked on an empty pipe and writers arriving, driven in
// schedules that rapidcheck chooses (controller.hpp). Every worker holds both ends, so no
// read ever sees end-of-file and no write sees a missing reader; writes stay far below the
// pipe's capacity, so they never block.
//
// What is documented: a read on an empty pipe blocks until data is written (pipe(7); POSIX
// read()); a read returns fewer than nbyte bytes only when fewer are available (POSIX read()
// RETURN VALUE); a write of at most PIPE_BUF bytes is atomic (pipe(7)). Which of several
// blocked readers gets the data is not documented, so after a write the model allows every
// outcome these rules leave open: the readers that returned, taken in SOME order, each read
// min(its request, what was left) bytes of the stream in stream order, and no reader is left
// asleep while data is left in the pipe.
#include "controller.hpp"
#include "fx/behaviour.hpp"
#include "fx/fd.hpp"
#include "rc_support.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

using interleave::Command;
using interleave::Completion;
using interleave::Result;

namespace {

enum Op { kWrite = 0, kRead = 1 };

struct PipeStep {
  int worker = 0;  // preferred worker; the first idle one from there does the step
  Op op = kWrite;
  int bytes = 1;   // written, or asked for (1..3)
};

void showValue(PipeStep const& s, std::ostream& os) {
  os << interleave::worker_name(s.worker) << (s.op == kWrite ? " write " : " read ") << s.bytes;
}

rc::Gen<PipeStep> pipe_step() {
  return rc::gen::apply(
      [](int w, int kind, int bytes) {
        return PipeStep{w, kind < 4 ? kWrite : kRead, bytes};
      },
      rc::gen::inRange(0, interleave::kMaxWorkers), rc::gen::inRange(0, 10), rc::gen::inRange(1, 4));
}

// The documented model, or a deliberately wrong one for the can-fail behaviour: one write
// releases at most one blocked reader (the lost wake-up of a reader queued behind another,
// with data left for it).
enum class Wakeups { AsDocumented, OnePerWrite };

struct Reader {
  int worker;
  int want;
};

struct Model {
  Wakeups wakeups;
  std::string content;          // bytes in the pipe
  std::vector<Reader> waiting;  // blocked readers

  // Is there an order of the released readers (with these results) in which each read
  // exactly min(want, left) bytes from the front of the stream? Sets *left to what stays.
  bool explains(std::vector<Completion> const& released, std::string* left) const {
    std::vector<size_t> order(released.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    do {
      std::string c = content;
      bool fine = true;
      for (size_t i : order) {
        auto const& r = released[i];
        auto it = std::find_if(waiting.begin(), waiting.end(), [&](Reader const& x) { return x.worker == r.worker; });
        if (it == waiting.end() || c.empty()) { fine = false; break; }
        size_t n = std::min(static_cast<size_t>(it->want), c.size());
        if (r.result.rv != static_cast<long>(n) || r.result.text() != c.substr(0, n)) { fine = false; break; }
        c.erase(0, n);
      }
      if (fine) {
        *left = c;
        return true;
      }
    } while (std::next_permutation(order.begin(), order.end()));
    return false;
  }
};

void run_schedule(Wakeups wakeups) {
  const int n = *rc::gen::inRange(2, interleave::kMaxWorkers + 1);
  const auto steps = *rc::gen::resize(12, rc::gen::container<std::vector<PipeStep>>(rc::gen::resize(100, pipe_step())));

  // Per run: a fresh pipe; the controller keeps both ends (for FIONREAD), and so does each
  // worker, by inheritance.
  fx::Pipe p = fx::make_pipe();
  const int rfd = p.r.get(), wfd = p.w.get();
  interleave::Controller ctl(n, [rfd, wfd](int, Command const& c) {
    Result r;
    if (c.op == kWrite) {
      r.rv = ::write(wfd, c.data, static_cast<size_t>(c.len));
    } else {
      r.rv = ::read(rfd, r.data, static_cast<size_t>(c.arg[0]));
      r.len = r.rv > 0 ? static_cast<int>(r.rv) : 0;
    }
    r.err = r.rv == -1 ? errno : 0;
    return r;
  });

  Model model{wakeups, {}, {}};
  std::string transcript;
  char next = 'a';
  for (size_t i = 0; i < steps.size(); ++i) {
    PipeStep s = steps[i];
    s.worker = ctl.idle_from(s.worker % n);
    if (s.worker < 0) break;  // every worker is asleep in read: nothing can act any more
    Command c;
    c.op = s.op;
    c.arg[0] = s.bytes;
    std::string data;
    if (s.op == kWrite) {
      for (int k = 0; k < s.bytes; ++k, next = next == 'z' ? 'a' : static_cast<char>(next + 1)) data += next;
      c.len = s.bytes;
      std::memcpy(c.data, data.data(), data.size());
    }
    std::ostringstream line;
    line << "step " << i << ": ";
    showValue(s, line);
    if (s.op == kWrite) line << " \"" << data << "\"";
    line << " (pipe held \"" << model.content << "\")";

    // Settled means also: no reader asleep while the pipe holds data (it would have to wake).
    auto observed = ctl.step(s.worker, c, s.op == kWrite ? SYS_write : SYS_read, [&]() -> std::string {
      int queued = fx::fionread(rfd);
      if (queued == 0) return "";
      for (int w = 0; w < ctl.size(); ++w)
        if (ctl.busy(w)) return std::to_string(queued) + " bytes in the pipe while " + interleave::worker_name(w) + " sleeps in read";
      return "";
    });
    transcript += line.str() + " -> " + interleave::describe(observed) + "\n";

    if (s.op == kRead) {
      std::vector<Completion> predicted;
      if (!model.content.empty()) {
        Result r;
        size_t k = std::min(static_cast<size_t>(s.bytes), model.content.size());
        r.rv = static_cast<long>(k);
        r.len = static_cast<int>(k);
        std::memcpy(r.data, model.content.data(), k);
        model.content.erase(0, k);
        predicted.push_back({s.worker, r});
      } else {
        model.waiting.push_back({s.worker, s.bytes});
      }
      if (!interleave::same(predicted, observed))
        RC_FAIL(transcript + "the model predicts: " + interleave::describe(predicted));
    } else {
      model.content += data;
      std::vector<Completion> released;
      bool writer_ok = false;
      for (auto const& o : observed) {
        if (o.worker == s.worker) writer_ok = o.result.rv == s.bytes;
        else released.push_back(o);
      }
      std::string left;
      bool fine = writer_ok && model.explains(released, &left);
      if (fine && model.wakeups == Wakeups::AsDocumented)
        fine = left.empty() || released.size() == model.waiting.size();
      if (fine && model.wakeups == Wakeups::OnePerWrite) fine = released.size() <= 1;
      if (!fine)
        RC_FAIL(transcript + "the model allows: the writer returning " + std::to_string(s.bytes) +
                (model.wakeups == Wakeups::AsDocumented
                     ? ", and blocked readers reading in some order min(request, left) bytes each "
                       "from \"" + model.content + "\", none left asleep while bytes are left"
                     : ", and at most one blocked reader reading from \"" + model.content + "\""));
      model.content = left;
      for (auto const& r : released)
        model.waiting.erase(std::find_if(model.waiting.begin(), model.waiting.end(),
                                         [&](Reader const& x) { return x.worker == r.worker; }));
    }
    // FIONREAD: the bytes the model holds.
    int queued = fx::fionread(rfd);
    if (queued != static_cast<int>(model.content.size()))
      RC_FAIL(transcript + "FIONREAD gives " + std::to_string(queued) + ", the model holds \"" + model.content + "\"");
  }
}

}  // namespace

BEHAVIOUR("pipe.interleave.blocked-readers-complete-as-model-predicts", "[posix][interleave]",
          "in any schedule of small writes and reads by 2-4 processes sharing a pipe, a read of an "
          "empty pipe blocks, and after a write the released readers each read min(request, bytes "
          "left) in stream order, no reader staying asleep while data is left",
          "pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 read() DESCRIPTION and RETURN VALUE") {
  interleave::default_rc_params("max_success=100");
  REQUIRE(prop::check("pipe: blocked readers complete as the documented model allows",
                      [] { run_schedule(Wakeups::AsDocumented); }));
}

BEHAVIOUR("pipe.interleave.blocked-readers-complete-as-model-predicts-can-fail", "[posix][interleave]",
          "the interleaving property for pipes finds a counterexample to a model in which a write "
          "releases at most one blocked reader",
          "pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 read() DESCRIPTION") {
  interleave::default_rc_params("max_success=300 noshrink=1");
  REQUIRE(prop::falsified("pipe: a one-reader-per-write model is refuted (a counterexample is expected)",
                          [] { run_schedule(Wakeups::OnePerWrite); }));
}
