// signal.fork.*: the signal state a child of fork starts with.
// Source: fork(2) DESCRIPTION; signal(7) "Signal dispositions", "Signal mask and pending
// signals"; POSIX.1-2017 fork(). A forked child sets the state and forks a grandchild, which
// reports what it sees through fx::Shared memory; the test process keeps its own state.
#include "fx/fx.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace fx;

namespace {
void noop_handler(int) {}

struct Seen {
  bool parent_pending = false;
  bool child_ran = false;
  bool usr1_pending = true, usr1_blocked = false, usr2_blocked = false;
  bool any_pending = true;
  Disposition usr1 = Disposition::Default, usr2 = Disposition::Default;
};

// Child: SIGUSR1 handled, blocked and pending; SIGUSR2 ignored and blocked. Then forks.
Seen seen_by_grandchild() {
  Shared<Seen> rep;
  auto st = run_in_child([&] {
    reset_signals();
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = noop_handler;
    ::sigaction(SIGUSR1, &sa, nullptr);
    sa.sa_handler = SIG_IGN;
    ::sigaction(SIGUSR2, &sa, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::raise(SIGUSR1);
    rep->parent_pending = is_pending(SIGUSR1);
    pid_t g = ::fork();
    if (g < 0) return 1;
    if (g == 0) {
      rep->child_ran = true;
      rep->usr1_pending = is_pending(SIGUSR1);
      sigset_t pend;
      sigemptyset(&pend);
      ::sigpending(&pend);
      rep->any_pending = !sigisemptyset(&pend);
      rep->usr1_blocked = is_blocked(SIGUSR1);
      rep->usr2_blocked = is_blocked(SIGUSR2);
      rep->usr1 = disposition(SIGUSR1);
      rep->usr2 = disposition(SIGUSR2);
      ::_exit(0);
    }
    int gs = 0;
    if (::waitpid(g, &gs, 0) != g || !WIFEXITED(gs) || WEXITSTATUS(gs) != 0) return 3;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->child_ran);
  return *rep;
}
}  // namespace

BEHAVIOUR("signal.fork.child-starts-with-no-pending-signals", "[posix]",
          "a child of fork has an empty set of pending signals, though its parent has one pending",
          "fork(2) DESCRIPTION ('The child's set of pending signals is initially empty'); POSIX.1-2017 fork()") {
  auto s = seen_by_grandchild();
  REQUIRE(s.parent_pending);
  REQUIRE_FALSE(s.usr1_pending);
  REQUIRE_FALSE(s.any_pending);
}

BEHAVIOUR("signal.fork.child-inherits-mask", "[posix]",
          "a child of fork starts with its parent's signal mask",
          "signal(7) Signal mask and pending signals ('A child created via fork(2) inherits a copy of its "
          "parent's signal mask'); POSIX.1-2017 fork()") {
  auto s = seen_by_grandchild();
  REQUIRE(s.usr1_blocked);
  REQUIRE(s.usr2_blocked);
}

BEHAVIOUR("signal.fork.child-inherits-dispositions", "[posix]",
          "a child of fork starts with its parent's dispositions: handled stays handled, ignored stays ignored",
          "signal(7) Signal dispositions ('A child created via fork(2) inherits a copy of its parent's signal "
          "dispositions'); sigaction(2) NOTES") {
  auto s = seen_by_grandchild();
  REQUIRE(to_string(s.usr1) == std::string("handler"));
  REQUIRE(to_string(s.usr2) == std::string("ignore"));
}
