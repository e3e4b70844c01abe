// signal.action.*: dispositions set with sigaction and what its flags do to delivery.
// Source: sigaction(2); signal(7) "Signal dispositions"; POSIX.1-2017 sigaction(), raise(),
// kill(). Every scenario runs in a forked child (the test process keeps its dispositions)
// and reports through fx::Shared memory; handlers only touch async-signal-safe globals.
#include "fx/fx.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>

using namespace fx;

namespace {
// Per-child globals (each scenario runs in a fresh fork).
std::atomic<int> g_depth{0}, g_max_depth{0}, g_count{0}, g_other{0};
std::atomic<bool> g_pending_in_handler{false}, g_other_pending_in_handler{false};
std::atomic<int> g_other_count_in_handler{-1};

void set_action(int sig, void (*fn)(int), int flags, std::initializer_list<int> mask = {}) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  for (int s : mask) sigaddset(&sa.sa_mask, s);
  if (::sigaction(sig, &sa, nullptr) != 0) ::_exit(kChildException);
}

void count_handler(int) { ++g_count; }
void other_handler(int) { ++g_other; }

// Raises its own signal once from inside the handler, recording whether that nested
// instance ran before raise returned (depth 2) or stayed pending.
void reraising_handler(int sig) {
  int d = ++g_depth;
  if (d > g_max_depth) g_max_depth = d;
  if (++g_count == 1) {
    ::raise(sig);
    g_pending_in_handler = is_pending(sig);
  }
  --g_depth;
}

// SIGUSR1 handler that raises SIGUSR2 and looks whether it was held back.
void usr1_raises_usr2(int) {
  ++g_count;
  ::raise(SIGUSR2);
  g_other_count_in_handler = g_other.load();
  g_other_pending_in_handler = is_pending(SIGUSR2);
}

struct NestReport {
  int max_depth = -1, count = -1;
  bool pending_in_handler = false;
};

NestReport nest_with_flags(int flags) {
  Shared<NestReport> rep;
  auto st = run_in_child([&] {
    reset_signals();
    set_action(SIGUSR1, reraising_handler, flags);
    ::raise(SIGUSR1);
    rep->max_depth = g_max_depth;
    rep->count = g_count;
    rep->pending_in_handler = g_pending_in_handler;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  return *rep;
}

struct ChangeReport {
  long catch_rv = -2, ignore_rv = -2;
  int catch_err = 0, ignore_err = 0;
  bool still_default = false;
};

ChangeReport try_to_change(int sig) {
  Shared<ChangeReport> rep;
  auto st = run_in_child([&] {
    reset_signals();
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = count_handler;
    auto r = sys(::sigaction(sig, &sa, nullptr));
    rep->catch_rv = r.value;
    rep->catch_err = r.err;
    sa.sa_handler = SIG_IGN;
    r = sys(::sigaction(sig, &sa, nullptr));
    rep->ignore_rv = r.value;
    rep->ignore_err = r.err;
    rep->still_default = disposition(sig) == Disposition::Default;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  return *rep;
}
}  // namespace

BEHAVIOUR("signal.action.sigkill-cannot-be-caught-or-ignored", "[posix]",
          "sigaction installing a handler or SIG_IGN for SIGKILL fails with EINVAL and changes nothing",
          "sigaction(2) ERRORS; POSIX.1-2017 sigaction() ERRORS") {
  auto r = try_to_change(SIGKILL);
  REQUIRE_THAT((SysResult{r.catch_rv, r.catch_err}), FailsWith(EINVAL));
  REQUIRE_THAT((SysResult{r.ignore_rv, r.ignore_err}), FailsWith(EINVAL));
  REQUIRE(r.still_default);
}

BEHAVIOUR("signal.action.sigstop-cannot-be-caught-or-ignored", "[posix]",
          "sigaction installing a handler or SIG_IGN for SIGSTOP fails with EINVAL and changes nothing",
          "sigaction(2) ERRORS; POSIX.1-2017 sigaction() ERRORS") {
  auto r = try_to_change(SIGSTOP);
  REQUIRE_THAT((SysResult{r.catch_rv, r.catch_err}), FailsWith(EINVAL));
  REQUIRE_THAT((SysResult{r.ignore_rv, r.ignore_err}), FailsWith(EINVAL));
  REQUIRE(r.still_default);
}

BEHAVIOUR("signal.action.sa-resethand-resets-to-default-after-one-delivery", "[posix]",
          "with SA_RESETHAND the handler runs once, the disposition is then SIG_DFL, and a second "
          "signal takes the default action",
          "sigaction(2) SA_RESETHAND; POSIX.1-2017 sigaction() SA_RESETHAND") {
  struct R { int count = -1; bool default_after = false; };
  Shared<R> rep;
  auto st = run_in_child([&] {
    reset_signals();
    set_action(SIGUSR1, count_handler, SA_RESETHAND);
    ::raise(SIGUSR1);
    rep->count = g_count;
    rep->default_after = disposition(SIGUSR1) == Disposition::Default;
    ::raise(SIGUSR1);  // default action of SIGUSR1: terminate
  });
  REQUIRE(rep->count == 1);
  REQUIRE(rep->default_after);
  REQUIRE_THAT(st, KilledBy(SIGUSR1));
}

BEHAVIOUR("signal.action.signal-blocked-during-its-own-handler", "[posix]",
          "without SA_NODEFER, a signal raised inside its own handler stays pending and is delivered "
          "after the handler returns",
          "sigaction(2) DESCRIPTION (the triggering signal is blocked unless SA_NODEFER); POSIX.1-2017 sigaction()") {
  auto r = nest_with_flags(0);
  REQUIRE(r.pending_in_handler);
  REQUIRE(r.max_depth == 1);
  REQUIRE(r.count == 2);
}

BEHAVIOUR("signal.action.sa-nodefer-allows-nested-delivery", "[posix]",
          "with SA_NODEFER, a signal raised inside its own handler is delivered at once, nested",
          "sigaction(2) SA_NODEFER; POSIX.1-2017 sigaction() SA_NODEFER") {
  auto r = nest_with_flags(SA_NODEFER);
  REQUIRE_FALSE(r.pending_in_handler);
  REQUIRE(r.max_depth == 2);
  REQUIRE(r.count == 2);
}

BEHAVIOUR("signal.action.sa-mask-blocked-during-handler", "[posix]",
          "signals in sa_mask are blocked while the handler runs and delivered once it returns",
          "sigaction(2) DESCRIPTION (sa_mask); POSIX.1-2017 sigaction() DESCRIPTION") {
  struct R { int usr2_in_handler = -2; bool usr2_pending_in_handler = false; int usr2_after = -1; bool usr2_blocked_after = true; };
  Shared<R> rep;
  auto st = run_in_child([&] {
    reset_signals();
    set_action(SIGUSR2, other_handler, 0);
    set_action(SIGUSR1, usr1_raises_usr2, 0, {SIGUSR2});
    ::raise(SIGUSR1);
    rep->usr2_in_handler = g_other_count_in_handler;
    rep->usr2_pending_in_handler = g_other_pending_in_handler;
    rep->usr2_after = g_other;
    rep->usr2_blocked_after = is_blocked(SIGUSR2);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->usr2_in_handler == 0);
  REQUIRE(rep->usr2_pending_in_handler);
  REQUIRE(rep->usr2_after == 1);
  REQUIRE_FALSE(rep->usr2_blocked_after);  // the mask is restored when the handler returns
}

BEHAVIOUR("signal.action.raise-runs-handler-before-returning", "[posix]",
          "raise does not return until the handler it triggered has returned",
          "POSIX.1-2017 raise() DESCRIPTION; raise(3) DESCRIPTION") {
  Shared<int> count(-1);
  auto st = run_in_child([&] {
    reset_signals();
    set_action(SIGUSR1, count_handler, 0);
    ::raise(SIGUSR1);
    *count = g_count;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(*count == 1);
}

BEHAVIOUR("signal.action.kill-to-self-delivers-before-returning", "[posix]",
          "kill of the calling single-threaded process with an unblocked signal delivers it before kill returns",
          "POSIX.1-2017 kill() DESCRIPTION (delivered to the sending thread before kill() returns)") {
  Shared<int> count(-1);
  auto st = run_in_child([&] {
    reset_signals();
    set_action(SIGUSR1, count_handler, 0);
    ::kill(::getpid(), SIGUSR1);
    *count = g_count;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(*count == 1);
}

BEHAVIOUR("signal.action.ignoring-a-pending-signal-discards-it", "[posix]",
          "setting SIG_IGN for a blocked pending signal discards it: it is no longer pending and never delivered",
          "POSIX.1-2017 2.4.3 Signal Actions (SIG_IGN: a pending signal is discarded, whether or not it is "
          "blocked); signal(7)") {
  struct R { bool pending_before = false, pending_after_ign = true; int delivered = -1; };
  Shared<R> rep;
  auto st = run_in_child([&] {
    reset_signals();
    set_action(SIGUSR1, count_handler, 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
    ::raise(SIGUSR1);
    rep->pending_before = is_pending(SIGUSR1);
    set_action(SIGUSR1, SIG_IGN, 0);
    rep->pending_after_ign = is_pending(SIGUSR1);
    set_action(SIGUSR1, count_handler, 0);
    ::sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
    rep->delivered = g_count;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->pending_before);
  REQUIRE_FALSE(rep->pending_after_ign);
  REQUIRE(rep->delivered == 0);
}

BEHAVIOUR("signal.action.blocked-ignored-signal-stays-pending", "[linux-specific]",
          "a signal that is both ignored and blocked when sent is kept pending, and discarded when unblocked",
          "POSIX.1-2017 2.4.1 Signal Generation and Delivery (unspecified whether discarded or pending); "
          "signal(7) Signal mask and pending signals") {
  struct R { bool pending_while_blocked = false, pending_after_unblock = true; };
  Shared<R> rep;
  auto st = run_in_child([&] {
    reset_signals();
    set_action(SIGUSR1, SIG_IGN, 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
    ::raise(SIGUSR1);
    rep->pending_while_blocked = is_pending(SIGUSR1);
    ::sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
    rep->pending_after_unblock = is_pending(SIGUSR1);
  });
  // Had the ignored signal been acted on as anything but ignored, the child would be dead.
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->pending_while_blocked);
  REQUIRE_FALSE(rep->pending_after_unblock);
}
