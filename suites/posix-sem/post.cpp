// posix-sem.post.*: sem_post. Sources: sem_post(3), sem_getvalue(3); POSIX.1-2017 sem_post().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <climits>

using namespace fx;

BEHAVIOUR("posix-sem.post.increments-value", "[posix]",
          "sem_post increments the value that sem_getvalue reports",
          "sem_post(3) DESCRIPTION; sem_getvalue(3); POSIX.1-2017 sem_post()") {
  auto s = make_named_sem(0);
  REQUIRE_THAT(sys(::sem_post(s.get())), Returns(0));
  REQUIRE_THAT(sys(::sem_post(s.get())), Returns(0));
  int v = -1;
  REQUIRE_THAT(sys(::sem_getvalue(s.get(), &v)), Returns(0));
  REQUIRE(v == 2);
}

BEHAVIOUR("posix-sem.post.at-sem-value-max-fails-eoverflow", "[linux-specific]",
          "sem_post on a semaphore at SEM_VALUE_MAX fails with EOVERFLOW and leaves the value",
          "sem_post(3) ERRORS (EOVERFLOW)") {
  // POSIX lists no error for this case; glibc refuses to wrap.
  auto s = make_named_sem(static_cast<unsigned>(SEM_VALUE_MAX));
  REQUIRE_THAT(sys(::sem_post(s.get())), FailsWith(EOVERFLOW));
  REQUIRE(sem_value(s.get()) == SEM_VALUE_MAX);
}

BEHAVIOUR("posix-sem.post.wakes-one-of-two-waiters", "[posix]",
          "one sem_post with two processes blocked in sem_wait releases exactly one of them",
          "sem_post(3) DESCRIPTION; POSIX.1-2017 sem_post() DESCRIPTION") {
  auto s = make_named_sem(0);
  auto a = Child::fork([sem = s.get()] { return ::sem_wait(sem) == 0 ? 0 : 1; });
  auto b = Child::fork([sem = s.get()] { return ::sem_wait(sem) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(a.pid(), SYS_futex));
  REQUIRE(wait_blocked(b.pid(), SYS_futex));
  REQUIRE(::sem_post(s.get()) == 0);
  // One of them exits; then the other must still be asleep in futex and the value 0.
  REQUIRE(wait_until([&] { return a.exited_yet() || b.exited_yet(); }));
  Child& left = a.exited_yet() ? b : a;
  Child& gone = a.exited_yet() ? a : b;
  REQUIRE_THAT(gone.wait(), ExitedWith(0));
  REQUIRE(wait_blocked(left.pid(), SYS_futex));
  REQUIRE(sem_value(s.get()) == 0);
  REQUIRE(::sem_post(s.get()) == 0);
  REQUIRE_THAT(left.wait(), ExitedWith(0));
}
