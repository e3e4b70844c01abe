// sysv-sem.semtimedop.*: semop with a timeout (Linux; not in POSIX).
// Source: semop(2) semtimedop().
#include "fx/fx.hpp"
#include "fx/sysv_sem.hpp"

#include <signal.h>
#include <sys/sem.h>
#include <time.h>

using namespace fx;

namespace {
long long monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}
}  // namespace

BEHAVIOUR("sysv-sem.semtimedop.times-out-with-eagain", "[linux-specific]",
          "semtimedop whose operation cannot proceed fails with EAGAIN once the timeout has "
          "elapsed, not before, and applies nothing",
          "semop(2) semtimedop() (the time limit has been reached: EAGAIN), ERRORS EAGAIN") {
  auto set = make_sem_set(2);
  int id = set.get();
  sem_setval(id, 0, 1);
  struct sembuf ops[2] = {{0, -1, 0}, {1, -1, 0}};
  constexpr long long kTimeoutNs = 150'000'000;
  timespec timeout{0, kTimeoutNs};
  long long start = monotonic_ns();
  auto r = sys(::semtimedop(id, ops, 2, &timeout));
  long long elapsed = monotonic_ns() - start;
  REQUIRE_THAT(r, FailsWith(EAGAIN));
  INFO("returned after " << elapsed << " ns");
  REQUIRE(elapsed >= kTimeoutNs);
  REQUIRE(sem_getall(id, 2) == std::vector<unsigned short>{1, 0});
  REQUIRE_THAT(sys(::semctl(id, 1, GETNCNT)), Returns(0));
}

BEHAVIOUR("sysv-sem.semtimedop.proceeds-at-once-without-waiting", "[linux-specific]",
          "semtimedop whose operations can proceed succeeds at once, the timeout playing no part",
          "semop(2) semtimedop() (the timeout limits only a sleep)") {
  auto set = make_sem_set(1);
  sem_setval(set.get(), 0, 2);
  struct sembuf op {0, -2, 0};
  timespec timeout{0, 1};
  REQUIRE_THAT(sys(::semtimedop(set.get(), &op, 1, &timeout)), Returns(0));
  REQUIRE(sem_getval(set.get(), 0) == 0);
}

BEHAVIOUR("sysv-sem.semtimedop.invalid-timeout-fails-einval", "[linux-specific]",
          "semtimedop with a timeout whose tv_nsec is outside 0..999999999 or whose tv_sec is "
          "negative fails with EINVAL instead of sleeping",
          "semop(2) semtimedop() and ERRORS EINVAL; kernel ipc/sem.c do_semtimedop checks the "
          "timespec (the man page's EINVAL entry does not name the timeout)") {
  auto set = make_sem_set(1);
  struct sembuf op {0, -1, 0};
  timespec nsec_too_big{0, 1'000'000'000};
  timespec nsec_negative{0, -1};
  timespec sec_negative{-1, 0};
  REQUIRE_THAT(sys(::semtimedop(set.get(), &op, 1, &nsec_too_big)), FailsWith(EINVAL));
  REQUIRE_THAT(sys(::semtimedop(set.get(), &op, 1, &nsec_negative)), FailsWith(EINVAL));
  REQUIRE_THAT(sys(::semtimedop(set.get(), &op, 1, &sec_negative)), FailsWith(EINVAL));
  REQUIRE(sem_getval(set.get(), 0) == 0);
}

BEHAVIOUR("sysv-sem.semtimedop.woken-before-timeout-succeeds", "[linux-specific]",
          "semtimedop blocked with a long timeout completes normally when the operation becomes "
          "possible",
          "semop(2) semtimedop() (behaves identically to semop apart from the time limit)") {
  auto set = make_sem_set(1);
  int id = set.get();
  auto child = Child::fork([id] {
    struct sembuf op {0, -1, 0};
    timespec timeout{60, 0};  // far beyond the test's own deadline
    return ::semtimedop(id, &op, 1, &timeout) == 0 ? 0 : 1;
  });
  REQUIRE(wait_blocked(child.pid(), SYS_semtimedop));
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(1));
  REQUIRE(sem_op(id, 0, 1) == 0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(sem_getval(id, 0) == 0);
}
