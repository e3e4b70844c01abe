// signal.kill.*: the checks kill makes before sending.
// Source: kill(2) DESCRIPTION and ERRORS; POSIX.1-2017 kill().
#include "fx/fx.hpp"

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace fx;

namespace {
// The real uid of pid from /proc/<pid>/status, or -1.
long real_uid_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Uid:", 0) == 0) {
      std::istringstream f(line.substr(4));
      long uid = -1;
      f >> uid;
      return uid;
    }
  return -1;
}

// A pid that named our child and has been reaped: nothing owns it now (reuse within the
// test is not a practical concern: Linux hands out pids in increasing order up to pid_max).
pid_t reaped_pid() {
  auto c = Child::fork([] { return 0; });
  pid_t pid = c.pid();
  REQUIRE_THAT(c.wait(), ExitedWith(0));
  return pid;
}
}  // namespace

BEHAVIOUR("signal.kill.missing-pid-fails-esrch", "[posix]",
          "kill to a pid that names no process fails with ESRCH",
          "kill(2) ERRORS; POSIX.1-2017 kill() ERRORS") {
  pid_t gone = reaped_pid();
  REQUIRE_THAT(sys(::kill(gone, SIGUSR1)), FailsWith(ESRCH));
}

BEHAVIOUR("signal.kill.signal-zero-checks-existence", "[posix]",
          "kill with signal 0 sends nothing but succeeds for a live process and fails ESRCH for a gone one",
          "kill(2) DESCRIPTION ('If sig is 0, then no signal is sent, but existence and permission checks are "
          "still performed'); POSIX.1-2017 kill()") {
  Checkpoints cp;
  auto live = Child::fork([&] { return cp.wait(0) ? 0 : 1; });
  REQUIRE_THAT(sys(::kill(live.pid(), 0)), Returns(0));
  cp.wake(0);
  REQUIRE_THAT(live.wait(), ExitedWith(0));  // signal 0 did not disturb it
  pid_t gone = reaped_pid();
  REQUIRE_THAT(sys(::kill(gone, 0)), FailsWith(ESRCH));
}

BEHAVIOUR("signal.kill.invalid-signal-fails-einval", "[posix]",
          "kill with a signal number that does not exist fails with EINVAL",
          "kill(2) ERRORS; POSIX.1-2017 kill() ERRORS") {
  Checkpoints cp;
  auto target = Child::fork([&] { return cp.wait(0) ? 0 : 1; });
  REQUIRE_THAT(sys(::kill(target.pid(), _NSIG + 1)), FailsWith(EINVAL));
  REQUIRE_THAT(sys(::kill(target.pid(), -1)), FailsWith(EINVAL));
  cp.wake(0);
  REQUIRE_THAT(target.wait(), ExitedWith(0));
}

BEHAVIOUR("signal.kill.unprivileged-to-other-users-process-fails-eperm", "[posix][root][unprivileged]",
          "an unprivileged process sending a signal to a process of another user fails with EPERM, "
          "and the target receives nothing",
          "kill(2) DESCRIPTION (permission rule) and ERRORS; POSIX.1-2017 kill()") {
  // The target must be one this test may safely signal should the kernel wrongly deliver:
  // a child of the test, owned by root, which requires running as root.
  require_root();
  Checkpoints cp;
  auto target = Child::fork([&] { return cp.wait(0, deadline(fx::kWait * 2)) ? 0 : 1; });
  Shared<SysResult> res(SysResult{-2, 0});
  pid_t const tp = target.pid();
  auto st = run_unprivileged([&] {
    *res = sys(::kill(tp, SIGUSR1));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*res, FailsWith(EPERM));
  cp.wake(0);
  REQUIRE_THAT(target.wait(), ExitedWith(0));  // not killed by SIGUSR1
}

BEHAVIOUR("signal.kill.signal-zero-to-other-users-process-fails-eperm", "[posix][unprivileged]",
          "kill with signal 0 from an unprivileged process to another user's process fails with EPERM",
          "kill(2) DESCRIPTION (existence and permission checks with sig 0) and ERRORS; POSIX.1-2017 kill()") {
  if (is_root()) {
    Checkpoints cp;
    auto target = Child::fork([&] { return cp.wait(0, deadline(fx::kWait * 2)) ? 0 : 1; });
    Shared<SysResult> res(SysResult{-2, 0});
    pid_t const tp = target.pid();
    auto st = run_unprivileged([&] {
      *res = sys(::kill(tp, 0));
      return 0;
    });
    REQUIRE_THAT(st, ExitedWith(0));
    REQUIRE_THAT(*res, FailsWith(EPERM));
    cp.wake(0);
    REQUIRE_THAT(target.wait(), ExitedWith(0));
    return;
  }
  // Unprivileged already: pid 1 is a process of another user when it does not run as us.
  // Signal 0 sends nothing, so probing init is harmless.
  long const uid = real_uid_of(1);
  if (uid < 0 || uid == static_cast<long>(::getuid()) || uid == static_cast<long>(::geteuid()))
    skip("no process of another user to probe (pid 1 runs as uid " + std::to_string(uid) + ")");
  REQUIRE_THAT(sys(::kill(1, 0)), FailsWith(EPERM));
}
