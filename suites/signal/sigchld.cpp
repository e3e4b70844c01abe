// signal.sigchld.*: SIGCHLD, zombies and the flags that change them.
// Source: signal(7); sigaction(2) SA_NOCLDSTOP, SA_NOCLDWAIT and "The siginfo_t argument";
// wait(2) NOTES; POSIX.1-2017 2.4.3 Signal Actions (SIGCHLD SIG_IGN), sigaction().
// Each scenario runs in a forked child (which changes its SIGCHLD state and has children of
// its own) and reports through fx::Shared memory.
#include "fx/fx.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

using namespace fx;

namespace {
void noop_handler(int) {}

struct ChldInfo {
  long rv = -2;
  int err = 0;
  int signo = 0, code = 0, status = 0;
  pid_t pid = 0, expected_pid = -1;
};

// Waits up to `d` for SIGCHLD (blocked by the caller) and records its siginfo.
void take_sigchld(ChldInfo& r, Deadline d = deadline()) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(d.remaining()).count();
  timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
  siginfo_t si{};
  auto res = sys(::sigtimedwait(&chld, &si, &ts));
  r.rv = res.value;
  r.err = res.err;
  r.signo = si.si_signo;
  r.code = si.si_code;
  r.status = si.si_status;
  r.pid = si.si_pid;
}

void block_sigchld() {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
}

void set_sigchld(void (*fn)(int), int flags) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGCHLD, &sa, nullptr) != 0) ::_exit(kChildException);
}

struct AutoReap {
  long wait_rv = -2;
  int wait_err = 0;
  int kill_err = 0;
  pid_t grandchild = 0;
};

// A child sets SIGCHLD up with `setup`, forks a grandchild that exits 0 when released at
// checkpoint 1, and calls waitpid on it. The test sees it asleep in wait4, releases the
// grandchild, and gets the waitpid result.
AutoReap wait_for_autoreaped(void (*setup)()) {
  Shared<AutoReap> rep;
  Checkpoints cp;
  auto child = Child::fork([&] {
    reset_signals();
    setup();
    pid_t g = ::fork();
    if (g < 0) return 1;
    if (g == 0) ::_exit(cp.wait(1) ? 0 : 1);
    rep->grandchild = g;
    cp.wake(0);
    int st = 0;
    auto r = sys(::waitpid(g, &st, 0));
    rep->wait_rv = r.value;
    rep->wait_err = r.err;
    rep->kill_err = ::kill(g, 0) == -1 ? errno : 0;
    return 0;
  });
  REQUIRE(cp.wait(0));
  // POSIX: with SIGCHLD ignored, a wait blocks until all children have terminated, then fails.
  REQUIRE(wait_blocked(child.pid(), SYS_wait4));
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  return *rep;
}
}  // namespace

BEHAVIOUR("signal.sigchld.child-exit-sends-sigchld-with-cld-exited", "[posix]",
          "a child's exit sends its parent SIGCHLD with si_code CLD_EXITED, the child's pid and exit status",
          "sigaction(2) The siginfo_t argument (SIGCHLD fills si_pid, si_uid, si_status); signal(7) Standard "
          "signals; POSIX.1-2017 <signal.h> (CLD_EXITED)") {
  Shared<ChldInfo> rep;
  auto st = run_in_child([&] {
    reset_signals();
    block_sigchld();
    pid_t g = ::fork();
    if (g == 0) ::_exit(7);
    rep->expected_pid = g;
    take_sigchld(*rep);
    ::waitpid(g, nullptr, 0);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(SIGCHLD));
  REQUIRE(rep->code == CLD_EXITED);
  REQUIRE(rep->pid == rep->expected_pid);
  REQUIRE(rep->status == 7);
}

BEHAVIOUR("signal.sigchld.killed-child-sends-cld-killed-with-signal", "[posix]",
          "a child killed by a signal sends SIGCHLD with si_code CLD_KILLED and si_status the signal number",
          "sigaction(2) The siginfo_t argument; POSIX.1-2017 <signal.h> (CLD_KILLED)") {
  Shared<ChldInfo> rep;
  auto st = run_in_child([&] {
    reset_signals();
    block_sigchld();
    pid_t g = ::fork();
    if (g == 0) {
      for (;;) ::pause();
    }
    rep->expected_pid = g;
    ::kill(g, SIGTERM);
    take_sigchld(*rep);
    ::waitpid(g, nullptr, 0);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(SIGCHLD));
  REQUIRE(rep->code == CLD_KILLED);
  REQUIRE(rep->pid == rep->expected_pid);
  REQUIRE(signal_name(rep->status) == signal_name(SIGTERM));
}

BEHAVIOUR("signal.sigchld.exited-child-is-zombie-until-waited", "[posix]",
          "a child that has exited stays a zombie (state Z) until its parent waits for it, and is gone after",
          "wait(2) NOTES ('A child that terminates, but has not been waited for becomes a \"zombie\"'); "
          "proc(5) /proc/pid/stat") {
  auto child = Child::fork([] { return 0; });
  // Polls the state with a deadline: the child's exit is asynchronous to the test.
  REQUIRE(wait_until([&] { return proc_state(child.pid()) == 'Z'; }));
  pid_t const pid = child.pid();
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(proc_state(pid) == '?');
}

BEHAVIOUR("signal.sigchld.ignored-sigchld-reaps-children", "[posix]",
          "with SIGCHLD set to SIG_IGN, waitpid blocks until the child terminates, then fails with ECHILD "
          "and no zombie is left",
          "POSIX.1-2017 2.4.3 Signal Actions (SIGCHLD SIG_IGN); wait(2) NOTES; signal(7)") {
  auto r = wait_for_autoreaped([] { set_sigchld(SIG_IGN, 0); });
  REQUIRE_THAT((SysResult{r.wait_rv, r.wait_err}), FailsWith(ECHILD));
  REQUIRE(errno_name(r.kill_err) == errno_name(ESRCH));
}

BEHAVIOUR("signal.sigchld.sa-nocldwait-reaps-children", "[posix]",
          "with SA_NOCLDWAIT on a SIGCHLD handler, waitpid blocks until the child terminates, then fails "
          "with ECHILD and no zombie is left",
          "sigaction(2) SA_NOCLDWAIT; wait(2) NOTES; POSIX.1-2017 sigaction() SA_NOCLDWAIT") {
  auto r = wait_for_autoreaped([] { set_sigchld(noop_handler, SA_NOCLDWAIT); });
  REQUIRE_THAT((SysResult{r.wait_rv, r.wait_err}), FailsWith(ECHILD));
  REQUIRE(errno_name(r.kill_err) == errno_name(ESRCH));
}

BEHAVIOUR("signal.sigchld.sa-nocldwait-still-sends-sigchld", "[linux-specific]",
          "with SA_NOCLDWAIT on a SIGCHLD handler, a child's exit still sends SIGCHLD",
          "sigaction(2) SA_NOCLDWAIT (POSIX leaves it unspecified; 'On Linux, a SIGCHLD signal is generated')") {
  Shared<ChldInfo> rep;
  auto st = run_in_child([&] {
    reset_signals();
    set_sigchld(noop_handler, SA_NOCLDWAIT);
    block_sigchld();
    pid_t g = ::fork();
    if (g == 0) ::_exit(4);
    rep->expected_pid = g;
    take_sigchld(*rep);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(SIGCHLD));
  REQUIRE(rep->code == CLD_EXITED);
  REQUIRE(rep->pid == rep->expected_pid);
}

BEHAVIOUR("signal.sigchld.child-stop-sends-cld-stopped", "[posix]",
          "without SA_NOCLDSTOP, a child stopped by SIGSTOP sends SIGCHLD with si_code CLD_STOPPED",
          "sigaction(2) SA_NOCLDSTOP and The siginfo_t argument; POSIX.1-2017 sigaction() SA_NOCLDSTOP") {
  Shared<ChldInfo> rep;
  auto st = run_in_child([&] {
    reset_signals();
    set_sigchld(noop_handler, 0);
    block_sigchld();
    pid_t g = ::fork();
    if (g == 0) {
      for (;;) ::pause();
    }
    rep->expected_pid = g;
    ::kill(g, SIGSTOP);
    take_sigchld(*rep);
    ::kill(g, SIGKILL);
    ::waitpid(g, nullptr, 0);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(SIGCHLD));
  REQUIRE(rep->code == CLD_STOPPED);
  REQUIRE(rep->pid == rep->expected_pid);
  REQUIRE(signal_name(rep->status) == signal_name(SIGSTOP));
}

BEHAVIOUR("signal.sigchld.sa-nocldstop-suppresses-stop-notification", "[posix]",
          "with SA_NOCLDSTOP, a child's stop sends no SIGCHLD; its later death still does",
          "sigaction(2) SA_NOCLDSTOP; POSIX.1-2017 sigaction() SA_NOCLDSTOP") {
  Shared<ChldInfo> rep;
  struct Stop { bool stopped = false; };
  Shared<Stop> seen;
  auto st = run_in_child([&] {
    reset_signals();
    set_sigchld(noop_handler, SA_NOCLDSTOP);
    block_sigchld();
    pid_t g = ::fork();
    if (g == 0) {
      for (;;) ::pause();
    }
    rep->expected_pid = g;
    ::kill(g, SIGSTOP);
    int ws = 0;
    seen->stopped = ::waitpid(g, &ws, WUNTRACED) == g && WIFSTOPPED(ws);
    // The stopping task notifies its parent (or not) before it sleeps; SIGKILL's exit
    // notification comes after. SIGCHLD is blocked and a standard signal does not queue
    // (signal(7): only one instance is queued, so the first one's siginfo stays), so
    // CLD_KILLED here means the stop sent nothing.
    ::kill(g, SIGKILL);
    take_sigchld(*rep);
    ::waitpid(g, nullptr, 0);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(seen->stopped);
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(SIGCHLD));
  REQUIRE(rep->code == CLD_KILLED);
  REQUIRE(rep->pid == rep->expected_pid);
}
