// signal.mask.*: blocking, pending and delivery on unblock.
// Source: signal(7) "Signal mask and pending signals", "Queueing and delivery semantics for
// standard signals"; sigprocmask(2); sigpending(2); POSIX.1-2017 sigprocmask().
// Every scenario that changes the mask or a disposition runs in a forked child (the test
// process keeps its signal state) and reports through fx::Shared memory.
#include "fx/fx.hpp"

#include <signal.h>
#include <unistd.h>

using namespace fx;

namespace {
struct PendingReport {
  bool pending_while_blocked = false;
  int count_while_blocked = -1;
  int count_after_unblock = -1;  // read right after sigprocmask returned
  bool pending_after_unblock = true;
};

// Blocks SIGUSR1, sends it `times` times to itself, then unblocks it.
PendingReport block_send_unblock(int times) {
  Shared<PendingReport> rep;
  auto st = run_in_child([&] {
    reset_signals();
    SignalCounter counter(SIGUSR1);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
    for (int i = 0; i < times; ++i) ::kill(::getpid(), SIGUSR1);
    rep->pending_while_blocked = is_pending(SIGUSR1);
    rep->count_while_blocked = counter.count();
    ::sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
    rep->count_after_unblock = counter.count();
    rep->pending_after_unblock = is_pending(SIGUSR1);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  return *rep;
}
}  // namespace

BEHAVIOUR("signal.mask.blocked-signal-stays-pending", "[posix]",
          "a signal sent while blocked is not delivered and shows in sigpending",
          "signal(7) Signal mask and pending signals; sigpending(2) DESCRIPTION") {
  auto r = block_send_unblock(1);
  REQUIRE(r.pending_while_blocked);
  REQUIRE(r.count_while_blocked == 0);
}

BEHAVIOUR("signal.mask.pending-signal-delivered-before-unblock-returns", "[posix]",
          "unblocking a pending signal delivers it before sigprocmask returns, and it is no longer pending",
          "POSIX.1-2017 sigprocmask() DESCRIPTION (at least one pending unblocked signal is delivered before "
          "the call returns); signal(7) Signal mask and pending signals") {
  auto r = block_send_unblock(1);
  REQUIRE(r.pending_while_blocked);
  REQUIRE(r.count_after_unblock == 1);
  REQUIRE_FALSE(r.pending_after_unblock);
}

BEHAVIOUR("signal.mask.standard-signal-sent-thrice-while-blocked-delivered-once", "[posix]",
          "a standard signal sent several times while blocked is pending once and delivered once",
          "signal(7) Queueing and delivery semantics for standard signals; POSIX.1-2017 2.4.1 Signal Generation "
          "and Delivery") {
  auto r = block_send_unblock(3);
  REQUIRE(r.pending_while_blocked);
  REQUIRE(r.count_while_blocked == 0);
  REQUIRE(r.count_after_unblock == 1);
}

BEHAVIOUR("signal.mask.sigkill-sigstop-silently-not-blocked", "[posix]",
          "sigprocmask asked to block SIGKILL and SIGSTOP succeeds but leaves them out of the mask",
          "sigprocmask(2) NOTES ('It is not possible to block SIGKILL or SIGSTOP. Attempts to do so are "
          "silently ignored.'); POSIX.1-2017 sigprocmask() DESCRIPTION") {
  struct R {
    long block_rv = -2, setmask_rv = -2;
    bool kill_after_block = true, stop_after_block = true, usr1_after_block = false;
    bool kill_after_setmask = true, stop_after_setmask = true, usr2_after_setmask = false;
  };
  Shared<R> rep;
  auto st = run_in_child([&] {
    reset_signals();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGKILL);
    sigaddset(&set, SIGSTOP);
    sigaddset(&set, SIGUSR1);
    rep->block_rv = ::sigprocmask(SIG_BLOCK, &set, nullptr);
    rep->kill_after_block = is_blocked(SIGKILL);
    rep->stop_after_block = is_blocked(SIGSTOP);
    rep->usr1_after_block = is_blocked(SIGUSR1);
    sigfillset(&set);
    rep->setmask_rv = ::sigprocmask(SIG_SETMASK, &set, nullptr);
    rep->kill_after_setmask = is_blocked(SIGKILL);
    rep->stop_after_setmask = is_blocked(SIGSTOP);
    rep->usr2_after_setmask = is_blocked(SIGUSR2);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->block_rv == 0);
  REQUIRE(rep->usr1_after_block);  // the call did take effect for the others
  REQUIRE_FALSE(rep->kill_after_block);
  REQUIRE_FALSE(rep->stop_after_block);
  REQUIRE(rep->setmask_rv == 0);
  REQUIRE(rep->usr2_after_setmask);
  REQUIRE_FALSE(rep->kill_after_setmask);
  REQUIRE_FALSE(rep->stop_after_setmask);
}

BEHAVIOUR("signal.mask.sigkill-kills-despite-full-mask", "[posix]",
          "a process that blocked every signal it can is still terminated by SIGKILL",
          "signal(7) Standard signals (SIGKILL cannot be caught, blocked, or ignored); sigprocmask(2) NOTES") {
  Checkpoints cp;
  auto child = Child::fork([&] {
    reset_signals();
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    cp.wake(0);
    for (;;) ::pause();
  });
  REQUIRE(cp.wait(0));
  REQUIRE(wait_blocked(child.pid(), SYS_pause));
  child.signal(SIGKILL);
  REQUIRE_THAT(child.wait(), KilledBy(SIGKILL));
}
