// sysv-sem.undo.*: SEM_UNDO adjustments (semadj) and their application at process exit.
// Source: semop(2) DESCRIPTION and NOTES; semctl(2) SETVAL/SETALL; POSIX.1-2017 semop(),
// exit(), fork(), exec.
#include "fx/fx.hpp"
#include "fx/sysv_sem.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/sem.h>
#include <unistd.h>

#include <vector>

using namespace fx;

BEHAVIOUR("sysv-sem.undo.decrement-undone-at-exit", "[posix]",
          "a decrement made with SEM_UNDO is added back when the process exits",
          "semop(2) DESCRIPTION (SEM_UNDO), NOTES (semadj added at termination); POSIX.1-2017 "
          "semop() DESCRIPTION, exit()") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 5);
  Checkpoints cp;
  auto child = Child::fork([&, id] {
    if (sem_op(id, 0, -2, SEM_UNDO) != 0) return 10;
    cp.wake(0);
    return cp.wait(1) ? 0 : 11;
  });
  REQUIRE(cp.wait(0));
  REQUIRE(sem_getval(id, 0) == 3);
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(sem_getval(id, 0) == 5);
}

BEHAVIOUR("sysv-sem.undo.decrement-undone-when-killed", "[posix]",
          "a decrement made with SEM_UNDO is added back when the process is killed by SIGKILL",
          "semop(2) DESCRIPTION (undone when the process terminates), NOTES; POSIX.1-2017 semop()") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 1);
  Checkpoints cp;
  auto child = Child::fork([&, id] {
    if (sem_op(id, 0, -1, SEM_UNDO) != 0) return 10;
    cp.wake(0);
    for (;;) ::pause();
  });
  REQUIRE(cp.wait(0));
  REQUIRE(sem_getval(id, 0) == 0);
  child.signal(SIGKILL);
  REQUIRE_THAT(child.wait(), KilledBy(SIGKILL));
  REQUIRE(sem_getval(id, 0) == 1);
}

BEHAVIOUR("sysv-sem.undo.increment-undone-at-exit", "[posix]",
          "an increment made with SEM_UNDO is subtracted again when the process exits",
          "semop(2) DESCRIPTION (sem_op positive with SEM_UNDO subtracts from semadj); "
          "POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 1);
  Checkpoints cp;
  auto child = Child::fork([&, id] {
    if (sem_op(id, 0, 3, SEM_UNDO) != 0) return 10;
    cp.wake(0);
    return cp.wait(1) ? 0 : 11;
  });
  REQUIRE(cp.wait(0));
  REQUIRE(sem_getval(id, 0) == 4);
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(sem_getval(id, 0) == 1);
}

BEHAVIOUR("sysv-sem.undo.adjustments-add-up", "[posix]",
          "the adjustments of several SEM_UNDO operations on a semaphore add up, and only they "
          "are undone at exit (operations without SEM_UNDO stay)",
          "semop(2) NOTES (semadj is the negated sum of all operations with SEM_UNDO); "
          "POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(2);
  int id = set.get();
  sem_setall(id, {10, 10});
  auto st = run_in_child([id] {
    if (sem_op(id, 0, -3, SEM_UNDO) != 0) return 10;
    if (sem_op(id, 0, +1, SEM_UNDO) != 0) return 11;
    struct sembuf two[2] = {{0, -4, SEM_UNDO}, {1, -2, SEM_UNDO}};
    if (::semop(id, two, 2) != 0) return 12;
    if (sem_op(id, 0, -1, 0) != 0) return 13;  // not undone
    if (sem_op(id, 1, +5, 0) != 0) return 14;  // not undone
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  // Semaphore 0: 10 - 3 + 1 - 4 - 1 = 3 before exit, semadj +6; semaphore 1: 10 - 2 + 5 = 13,
  // semadj +2.
  REQUIRE(sem_getall(id, 2) == std::vector<unsigned short>{9, 15});
}

BEHAVIOUR("sysv-sem.undo.setval-clears-adjustment", "[posix]",
          "SETVAL clears every process's adjustment for that semaphore: the value set stays after "
          "the process that had one exits",
          "semop(2) NOTES (SETVAL/SETALL clear semadj); semctl(2) SETVAL (undo entries are "
          "cleared); POSIX.1-2017 semctl() SETVAL") {
  auto set = make_sem_set(2);
  int id = set.get();
  sem_setall(id, {5, 5});
  Checkpoints cp;
  auto child = Child::fork([&, id] {
    struct sembuf both[2] = {{0, -1, SEM_UNDO}, {1, -1, SEM_UNDO}};
    if (::semop(id, both, 2) != 0) return 10;
    cp.wake(0);
    return cp.wait(1) ? 0 : 11;
  });
  REQUIRE(cp.wait(0));
  sem_setval(id, 0, 7);
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  // Semaphore 0 keeps the value set; semaphore 1, not set, is still undone.
  REQUIRE(sem_getall(id, 2) == std::vector<unsigned short>{7, 5});
}

BEHAVIOUR("sysv-sem.undo.setall-clears-adjustments", "[posix]",
          "SETALL clears every process's adjustments for the set: the values set stay after the "
          "process that had them exits",
          "semctl(2) SETALL (undo entries are cleared); semop(2) NOTES; POSIX.1-2017 semctl() "
          "SETALL") {
  auto set = make_sem_set(2);
  int id = set.get();
  sem_setall(id, {5, 5});
  Checkpoints cp;
  auto child = Child::fork([&, id] {
    struct sembuf both[2] = {{0, -1, SEM_UNDO}, {1, +2, SEM_UNDO}};
    if (::semop(id, both, 2) != 0) return 10;
    cp.wake(0);
    return cp.wait(1) ? 0 : 11;
  });
  REQUIRE(cp.wait(0));
  sem_setall(id, {2, 3});
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(sem_getall(id, 2) == std::vector<unsigned short>{2, 3});
}

BEHAVIOUR("sysv-sem.undo.not-inherited-by-fork", "[posix]",
          "a child made by fork does not inherit its parent's adjustments: its exit undoes nothing",
          "fork(2) (the child does not inherit semaphore adjustments); semop(2) NOTES; "
          "POSIX.1-2017 fork() DESCRIPTION") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 5);
  Shared<int> after_grandchild(-1);
  auto st = run_in_child([&, id] {
    if (sem_op(id, 0, -2, SEM_UNDO) != 0) return 10;
    auto grandchild = Child::fork([] { return 0; });
    if (!grandchild.wait().exited()) return 11;
    *after_grandchild = ::semctl(id, 0, GETVAL);
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  // The grandchild's exit left the value alone; the child's own exit undid its -2.
  REQUIRE(*after_grandchild == 3);
  REQUIRE(sem_getval(id, 0) == 5);
}

BEHAVIOUR("sysv-sem.undo.survives-execve", "[posix]",
          "adjustments are kept across execve and applied when the new program exits, not at exec",
          "semop(2) NOTES (sem_undo structures are inherited across execve); POSIX.1-2017 exec "
          "DESCRIPTION (semadj values inherited)") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 5);
  TempDir dir;
  std::string fifo = dir / "hold";
  make_fifo(fifo);
  auto child = Child::fork([&, id] {
    if (sem_op(id, 0, -2, SEM_UNDO) != 0) return 10;
    // The helper stays alive in open() of the FIFO until the test opens its write end.
    exec_helper({"read-fifo", fifo});
  });
  // Asleep in the helper's open(): the exec has happened.
  REQUIRE(wait_blocked(child.pid(), SYS_openat));
  REQUIRE(sem_getval(id, 0) == 3);
  {
    Fd w(::open(fifo.c_str(), O_WRONLY));
    REQUIRE(w.valid());
  }
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(sem_getval(id, 0) == 5);
}

BEHAVIOUR("sysv-sem.undo.exit-adjustment-clamped-at-zero", "[linux-specific]",
          "an adjustment that would take the value below 0 at exit leaves it at 0",
          "semop(2) BUGS (Linux decreases the value as far as possible, to zero)") {
  auto set = make_sem_set(1);
  int id = set.get();
  Checkpoints cp;
  auto child = Child::fork([&, id] {
    if (sem_op(id, 0, 3, SEM_UNDO) != 0) return 10;  // semadj -3
    cp.wake(0);
    return cp.wait(1) ? 0 : 11;
  });
  REQUIRE(cp.wait(0));
  REQUIRE(sem_op(id, 0, -2) == 0);  // value 1: the -3 cannot be applied in full
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(sem_getval(id, 0) == 0);
}

BEHAVIOUR("sysv-sem.undo.exit-adjustment-wakes-waiter", "[posix]",
          "the adjustment applied at exit wakes a process blocked waiting for the value to increase",
          "semop(2) DESCRIPTION (semval becomes greater than or equal to the absolute value of "
          "sem_op), NOTES (semadj); POSIX.1-2017 semop()") {
  auto set = make_sem_set(1);
  int id = set.get();
  sem_setval(id, 0, 1);
  Checkpoints cp;
  auto holder = Child::fork([&, id] {
    if (sem_op(id, 0, -1, SEM_UNDO) != 0) return 10;
    cp.wake(0);
    return cp.wait(1) ? 0 : 11;
  });
  REQUIRE(cp.wait(0));
  auto waiter = Child::fork([id] { return sem_op(id, 0, -1) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(waiter.pid(), kSemopSyscall));
  REQUIRE(wait_sem_count(id, 0, GETNCNT, 1) == 1);
  cp.wake(1);
  REQUIRE_THAT(holder.wait(), ExitedWith(0));
  REQUIRE_THAT(waiter.wait(), ExitedWith(0));
  REQUIRE(sem_getval(id, 0) == 0);
}
