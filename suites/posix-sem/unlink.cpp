// posix-sem.unlink.*: removing semaphore names. Sources: sem_unlink(3); POSIX.1-2017 sem_unlink().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>

using namespace fx;

BEHAVIOUR("posix-sem.unlink.open-handles-keep-working", "[posix]",
          "after sem_unlink the name no longer opens, while processes that have the semaphore open "
          "keep posting and waiting on it",
          "sem_unlink(3) DESCRIPTION; POSIX.1-2017 sem_unlink() DESCRIPTION") {
  auto s = make_named_sem(0);
  REQUIRE_THAT(sys(::sem_unlink(s.name.c_str())), Returns(0));
  REQUIRE(::sem_open(s.name.c_str(), 0) == SEM_FAILED);
  REQUIRE(errno == ENOENT);
  auto waiter = Child::fork([sem = s.get()] { return ::sem_wait(sem) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(waiter.pid(), SYS_futex));
  REQUIRE_THAT(sys(::sem_post(s.get())), Returns(0));
  REQUIRE_THAT(waiter.wait(), ExitedWith(0));
}

BEHAVIOUR("posix-sem.unlink.name-reused-makes-a-distinct-semaphore", "[posix]",
          "after sem_unlink, O_CREAT with the same name makes a new semaphore with the new value",
          "sem_unlink(3) DESCRIPTION; POSIX.1-2017 sem_unlink() DESCRIPTION") {
  auto s = make_named_sem(3);
  REQUIRE(::sem_unlink(s.name.c_str()) == 0);
  sem_t* fresh = ::sem_open(s.name.c_str(), O_CREAT | O_EXCL, 0600, 7u);
  REQUIRE(fresh != SEM_FAILED);
  SemHandle h(fresh);
  CHECK(sem_value(h.get()) == 7);
  CHECK(sem_value(s.get()) == 3);
}

BEHAVIOUR("posix-sem.unlink.missing-name-fails-enoent", "[posix]",
          "sem_unlink of a name that names no semaphore fails with ENOENT",
          "sem_unlink(3) ERRORS; POSIX.1-2017 sem_unlink() ERRORS") {
  auto name = fresh_sem_name();
  REQUIRE_THAT(sys(::sem_unlink(name.c_str())), FailsWith(ENOENT));
}
