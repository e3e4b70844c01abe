// posix-sem.wait.*: sem_wait, sem_trywait and sem_timedwait. Sources: sem_wait(3);
// POSIX.1-2017 sem_wait(), sem_timedwait(); signal(7). glibc's sem_wait sleeps in futex(2).
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <unistd.h>

using namespace fx;

namespace {
// A process-shared unnamed semaphore in memory shared with forked children.
struct SharedSem {
  Shared<sem_t> mem;
  explicit SharedSem(unsigned value) {
    if (::sem_init(mem.get(), 1, value) != 0) throw std::runtime_error("sem_init");
  }
  ~SharedSem() { ::sem_destroy(mem.get()); }
  sem_t* get() const { return mem.get(); }
};
}  // namespace

BEHAVIOUR("posix-sem.wait.zero-value-blocks-until-post", "[posix]",
          "sem_wait on a semaphore of value 0 blocks until sem_post, then decrements it",
          "sem_wait(3) DESCRIPTION; POSIX.1-2017 sem_wait() DESCRIPTION") {
  auto s = make_named_sem(0);
  auto waiter = Child::fork([sem = s.get()] { return ::sem_wait(sem) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(waiter.pid(), SYS_futex));
  REQUIRE_THAT(sys(::sem_post(s.get())), Returns(0));
  REQUIRE_THAT(waiter.wait(), ExitedWith(0));
  REQUIRE(sem_value(s.get()) == 0);
}

BEHAVIOUR("posix-sem.wait.positive-value-decrements-at-once", "[posix]",
          "sem_wait on a semaphore with a positive value decrements it and returns at once",
          "sem_wait(3) DESCRIPTION; POSIX.1-2017 sem_wait() DESCRIPTION") {
  auto s = make_named_sem(2);
  REQUIRE_THAT(sys(::sem_wait(s.get())), Returns(0));
  REQUIRE(sem_value(s.get()) == 1);
}

BEHAVIOUR("posix-sem.wait.trywait-on-zero-fails-eagain", "[posix]",
          "sem_trywait on a semaphore of value 0 fails with EAGAIN; on a positive value it decrements",
          "sem_wait(3) ERRORS; POSIX.1-2017 sem_trywait() ERRORS") {
  auto s = make_named_sem(0);
  REQUIRE_THAT(sys(::sem_trywait(s.get())), FailsWith(EAGAIN));
  REQUIRE(::sem_post(s.get()) == 0);
  REQUIRE_THAT(sys(::sem_trywait(s.get())), Returns(0));
  REQUIRE(sem_value(s.get()) == 0);
}

BEHAVIOUR("posix-sem.wait.timedwait-fails-etimedout-after-deadline", "[posix]",
          "sem_timedwait on a semaphore of value 0 fails with ETIMEDOUT once its absolute deadline "
          "passes, also when it has already passed",
          "sem_wait(3) DESCRIPTION and ERRORS; POSIX.1-2017 sem_timedwait()") {
  auto s = make_named_sem(0);
  timespec past = realtime_in(-1s);
  REQUIRE_THAT(sys(::sem_timedwait(s.get(), &past)), FailsWith(ETIMEDOUT));
  timespec soon = realtime_in(20ms);
  REQUIRE_THAT(sys(::sem_timedwait(s.get(), &soon)), FailsWith(ETIMEDOUT));
  REQUIRE(sem_value(s.get()) == 0);
}

BEHAVIOUR("posix-sem.wait.timedwait-succeeds-when-available-despite-past-deadline", "[posix]",
          "sem_timedwait never times out when the semaphore can be decremented at once",
          "sem_wait(3) DESCRIPTION (If the operation can be performed immediately, then "
          "sem_timedwait() never fails with a timeout error)") {
  auto s = make_named_sem(1);
  timespec past = realtime_in(-1s);
  REQUIRE_THAT(sys(::sem_timedwait(s.get(), &past)), Returns(0));
  REQUIRE(sem_value(s.get()) == 0);
}

BEHAVIOUR("posix-sem.wait.timedwait-bad-nsec-fails-einval-when-it-would-block", "[posix]",
          "sem_timedwait on a semaphore of value 0 with tv_nsec >= 1000 million or < 0 fails with EINVAL",
          "sem_wait(3) ERRORS; POSIX.1-2017 sem_timedwait() ERRORS") {
  // Only the blocking case: POSIX says the timeout "need not be checked" when the semaphore
  // can be locked at once (glibc 2.36 checks it anyway, though sem_wait(3) says it does not).
  auto s = make_named_sem(0);
  timespec big{::time(nullptr) + 60, 1'000'000'000};
  REQUIRE_THAT(sys(::sem_timedwait(s.get(), &big)), FailsWith(EINVAL));
  timespec negative{::time(nullptr) + 60, -1};
  REQUIRE_THAT(sys(::sem_timedwait(s.get(), &negative)), FailsWith(EINVAL));
}

BEHAVIOUR("posix-sem.wait.handler-without-sa-restart-interrupts-eintr", "[posix][signal]",
          "a sem_wait blocked when a handler installed without SA_RESTART runs fails with EINTR "
          "and leaves the value unchanged",
          "sem_wait(3) ERRORS (EINTR); signal(7) Interruption of system calls") {
  SharedSem s(0);
  Checkpoints cp;
  Shared<SysResult> res(SysResult{-2, 0});
  auto waiter = Child::fork([&] {
    struct sigaction sa{};
    sa.sa_handler = [](int) {};
    ::sigaction(SIGUSR1, &sa, nullptr);
    cp.wake(0);
    *res = sys(::sem_wait(s.get()));
  });
  REQUIRE(cp.wait(0));
  REQUIRE(wait_blocked(waiter.pid(), SYS_futex));
  waiter.signal(SIGUSR1);
  REQUIRE_THAT(waiter.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, FailsWith(EINTR));
  REQUIRE(sem_value(s.get()) == 0);
}

BEHAVIOUR("posix-sem.wait.handler-with-sa-restart-restarts", "[linux-specific][signal]",
          "a sem_wait blocked when a handler installed with SA_RESTART runs is restarted and "
          "returns after a later sem_post (Linux 2.6.22 and later)",
          "signal(7) Interruption of system calls (POSIX semaphore interfaces: sem_wait(3))") {
  SharedSem s(0);
  static Checkpoints* handled;  // the child's handler reports through the shared counters
  Checkpoints cp;
  handled = &cp;
  Shared<SysResult> res(SysResult{-2, 0});
  auto waiter = Child::fork([&] {
    struct sigaction sa{};
    sa.sa_handler = [](int) { handled->wake(1); };
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGUSR1, &sa, nullptr);
    cp.wake(0);
    *res = sys(::sem_wait(s.get()));
  });
  REQUIRE(cp.wait(0));
  REQUIRE(wait_blocked(waiter.pid(), SYS_futex));
  waiter.signal(SIGUSR1);
  REQUIRE(cp.wait(1));
  REQUIRE(wait_blocked(waiter.pid(), SYS_futex));
  REQUIRE(::sem_post(s.get()) == 0);
  REQUIRE_THAT(waiter.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, Returns(0));
}
