// signal.wait.*: accepting signals synchronously with sigwaitinfo and sigtimedwait.
// Source: sigwaitinfo(2); POSIX.1-2017 sigwaitinfo(), sigtimedwait(). Each scenario runs in
// a forked child (which blocks the signal) and reports through fx::Shared memory.
#include "fx/fx.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

using namespace fx;

namespace {
struct WaitReport {
  long rv = -2;
  int err = 0;
  int signo = 0, code = 0;
  pid_t pid = 0;
  uid_t uid = 0;
  int handler_ran = -1;
  bool pending_after = true;
};

void block_usr1() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  ::sigprocmask(SIG_BLOCK, &s, nullptr);
}
}  // namespace

BEHAVIOUR("signal.wait.sigwaitinfo-accepts-signal-with-sender-info", "[posix]",
          "sigwaitinfo sleeps until a blocked signal arrives, returns it with si_signo, si_code SI_USER, "
          "the sender's pid and uid, and consumes it without running the handler",
          "sigwaitinfo(2) DESCRIPTION; sigaction(2) The siginfo_t argument (kill: si_pid, si_uid); "
          "POSIX.1-2017 sigwaitinfo()") {
  Shared<WaitReport> rep;
  auto child = Child::fork([&] {
    reset_signals();
    SignalCounter counter(SIGUSR1);
    block_usr1();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    siginfo_t si{};
    auto r = sys(::sigwaitinfo(&s, &si));
    rep->rv = r.value;
    rep->err = r.err;
    rep->signo = si.si_signo;
    rep->code = si.si_code;
    rep->pid = si.si_pid;
    rep->uid = si.si_uid;
    rep->pending_after = is_pending(SIGUSR1);
    // Unblocking now would run the handler if the signal had not been consumed.
    ::sigprocmask(SIG_UNBLOCK, &s, nullptr);
    rep->handler_ran = counter.count();
  });
  // glibc's sigwaitinfo is rt_sigtimedwait with no timeout.
  REQUIRE(wait_blocked(child.pid(), SYS_rt_sigtimedwait));
  REQUIRE_THAT(sys(::kill(child.pid(), SIGUSR1)), Returns(0));
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(SIGUSR1));
  REQUIRE(rep->signo == SIGUSR1);
  REQUIRE(rep->code == SI_USER);
  REQUIRE(rep->pid == ::getpid());
  REQUIRE(rep->uid == ::getuid());
  REQUIRE_FALSE(rep->pending_after);
  REQUIRE(rep->handler_ran == 0);
}

BEHAVIOUR("signal.wait.sigtimedwait-times-out-eagain", "[posix]",
          "sigtimedwait with no signal arriving within the timeout fails with EAGAIN",
          "sigwaitinfo(2) ERRORS; POSIX.1-2017 sigtimedwait() ERRORS") {
  Shared<WaitReport> rep;
  auto st = run_in_child([&] {
    reset_signals();
    block_usr1();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    timespec ts{0, 20'000'000};
    auto r = sys(::sigtimedwait(&s, nullptr, &ts));
    rep->rv = r.value;
    rep->err = r.err;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), FailsWith(EAGAIN));
}

BEHAVIOUR("signal.wait.sigtimedwait-returns-already-pending-signal", "[posix]",
          "sigtimedwait with a zero timeout returns a signal that is already pending at once",
          "sigwaitinfo(2) DESCRIPTION; POSIX.1-2017 sigtimedwait() DESCRIPTION") {
  Shared<WaitReport> rep;
  auto st = run_in_child([&] {
    reset_signals();
    block_usr1();
    ::raise(SIGUSR1);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    timespec ts{0, 0};
    siginfo_t si{};
    auto r = sys(::sigtimedwait(&s, &si, &ts));
    rep->rv = r.value;
    rep->err = r.err;
    rep->pid = si.si_pid;
    rep->pending_after = is_pending(SIGUSR1);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(SIGUSR1));
  REQUIRE_FALSE(rep->pending_after);
}
