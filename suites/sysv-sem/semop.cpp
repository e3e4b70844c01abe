// sysv-sem.semop.*: operations on System V semaphores.
// Source: semop(2); POSIX.1-2017 semop().
#include "fx/fx.hpp"
#include "fx/sysv_sem.hpp"

#include <signal.h>
#include <sys/sem.h>
#include <unistd.h>

#include <vector>

using namespace fx;

namespace {
// What a child's semop came back with.
struct OpResult {
  int rv = -2;  // -2: the child never got as far as returning from semop
  int err = 0;
};

void record(OpResult& r, int rv) {
  r.err = rv == -1 ? errno : 0;
  r.rv = rv;
}

void note_signal(int) {}
}  // namespace

BEHAVIOUR("sysv-sem.semop.decrement-below-zero-blocks", "[posix]",
          "a decrement larger than the value blocks (counted in semncnt) until the value is large "
          "enough, then is applied",
          "semop(2) DESCRIPTION (sem_op less than zero); POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 1);
  Shared<OpResult> res;
  auto child = Child::fork([&, id] { record(*res, sem_op(id, 0, -2)); });
  REQUIRE(wait_blocked(child.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(1));
  REQUIRE(sem_getval(id, 0) == 1);
  REQUIRE(sem_op(id, 0, 1) == 0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(res->rv == 0);
  REQUIRE(sem_getval(id, 0) == 0);
}

BEHAVIOUR("sysv-sem.semop.wait-for-zero-blocks-until-zero", "[posix]",
          "an operation of 0 on a nonzero semaphore blocks (counted in semzcnt) until the value "
          "becomes 0",
          "semop(2) DESCRIPTION (sem_op is zero); POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 2);
  Shared<OpResult> res;
  auto child = Child::fork([&, id] { record(*res, sem_op(id, 0, 0)); });
  REQUIRE(wait_blocked(child.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 0, GETZCNT)), Returns(1));
  // Reaching 1 is not enough.
  REQUIRE(sem_op(id, 0, -1) == 0);
  REQUIRE(blocked_state(child.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 0, GETZCNT)), Returns(1));
  REQUIRE(sem_op(id, 0, -1) == 0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(res->rv == 0);
  REQUIRE_THAT(sys(::semctl(id, 0, GETZCNT)), Returns(0));
}

BEHAVIOUR("sysv-sem.semop.wait-for-zero-on-zero-proceeds", "[posix]",
          "an operation of 0 on a semaphore whose value is 0 proceeds at once",
          "semop(2) DESCRIPTION (if semval is zero, the operation can immediately proceed); "
          "POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  REQUIRE_THAT(sys(sem_op(set.get(), 0, 0)), Returns(0));
}

BEHAVIOUR("sysv-sem.semop.increment-wakes-only-satisfied-waiters", "[posix]",
          "an increment wakes the blocked decrementers it satisfies; one needing more stays blocked",
          "semop(2) DESCRIPTION (semval becomes greater than or equal to the absolute value of "
          "sem_op); POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  int id = set.get();
  Shared<OpResult> need3, need2;
  auto c3 = Child::fork([&, id] { record(*need3, sem_op(id, 0, -3)); });
  REQUIRE(wait_blocked(c3.pid(), kSemopSyscall));
  auto c2 = Child::fork([&, id] { record(*need2, sem_op(id, 0, -2)); });
  REQUIRE(wait_blocked(c2.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(2));

  REQUIRE(sem_op(id, 0, 2) == 0);
  REQUIRE_THAT(c2.wait(), ExitedWith(0));
  REQUIRE(need2->rv == 0);
  // The one needing 3 is still asleep in semop, and still counted.
  REQUIRE(blocked_state(c3.pid(), kSemopSyscall));
  REQUIRE(need3->rv == -2);
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(1));
  REQUIRE(sem_getval(id, 0) == 0);

  REQUIRE(sem_op(id, 0, 3) == 0);
  REQUIRE_THAT(c3.wait(), ExitedWith(0));
  REQUIRE(need3->rv == 0);
  REQUIRE(sem_getval(id, 0) == 0);
}

BEHAVIOUR("sysv-sem.semop.nowait-decrement-fails-eagain", "[posix]",
          "with IPC_NOWAIT, a decrement that would block fails with EAGAIN and changes nothing",
          "semop(2) DESCRIPTION (IPC_NOWAIT), ERRORS EAGAIN; POSIX.1-2017 semop() ERRORS") {
  auto set = make_sem_set(1);
  sem_setval(set.get(), 0, 1);
  REQUIRE_THAT(sys(sem_op(set.get(), 0, -2, IPC_NOWAIT)), FailsWith(EAGAIN));
  REQUIRE(sem_getval(set.get(), 0) == 1);
  REQUIRE_THAT(sys(::semctl(set.get(), 0, GETNCNT)), Returns(0));
}

BEHAVIOUR("sysv-sem.semop.nowait-wait-for-zero-fails-eagain", "[posix]",
          "with IPC_NOWAIT, a wait-for-zero on a nonzero semaphore fails with EAGAIN",
          "semop(2) DESCRIPTION (sem_op is zero, IPC_NOWAIT), ERRORS EAGAIN; POSIX.1-2017 semop()") {
  auto set = make_sem_set(1);
  sem_setval(set.get(), 0, 1);
  REQUIRE_THAT(sys(sem_op(set.get(), 0, 0, IPC_NOWAIT)), FailsWith(EAGAIN));
  REQUIRE(sem_getval(set.get(), 0) == 1);
  REQUIRE_THAT(sys(::semctl(set.get(), 0, GETZCNT)), Returns(0));
}

BEHAVIOUR("sysv-sem.semop.multiple-ops-nowait-all-or-none", "[posix]",
          "when a later operation of a call cannot proceed (IPC_NOWAIT: EAGAIN), none of the "
          "earlier operations of that call is applied",
          "semop(2) DESCRIPTION (performed atomically; none of the operations in sops is "
          "performed); POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(3);
  int id = set.get();
  sem_setall(id, {5, 1, 0});
  struct sembuf ops[3] = {
      {0, -2, 0},           // could proceed alone
      {1, +4, 0},           // could proceed alone
      {2, -1, IPC_NOWAIT},  // cannot
  };
  REQUIRE_THAT(sys(::semop(id, ops, 3)), FailsWith(EAGAIN));
  REQUIRE(sem_getall(id, 3) == std::vector<unsigned short>{5, 1, 0});
  // The same call succeeds as a whole once the last operation can proceed.
  sem_setval(id, 2, 1);
  REQUIRE_THAT(sys(::semop(id, ops, 3)), Returns(0));
  REQUIRE(sem_getall(id, 3) == std::vector<unsigned short>{3, 5, 0});
}

BEHAVIOUR("sysv-sem.semop.multiple-ops-blocked-apply-nothing-while-waiting", "[posix]",
          "while a call sleeps because a later operation cannot proceed, the effect of its earlier "
          "operations is not visible; when it completes all are applied",
          "semop(2) DESCRIPTION (performed atomically, as a complete unit or not at all); "
          "POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(2);
  int id = set.get();
  sem_setall(id, {1, 0});
  Shared<OpResult> res;
  auto child = Child::fork([&, id] {
    struct sembuf ops[2] = {{0, -1, 0}, {1, -1, 0}};
    record(*res, ::semop(id, ops, 2));
  });
  REQUIRE(wait_blocked(child.pid(), kSemopSyscall));
  REQUIRE(sem_getall(id, 2) == std::vector<unsigned short>{1, 0});
  // The sleeper holds nothing: another process can still take semaphore 0 and give it back.
  REQUIRE(sem_op(id, 0, -1, IPC_NOWAIT) == 0);
  REQUIRE(sem_op(id, 0, 1) == 0);
  REQUIRE(blocked_state(child.pid(), kSemopSyscall));
  REQUIRE(sem_op(id, 1, 1) == 0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(res->rv == 0);
  REQUIRE(sem_getall(id, 2) == std::vector<unsigned short>{0, 0});
}

BEHAVIOUR("sysv-sem.semop.ops-apply-in-array-order", "[posix]",
          "the operations of one call apply in array order: a wait-for-zero after a decrement to "
          "0 of the same semaphore proceeds",
          "semop(2) DESCRIPTION (performed in array order); POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 1);
  struct sembuf wait_then_take[2] = {{0, 0, IPC_NOWAIT}, {0, -1, IPC_NOWAIT}};
  REQUIRE_THAT(sys(::semop(id, wait_then_take, 2)), FailsWith(EAGAIN));
  struct sembuf take_then_wait[2] = {{0, -1, IPC_NOWAIT}, {0, 0, IPC_NOWAIT}};
  REQUIRE_THAT(sys(::semop(id, take_then_wait, 2)), Returns(0));
  REQUIRE(sem_getval(id, 0) == 0);
}

BEHAVIOUR("sysv-sem.semop.nsops-above-semopm-fails-e2big", "[posix]",
          "a call with SEMOPM operations is accepted and with SEMOPM+1 fails with E2BIG",
          "semop(2) ERRORS E2BIG, NOTES Semaphore limits (SEMOPM); proc(5) /proc/sys/kernel/sem; "
          "POSIX.1-2017 semop() ERRORS") {
  long semopm = sem_limits().semopm;
  INFO("SEMOPM " << semopm);
  auto set = make_sem_set(1);
  // Wait-for-zero on a zero semaphore: each operation alone would succeed.
  std::vector<struct sembuf> ops(static_cast<size_t>(semopm + 1), sembuf{0, 0, IPC_NOWAIT});
  REQUIRE_THAT(sys(::semop(set.get(), ops.data(), ops.size())), FailsWith(E2BIG));
  REQUIRE_THAT(sys(::semop(set.get(), ops.data(), ops.size() - 1)), Returns(0));
}

BEHAVIOUR("sysv-sem.semop.zero-nsops-fails-einval", "[linux-specific]",
          "a call with nsops 0 fails with EINVAL",
          "semop(2) ERRORS EINVAL (nsops has a nonpositive value)") {
  auto set = make_sem_set(1);
  struct sembuf op {0, 1, 0};
  REQUIRE_THAT(sys(::semop(set.get(), &op, 0)), FailsWith(EINVAL));
  REQUIRE(sem_getval(set.get(), 0) == 0);
}

BEHAVIOUR("sysv-sem.semop.sem-num-out-of-range-fails-efbig", "[posix]",
          "an operation on sem_num equal to the set's size fails with EFBIG",
          "semop(2) ERRORS EFBIG; POSIX.1-2017 semop() ERRORS") {
  auto set = make_sem_set(2);
  REQUIRE_THAT(sys(sem_op(set.get(), 2, 1)), FailsWith(EFBIG));
  REQUIRE_THAT(sys(sem_op(set.get(), 1, 1)), Returns(0));
  // Together with a valid operation: nothing of the call is applied.
  struct sembuf ops[2] = {{0, 1, 0}, {5, 1, 0}};
  REQUIRE_THAT(sys(::semop(set.get(), ops, 2)), FailsWith(EFBIG));
  REQUIRE(sem_getall(set.get(), 2) == std::vector<unsigned short>{0, 1});
}

BEHAVIOUR("sysv-sem.semop.increment-above-semvmx-fails-erange", "[posix]",
          "an increment that would take the value above SEMVMX fails with ERANGE",
          "semop(2) ERRORS ERANGE (sem_op+semval is greater than SEMVMX); POSIX.1-2017 semop() "
          "ERRORS") {
  auto set = make_sem_set(1);
  sem_setval(set.get(), 0, kSemVmx - 1);
  REQUIRE_THAT(sys(sem_op(set.get(), 0, 2)), FailsWith(ERANGE));
  REQUIRE(sem_getval(set.get(), 0) == kSemVmx - 1);
  REQUIRE_THAT(sys(sem_op(set.get(), 0, 1)), Returns(0));
  REQUIRE(sem_getval(set.get(), 0) == kSemVmx);
}

BEHAVIOUR("sysv-sem.semop.removal-wakes-waiter-with-eidrm", "[posix]",
          "removing the set wakes a process blocked in semop on it with EIDRM",
          "semop(2) DESCRIPTION (the semaphore set is removed), ERRORS EIDRM; semctl(2) IPC_RMID; "
          "POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(2);
  int id = set.get();
  sem_setval(id, 1, 1);
  Shared<OpResult> dec, zero;
  auto c1 = Child::fork([&, id] { record(*dec, sem_op(id, 0, -1)); });
  auto c2 = Child::fork([&, id] { record(*zero, sem_op(id, 1, 0)); });
  REQUIRE(wait_blocked(c1.pid(), kSemopSyscall));
  REQUIRE(wait_blocked(c2.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 0, IPC_RMID)), Returns(0));
  REQUIRE_THAT(c1.wait(), ExitedWith(0));
  REQUIRE_THAT(c2.wait(), ExitedWith(0));
  REQUIRE_THAT((SysResult{dec->rv, dec->err}), FailsWith(EIDRM));
  REQUIRE_THAT((SysResult{zero->rv, zero->err}), FailsWith(EIDRM));
}

BEHAVIOUR("sysv-sem.semop.removed-set-fails-einval", "[linux-specific]",
          "semop on the identifier of a set already removed fails with EINVAL",
          "semop(2) ERRORS EINVAL (the semaphore set doesn't exist)") {
  auto set = make_sem_set(1);
  int id = set.get();
  REQUIRE_THAT(sys(::semctl(id, 0, IPC_RMID)), Returns(0));
  // EIDRM is for a removal while the call sleeps (removal-wakes-waiter-with-eidrm); after
  // removal Linux no longer knows the identifier at all.
  REQUIRE_THAT(sys(sem_op(id, 0, 1)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-sem.semop.caught-signal-interrupts-with-eintr", "[posix][signal]",
          "a caught signal interrupts a blocked semop with EINTR, semncnt goes back down, and "
          "nothing is applied",
          "semop(2) DESCRIPTION (the calling thread catches a signal), ERRORS EINTR; "
          "POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  int id = set.get();
  Shared<OpResult> res;
  auto child = Child::fork([&, id] {
    struct sigaction sa {};
    sa.sa_handler = note_signal;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGUSR1, &sa, nullptr) != 0) return 10;
    record(*res, sem_op(id, 0, -1));
    return 0;
  });
  REQUIRE(wait_blocked(child.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(1));
  child.signal(SIGUSR1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE_THAT((SysResult{res->rv, res->err}), FailsWith(EINTR));
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(0));
  REQUIRE(sem_getval(id, 0) == 0);
}

BEHAVIOUR("sysv-sem.semop.not-restarted-with-sa-restart", "[linux-specific][signal]",
          "a blocked semop interrupted by a handler installed with SA_RESTART still fails with EINTR",
          "signal(7) Interruption of system calls and library functions by signal handlers "
          "(semop never restarted); semop(2) NOTES") {
  auto set = make_sem_set(1);
  int id = set.get();
  Shared<OpResult> res;
  auto child = Child::fork([&, id] {
    struct sigaction sa {};
    sa.sa_handler = note_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGUSR1, &sa, nullptr) != 0) return 10;
    record(*res, sem_op(id, 0, -1));
    return 0;
  });
  REQUIRE(wait_blocked(child.pid(), kSemopSyscall));
  child.signal(SIGUSR1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE_THAT((SysResult{res->rv, res->err}), FailsWith(EINTR));
}

BEHAVIOUR("sysv-sem.semop.without-alter-permission-fails-eacces", "[posix][unprivileged]",
          "a decrement or increment by a process with read but not alter permission fails with EACCES",
          "semop(2) DESCRIPTION (alter permission for sem_op nonzero), ERRORS EACCES; "
          "semctl(2) (write means alter); POSIX.1-2017 semop() ERRORS") {
  auto set = make_sem_set(1);
  sem_setval(set.get(), 0, 1);
  // Read-only for everyone, the owner included (who runs the check when not root).
  sem_set_mode(set.get(), 0444);
  auto st = run_unprivileged([id = set.get()] {
    // Read permission is there: GETVAL works, so the EACCES below is about altering.
    if (::semctl(id, 0, GETVAL) != 1) return 10;
    if (sem_op(id, 0, 1, IPC_NOWAIT) != -1 || errno != EACCES) return 11;
    if (sem_op(id, 0, -1, IPC_NOWAIT) != -1 || errno != EACCES) return 12;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(sem_getval(set.get(), 0) == 1);
}

BEHAVIOUR("sysv-sem.semop.wait-for-zero-needs-only-read-permission", "[posix][unprivileged]",
          "a wait-for-zero operation needs only read permission",
          "semop(2) DESCRIPTION (sem_op is zero: read permission); POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1, IPC_PRIVATE, 0444);
  auto st = run_unprivileged([id = set.get()] {
    if (sem_op(id, 0, 0, IPC_NOWAIT) != 0) return 10 + (errno == EACCES);
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
}

BEHAVIOUR("sysv-sem.semop.without-read-permission-fails-eacces", "[posix][unprivileged]",
          "a wait-for-zero by a process without read permission fails with EACCES",
          "semop(2) DESCRIPTION (sem_op is zero: read permission), ERRORS EACCES; POSIX.1-2017 "
          "semop() ERRORS") {
  auto set = make_sem_set(1, IPC_PRIVATE, 0222);
  auto st = run_unprivileged([id = set.get()] {
    // Alter permission is there, so the id is usable and the EACCES is about reading.
    if (sem_op(id, 0, 1, IPC_NOWAIT) != 0) return 10;
    if (sem_op(id, 0, -1, IPC_NOWAIT) != 0) return 11;
    if (sem_op(id, 0, 0, IPC_NOWAIT) != -1 || errno != EACCES) return 12;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
}
