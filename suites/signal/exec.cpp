// signal.exec.*: which signal state survives execve.
// Source: execve(2) "Effect on process attributes" / signal(7) "Signal dispositions";
// POSIX.1-2017 exec DESCRIPTION. A forked child sets the state, redirects its standard output
// to a file in a TempDir and execs `ipcsuite-helper sigstate SIG`, which prints
// "<default|ignore|handler> <blocked 0|1> <pending 0|1>" as the new image sees it.
#include "fx/fx.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <string>

using namespace fx;

namespace {
void noop_handler(int) {}

void set_disposition(int sig, void (*fn)(int)) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(sig, &sa, nullptr) != 0) ::_exit(kChildException);
}

void block(int sig) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  ::sigprocmask(SIG_BLOCK, &s, nullptr);
}

// The helper's report on sig after a child ran `setup` and exec'd it.
std::string sigstate_after_exec(int sig, std::function<void()> const& setup) {
  TempDir dir;
  std::string const out = dir / "sigstate";
  auto st = run_in_child([&] {
    reset_signals();
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::dup2(fd, 1) != 1) ::_exit(kChildException);
    ::close(fd);
    setup();
    exec_helper({"sigstate", std::to_string(sig)});
  });
  REQUIRE_THAT(st, ExitedWith(0));
  return read_file(out);
}
}  // namespace

BEHAVIOUR("signal.exec.handled-signal-reset-to-default", "[posix]",
          "a signal with a handler before execve has the default disposition in the new program",
          "execve(2) Effect on process attributes (dispositions of caught signals reset to default); "
          "POSIX.1-2017 exec DESCRIPTION") {
  REQUIRE(sigstate_after_exec(SIGUSR1, [] { set_disposition(SIGUSR1, noop_handler); }) == "default 0 0\n");
}

BEHAVIOUR("signal.exec.ignored-signal-stays-ignored", "[posix]",
          "a signal set to SIG_IGN before execve is still ignored in the new program",
          "signal(7) Signal dispositions ('during an execve(2), the dispositions of handled signals are reset "
          "to the default; the dispositions of ignored signals are left unchanged'); POSIX.1-2017 exec DESCRIPTION") {
  REQUIRE(sigstate_after_exec(SIGUSR2, [] { set_disposition(SIGUSR2, SIG_IGN); }) == "ignore 0 0\n");
}

BEHAVIOUR("signal.exec.ignored-sigchld-stays-ignored", "[linux-specific]",
          "SIGCHLD set to SIG_IGN before execve is still ignored in the new program",
          "POSIX.1-2017 exec DESCRIPTION (unspecified for SIGCHLD); signal(7) Signal dispositions") {
  REQUIRE(sigstate_after_exec(SIGCHLD, [] { set_disposition(SIGCHLD, SIG_IGN); }) == "ignore 0 0\n");
}

BEHAVIOUR("signal.exec.mask-preserved", "[posix]",
          "the signal mask is kept across execve",
          "execve(2) Effect on process attributes; signal(7) Signal mask and pending signals; "
          "POSIX.1-2017 exec DESCRIPTION (the new process inherits the signal mask)") {
  REQUIRE(sigstate_after_exec(SIGUSR1, [] { block(SIGUSR1); }) == "default 1 0\n");
}

BEHAVIOUR("signal.exec.pending-signal-preserved", "[posix]",
          "a blocked pending signal is still pending after execve",
          "signal(7) Signal mask and pending signals ('preserved across execve'); "
          "POSIX.1-2017 exec DESCRIPTION (the new process inherits pending signals)") {
  REQUIRE(sigstate_after_exec(SIGUSR1, [] {
            set_disposition(SIGUSR1, noop_handler);
            block(SIGUSR1);
            ::raise(SIGUSR1);
          }) == "default 1 1\n");
}
