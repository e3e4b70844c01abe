// posix-sem.getvalue.*: the value sem_getvalue reports. Source: sem_getvalue(3);
// POSIX.1-2017 sem_getvalue().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

using namespace fx;

BEHAVIOUR("posix-sem.getvalue.zero-while-waiters-block", "[linux-specific]",
          "sem_getvalue reports 0, not minus the number of waiters, while processes are blocked in "
          "sem_wait",
          "sem_getvalue(3) DESCRIPTION (Linux adopts the former behavior)") {
  auto s = make_named_sem(0);
  auto a = Child::fork([sem = s.get()] { return ::sem_wait(sem) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(a.pid(), SYS_futex));
  REQUIRE(sem_value(s.get()) == 0);
  REQUIRE(::sem_post(s.get()) == 0);
  REQUIRE_THAT(a.wait(), ExitedWith(0));
}
