// sysv-sem.interleave.*: semop waiters with different needs on a set of two semaphores, and
// posts arriving, driven in schedules that rapidcheck chooses (controller.hpp).
//
// semop(2): an operation with sem_op < 0 proceeds at once if semval >= |sem_op|, else the
// caller sleeps until semval >= |sem_op| (among other events), and the operations of one
// call are performed atomically: all of them or none. Nothing says which of several waiters
// a post serves first, so the model allows exactly the outcomes those rules leave open:
// after a post, the waiters that returned are a set whose needs fit together in the new
// values (all-or-nothing per waiter), and no waiter left asleep could then proceed (its
// condition holds, so it must not go on sleeping).
#include "controller.hpp"
#include "fx/behaviour.hpp"
#include "fx/sysv.hpp"
#include "fx/sysv_sem.hpp"
#include "rc_support.hpp"

#include <sys/sem.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

using interleave::Command;
using interleave::Completion;
using interleave::Result;

namespace {

constexpr int kSems = 2;
using Vals = std::array<long, kSems>;

enum Op { kPost = 0, kWait = 1 };

struct SemStep {
  int worker = 0;  // preferred worker; the first idle one from there does the step
  Op op = kPost;
  Vals amount{};   // post: increments; wait: decrements (0 = no sembuf for that semaphore)
  bool nowait = false;
};

std::string show_vals(Vals const& v) { return "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + "]"; }

void showValue(SemStep const& s, std::ostream& os) {
  os << interleave::worker_name(s.worker) << (s.op == kPost ? " post " : " wait ") << show_vals(s.amount)
     << (s.nowait ? " IPC_NOWAIT" : "");
}

rc::Gen<SemStep> sem_step() {
  return rc::gen::apply(
      [](int w, int kind, int a, int b, int flag) {
        SemStep s;
        s.worker = w;
        s.op = kind < 4 ? kPost : kWait;
        s.amount = {a, b};
        if (a == 0 && b == 0) s.amount[0] = 1;
        s.nowait = s.op == kWait && flag == 9;
        return s;
      },
      rc::gen::inRange(0, interleave::kMaxWorkers), rc::gen::inRange(0, 10), rc::gen::inRange(0, 3),
      rc::gen::inRange(0, 3), rc::gen::inRange(0, 10));
}

// How a waiter's decrements are taken: all or nothing (semop(2)), or a deliberately wrong
// reading for the can-fail behaviour: a waiter goes on as soon as one of its decrements can
// be done, taking what is there of the others (a "partial post" completes it).
enum class Semantics { AllOrNothing, Partial };

bool fits(Semantics sem, Vals const& need, Vals const& v) {
  bool all = true, any = false;
  for (int i = 0; i < kSems; ++i) {
    all = all && need[i] <= v[i];
    any = any || (need[i] > 0 && need[i] <= v[i]);
  }
  return sem == Semantics::AllOrNothing ? all : any;
}

Vals take(Vals const& need, Vals v) {
  for (int i = 0; i < kSems; ++i) v[i] -= std::min(need[i], v[i]);
  return v;
}

struct Waiter {
  int worker;
  Vals need;
};

Result ok() { return Result{}; }

struct Model {
  Semantics sem;
  Vals vals{};
  std::vector<Waiter> waiting;  // in the order they went to sleep

  // Does the set of released workers `released` fit the rules after a post (vals already
  // raised)? If so, returns the values after it in *after.
  bool allowed(std::vector<int> const& released, Vals* after) const {
    Vals v = vals;
    for (auto const& w : waiting) {
      if (std::find(released.begin(), released.end(), w.worker) == released.end()) continue;
      if (!fits(sem, w.need, v)) return false;
      v = take(w.need, v);
    }
    for (int r : released)
      if (std::none_of(waiting.begin(), waiting.end(), [&](Waiter const& w) { return w.worker == r; }))
        return false;  // not a waiter
    for (auto const& w : waiting)
      if (std::find(released.begin(), released.end(), w.worker) == released.end() && fits(sem, w.need, v))
        return false;  // could proceed, yet left asleep
    *after = v;
    return true;
  }

  std::string allowed_sets() const {
    std::string s;
    const size_t n = waiting.size();
    for (unsigned mask = 0; mask < (1u << n); ++mask) {
      std::vector<int> r;
      for (size_t i = 0; i < n; ++i)
        if (mask & (1u << i)) r.push_back(waiting[i].worker);
      std::sort(r.begin(), r.end());
      Vals after;
      if (!allowed(r, &after)) continue;
      s += s.empty() ? "{" : " or {";
      for (size_t i = 0; i < r.size(); ++i) s += (i ? " " : "") + interleave::worker_name(r[i]);
      s += "} leaving " + show_vals(after);
    }
    return s.empty() ? "no outcome" : s;
  }
};

void run_schedule(Semantics semantics) {
  const int n = *rc::gen::inRange(2, interleave::kMaxWorkers + 1);
  const auto steps = *rc::gen::resize(12, rc::gen::container<std::vector<SemStep>>(rc::gen::resize(100, sem_step())));

  // Per run: a fresh set (values 0), removed on every path out (also while shrinking).
  fx::SemSet set = fx::make_sem_set(kSems);
  const int semid = set.get();
  interleave::Controller ctl(n, [semid](int, Command const& c) {
    sembuf ops[kSems];
    size_t nops = 0;
    for (int i = 0; i < kSems; ++i) {
      if (c.arg[i] == 0) continue;
      ops[nops].sem_num = static_cast<unsigned short>(i);
      ops[nops].sem_op = static_cast<short>(c.op == kPost ? c.arg[i] : -c.arg[i]);
      ops[nops].sem_flg = static_cast<short>(c.arg[2]);
      ++nops;
    }
    Result r;
    r.rv = ::semop(semid, ops, nops);
    r.err = r.rv == -1 ? errno : 0;
    return r;
  });

  Model model{semantics, {}, {}};
  std::string transcript;
  for (size_t i = 0; i < steps.size(); ++i) {
    SemStep s = steps[i];
    s.worker = ctl.idle_from(s.worker % n);
    if (s.worker < 0) break;  // every worker is asleep in semop: nothing can act any more
    Command c;
    c.op = s.op;
    c.arg[0] = s.amount[0];
    c.arg[1] = s.amount[1];
    c.arg[2] = s.nowait ? IPC_NOWAIT : 0;
    std::ostringstream line;
    line << "step " << i << ": ";
    showValue(s, line);

    auto observed = ctl.step(s.worker, c, fx::kSemopSyscall);
    transcript += line.str() + " -> " + interleave::describe(observed) + "\n";

    if (s.op == kWait) {
      // A decrement releases nobody; the caller proceeds at once iff its needs fit.
      std::vector<Completion> predicted;
      if (fits(model.sem, s.amount, model.vals)) {
        predicted.push_back({s.worker, ok()});
        model.vals = take(s.amount, model.vals);
      } else if (s.nowait) {
        Result r;
        r.rv = -1;
        r.err = EAGAIN;
        predicted.push_back({s.worker, r});
      } else {
        model.waiting.push_back({s.worker, s.amount});
      }
      if (!interleave::same(predicted, observed))
        RC_FAIL(transcript + "the model predicts: " + interleave::describe(predicted) + " (values " +
                show_vals(model.vals) + ")");
    } else {
      for (int k = 0; k < kSems; ++k) model.vals[k] += s.amount[k];
      std::vector<int> released;
      bool poster_returned = false, all_zero = true;
      for (auto const& o : observed) {
        if (o.worker == s.worker) poster_returned = true;
        else released.push_back(o.worker);
        all_zero = all_zero && o.result.rv == 0;
      }
      Vals after;
      if (!poster_returned || !all_zero || !model.allowed(released, &after))
        RC_FAIL(transcript + "after the post the values are " + show_vals(model.vals) +
                " and the model allows the poster returning 0 with: " + model.allowed_sets());
      model.vals = after;
      model.waiting.erase(std::remove_if(model.waiting.begin(), model.waiting.end(),
                                         [&](Waiter const& w) {
                                           return std::find(released.begin(), released.end(), w.worker) !=
                                                  released.end();
                                         }),
                          model.waiting.end());
    }
    // semctl(2) GETALL: the values the model holds (nothing was taken by a waiter that did
    // not return, and no waiter took only part of its needs).
    auto got = fx::sem_getall(semid, kSems);
    if (got[0] != model.vals[0] || got[1] != model.vals[1])
      RC_FAIL(transcript + "GETALL gives [" + std::to_string(got[0]) + ", " + std::to_string(got[1]) +
              "], the model holds " + show_vals(model.vals));
  }
}

}  // namespace

BEHAVIOUR("sysv-sem.interleave.waiters-complete-as-model-predicts", "[posix][interleave]",
          "in any schedule of posts and waits (decrements of one or two semaphores, IPC_NOWAIT) by "
          "2-4 processes, a wait proceeds at once iff all its decrements fit, and after a post the "
          "released waiters are a set whose needs fit together, taken whole, leaving no sleeping "
          "waiter that could proceed",
          "semop(2) DESCRIPTION (sem_op < 0; operations performed atomically); POSIX.1-2017 semop()") {
  interleave::default_rc_params("max_success=100");
  REQUIRE(prop::check("sysv-sem: waiters complete as the all-or-nothing model predicts",
                      [] { run_schedule(Semantics::AllOrNothing); }));
}

BEHAVIOUR("sysv-sem.interleave.waiters-complete-as-model-predicts-can-fail", "[posix][interleave]",
          "the interleaving property for System V semaphores finds a counterexample to a model in "
          "which a waiter proceeds once one of its decrements fits (a partial post completes it)",
          "semop(2) DESCRIPTION (operations performed atomically); POSIX.1-2017 semop()") {
  interleave::default_rc_params("max_success=300 noshrink=1");
  REQUIRE(prop::falsified("sysv-sem: a partial-post model is refuted (a counterexample is expected)",
                          [] { run_schedule(Semantics::Partial); }));
}
