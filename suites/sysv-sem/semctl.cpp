// sysv-sem.semctl.*: control operations on System V semaphore sets.
// Source: semctl(2); POSIX.1-2017 semctl().
#include "fx/fx.hpp"
#include "fx/sysv_sem.hpp"

#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

using namespace fx;

BEHAVIOUR("sysv-sem.semctl.setval-sets-value-read-by-getval", "[posix]",
          "SETVAL sets one semaphore's value, which GETVAL returns; the others keep theirs",
          "semctl(2) SETVAL, GETVAL; POSIX.1-2017 semctl() DESCRIPTION") {
  auto set = make_sem_set(3);
  semun arg;
  arg.val = 42;
  REQUIRE_THAT(sys(::semctl(set.get(), 1, SETVAL, arg)), Returns(0));
  REQUIRE_THAT(sys(::semctl(set.get(), 1, GETVAL)), Returns(42));
  REQUIRE_THAT(sys(::semctl(set.get(), 0, GETVAL)), Returns(0));
  REQUIRE_THAT(sys(::semctl(set.get(), 2, GETVAL)), Returns(0));
}

BEHAVIOUR("sysv-sem.semctl.setall-sets-values-read-by-getall", "[posix]",
          "SETALL sets every semaphore of the set from an array, which GETALL returns",
          "semctl(2) SETALL, GETALL; POSIX.1-2017 semctl() DESCRIPTION") {
  auto set = make_sem_set(4);
  unsigned short in[4] = {7, 0, kSemVmx, 1};
  semun arg;
  arg.array = in;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, SETALL, arg)), Returns(0));
  unsigned short out[4] = {9, 9, 9, 9};
  arg.array = out;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, GETALL, arg)), Returns(0));
  REQUIRE(std::vector<unsigned short>(out, out + 4) == std::vector<unsigned short>{7, 0, kSemVmx, 1});
  REQUIRE(sem_getval(set.get(), 2) == kSemVmx);
}

BEHAVIOUR("sysv-sem.semctl.getpid-is-last-semop-caller", "[posix]",
          "GETPID returns the process ID of the last process that did a semop on the semaphore",
          "semctl(2) GETPID, The sempid value; semop(2) DESCRIPTION (sempid set to the caller); "
          "POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(2);
  auto child = Child::fork([id = set.get()] { return sem_op(id, 1, 1) == 0 ? 0 : 1; });
  pid_t child_pid = child.pid();
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE_THAT(sys(::semctl(set.get(), 1, GETPID)), Returns(child_pid));
  // Only the semaphore the child operated on records it.
  REQUIRE(::semctl(set.get(), 0, GETPID) != child_pid);
}

BEHAVIOUR("sysv-sem.semctl.setval-sets-sempid", "[linux-specific]",
          "SETVAL records the caller as the semaphore's sempid",
          "semctl(2) NOTES The sempid value (Linux also updates sempid for SETVAL; POSIX says "
          "only semop does)") {
  auto set = make_sem_set(1);
  REQUIRE_THAT(run_in_child([id = set.get()] { return sem_op(id, 0, 1) == 0 ? 0 : 1; }), ExitedWith(0));
  REQUIRE(::semctl(set.get(), 0, GETPID) != ::getpid());
  semun arg;
  arg.val = 5;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, SETVAL, arg)), Returns(0));
  REQUIRE_THAT(sys(::semctl(set.get(), 0, GETPID)), Returns(::getpid()));
}

BEHAVIOUR("sysv-sem.semctl.getncnt-counts-blocked-decrementers", "[posix]",
          "GETNCNT returns the number of processes blocked waiting for the value to increase",
          "semctl(2) GETNCNT; semop(2) DESCRIPTION (semncnt); POSIX.1-2017 semctl() DESCRIPTION") {
  auto set = make_sem_set(2);
  int id = set.get();
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(0));
  auto a = Child::fork([id] { return sem_op(id, 0, -1) == 0 ? 0 : 1; });
  auto b = Child::fork([id] { return sem_op(id, 0, -2) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(a.pid(), kSemopSyscall));
  REQUIRE(wait_blocked(b.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(2));
  // Per semaphore: the other one has no waiters, and waiting to decrement is not waiting for 0.
  REQUIRE_THAT(sys(::semctl(id, 1, GETNCNT)), Returns(0));
  REQUIRE_THAT(sys(::semctl(id, 0, GETZCNT)), Returns(0));
  REQUIRE(sem_op(id, 0, 3) == 0);
  REQUIRE_THAT(a.wait(), ExitedWith(0));
  REQUIRE_THAT(b.wait(), ExitedWith(0));
  REQUIRE_THAT(sys(::semctl(id, 0, GETNCNT)), Returns(0));
}

BEHAVIOUR("sysv-sem.semctl.getzcnt-counts-blocked-zero-waiters", "[posix]",
          "GETZCNT returns the number of processes blocked waiting for the value to become 0",
          "semctl(2) GETZCNT; semop(2) DESCRIPTION (semzcnt); POSIX.1-2017 semctl() DESCRIPTION") {
  auto set = make_sem_set(2);
  int id = set.get();
  sem_setval(id, 1, 1);
  REQUIRE_THAT(sys(::semctl(id, 1, GETZCNT)), Returns(0));
  auto a = Child::fork([id] { return sem_op(id, 1, 0) == 0 ? 0 : 1; });
  auto b = Child::fork([id] { return sem_op(id, 1, 0) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(a.pid(), kSemopSyscall));
  REQUIRE(wait_blocked(b.pid(), kSemopSyscall));
  REQUIRE_THAT(sys(::semctl(id, 1, GETZCNT)), Returns(2));
  REQUIRE_THAT(sys(::semctl(id, 0, GETZCNT)), Returns(0));
  REQUIRE_THAT(sys(::semctl(id, 1, GETNCNT)), Returns(0));
  REQUIRE(sem_op(id, 1, -1) == 0);
  REQUIRE_THAT(a.wait(), ExitedWith(0));
  REQUIRE_THAT(b.wait(), ExitedWith(0));
  REQUIRE_THAT(sys(::semctl(id, 1, GETZCNT)), Returns(0));
}

BEHAVIOUR("sysv-sem.semctl.ipc-stat-reports-nsems", "[posix]",
          "IPC_STAT reports the number of semaphores in the set in sem_nsems",
          "semctl(2) IPC_STAT, sem_nsems; POSIX.1-2017 <sys/sem.h>") {
  auto set = make_sem_set(7);
  struct semid_ds ds {};
  semun arg;
  arg.buf = &ds;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, IPC_STAT, arg)), Returns(0));
  REQUIRE(ds.sem_nsems == 7);
}

BEHAVIOUR("sysv-sem.semctl.ipc-stat-otime-zero-until-first-semop", "[posix]",
          "sem_otime is 0 for a new set, stays 0 after semctl SETVAL, and is set by the first semop",
          "semget(2) DESCRIPTION (sem_otime is set to 0); semop(2) DESCRIPTION (sem_otime set "
          "on success); semctl(2) sem_otime; POSIX.1-2017 semop() DESCRIPTION") {
  auto set = make_sem_set(1);
  REQUIRE(sem_stat(set.get()).sem_otime == 0);
  sem_setval(set.get(), 0, 3);
  REQUIRE(sem_stat(set.get()).sem_otime == 0);
  time_t before = ::time(nullptr);
  REQUIRE(sem_op(set.get(), 0, -1) == 0);
  time_t otime = sem_stat(set.get()).sem_otime;
  REQUIRE(otime >= before);
  REQUIRE(otime <= ::time(nullptr));
}

BEHAVIOUR("sysv-sem.semctl.setval-updates-ctime", "[linux-specific]",
          "SETVAL sets sem_ctime to the current time",
          "semctl(2) SETVAL (updating also the sem_ctime member), sem_ctime") {
  auto set = make_sem_set(1);
  time_t created = sem_stat(set.get()).sem_ctime;
  // sem_ctime counts whole seconds, so the only way to see it change is to let the wall
  // clock pass a second boundary; nothing better exists (at most 1 s, bounded by a deadline).
  REQUIRE(wait_past_second(created));
  time_t before = ::time(nullptr);
  semun arg;
  arg.val = 1;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, SETVAL, arg)), Returns(0));
  time_t ctime = sem_stat(set.get()).sem_ctime;
  REQUIRE(ctime >= before);
  REQUIRE(ctime <= ::time(nullptr));
}

BEHAVIOUR("sysv-sem.semctl.ipc-set-changes-mode", "[posix]",
          "IPC_SET by the owner changes the low 9 bits of sem_perm.mode",
          "semctl(2) IPC_SET; POSIX.1-2017 semctl() IPC_SET") {
  auto set = make_sem_set(1, IPC_PRIVATE, 0600);
  struct semid_ds ds = sem_stat(set.get());
  ds.sem_perm.mode = 0640;
  semun arg;
  arg.buf = &ds;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, IPC_SET, arg)), Returns(0));
  REQUIRE((sem_stat(set.get()).sem_perm.mode & 0777) == 0640);
}

BEHAVIOUR("sysv-sem.semctl.ipc-set-changes-owner-uid-gid", "[posix]",
          "IPC_SET by the owner changes sem_perm.uid and sem_perm.gid, not cuid and cgid",
          "semctl(2) IPC_SET (sem_perm.uid, sem_perm.gid); POSIX.1-2017 semctl() IPC_SET") {
  auto set = make_sem_set(1, IPC_PRIVATE, 0600);
  // Any ids other than the caller's will do: the creator keeps control through cuid.
  uid_t new_uid = ::geteuid() + 1000;
  gid_t new_gid = ::getegid() + 1000;
  struct semid_ds ds = sem_stat(set.get());
  ds.sem_perm.uid = new_uid;
  ds.sem_perm.gid = new_gid;
  semun arg;
  arg.buf = &ds;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, IPC_SET, arg)), Returns(0));
  struct semid_ds after = sem_stat(set.get());
  CHECK(after.sem_perm.uid == new_uid);
  CHECK(after.sem_perm.gid == new_gid);
  CHECK(after.sem_perm.cuid == ::geteuid());
  CHECK(after.sem_perm.cgid == ::getegid());
}

BEHAVIOUR("sysv-sem.semctl.ipc-set-by-non-owner-fails-eperm", "[posix][root][unprivileged]",
          "IPC_SET by a process that is neither owner nor creator (and unprivileged) fails with EPERM",
          "semctl(2) ERRORS EPERM; POSIX.1-2017 semctl() ERRORS") {
  // The set must belong to someone other than the unprivileged caller: only root can arrange
  // that (an unprivileged creator stays creator whatever IPC_SET does to the owner).
  require_root();
  auto set = make_sem_set(1, IPC_PRIVATE, 0666);
  auto st = run_unprivileged([id = set.get()] {
    struct semid_ds ds {};
    semun arg;
    arg.buf = &ds;
    // Read permission is there (mode 0666), so the failure below is about ownership.
    if (::semctl(id, 0, IPC_STAT, arg) != 0) return 10;
    ds.sem_perm.mode = 0600;
    if (::semctl(id, 0, IPC_SET, arg) != -1) return 11;
    return errno == EPERM ? 0 : 12;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE((sem_stat(set.get()).sem_perm.mode & 0777) == 0666);
}

BEHAVIOUR("sysv-sem.semctl.ipc-rmid-removes-set", "[posix]",
          "IPC_RMID removes the set at once: its key no longer names a set",
          "semctl(2) IPC_RMID; POSIX.1-2017 semctl() IPC_RMID") {
  key_t key = fresh_key();
  auto set = make_sem_set(2, key);
  REQUIRE_THAT(sys(::semctl(set.get(), 0, IPC_RMID)), Returns(0));
  REQUIRE_THAT(sys(::semget(key, 0, 0)), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-sem.semctl.removed-set-fails-einval", "[posix]",
          "semctl on the identifier of a removed set fails with EINVAL",
          "semctl(2) ERRORS EINVAL (invalid semid); POSIX.1-2017 semctl() ERRORS EINVAL "
          "(not a valid semaphore identifier)") {
  auto set = make_sem_set(1);
  int id = set.get();
  REQUIRE_THAT(sys(::semctl(id, 0, IPC_RMID)), Returns(0));
  // EIDRM (semctl(2) ERRORS) is for a removal that races with the call; once the removal is
  // complete the identifier is simply invalid.
  REQUIRE_THAT(sys(::semctl(id, 0, GETVAL)), FailsWith(EINVAL));
  struct semid_ds ds {};
  semun arg;
  arg.buf = &ds;
  REQUIRE_THAT(sys(::semctl(id, 0, IPC_STAT, arg)), FailsWith(EINVAL));
  REQUIRE_THAT(sys(::semctl(id, 0, IPC_RMID)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-sem.semctl.setval-above-semvmx-fails-erange", "[posix]",
          "SETVAL of SEMVMX (32767) succeeds and of SEMVMX+1 fails with ERANGE, value unchanged",
          "semctl(2) ERRORS ERANGE, NOTES SEMVMX; POSIX.1-2017 semctl() ERRORS") {
  auto set = make_sem_set(1);
  semun arg;
  arg.val = kSemVmx;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, SETVAL, arg)), Returns(0));
  arg.val = kSemVmx + 1;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, SETVAL, arg)), FailsWith(ERANGE));
  REQUIRE(sem_getval(set.get(), 0) == kSemVmx);
}

BEHAVIOUR("sysv-sem.semctl.setval-negative-fails-erange", "[posix]",
          "SETVAL of a value below 0 fails with ERANGE, value unchanged",
          "semctl(2) ERRORS ERANGE (less than 0); POSIX.1-2017 semctl() ERRORS") {
  auto set = make_sem_set(1);
  sem_setval(set.get(), 0, 4);
  semun arg;
  arg.val = -1;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, SETVAL, arg)), FailsWith(ERANGE));
  REQUIRE(sem_getval(set.get(), 0) == 4);
}

BEHAVIOUR("sysv-sem.semctl.setall-above-semvmx-fails-erange", "[posix]",
          "SETALL with a value above SEMVMX fails with ERANGE",
          "semctl(2) ERRORS ERANGE (SETALL, greater than SEMVMX); POSIX.1-2017 semctl() ERRORS") {
  auto set = make_sem_set(2);
  unsigned short in[2] = {1, kSemVmx + 1};
  semun arg;
  arg.array = in;
  REQUIRE_THAT(sys(::semctl(set.get(), 0, SETALL, arg)), FailsWith(ERANGE));
}

BEHAVIOUR("sysv-sem.semctl.setval-wakes-satisfied-waiter", "[linux-specific]",
          "a SETVAL that lets a blocked semop proceed wakes it, and the operation is applied",
          "semctl(2) SETVAL (blocked semop calls that can proceed are woken up)") {
  auto set = make_sem_set(1);
  int id = set.get();
  auto waiter = Child::fork([id] { return sem_op(id, 0, -2) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(waiter.pid(), kSemopSyscall));
  REQUIRE(wait_sem_count(id, 0, GETNCNT, 1) == 1);
  sem_setval(id, 0, 5);
  REQUIRE_THAT(waiter.wait(), ExitedWith(0));
  REQUIRE(sem_getval(id, 0) == 3);
}

BEHAVIOUR("sysv-sem.semctl.getval-without-read-permission-fails-eacces", "[posix][unprivileged]",
          "GETVAL by a process without read permission on the set fails with EACCES",
          "semctl(2) ERRORS EACCES, GETVAL (read permission); POSIX.1-2017 semctl() ERRORS") {
  // Write-only for everyone: the caller (owner, or "others" after dropping root) may alter
  // but not read.
  auto set = make_sem_set(1, IPC_PRIVATE, 0222);
  auto st = run_unprivileged([id = set.get()] {
    semun arg;
    arg.val = 2;
    if (::semctl(id, 0, SETVAL, arg) != 0) return 10;  // alter is allowed: the id is usable
    if (::semctl(id, 0, GETVAL) != -1) return 11;
    return errno == EACCES ? 0 : 12;
  });
  REQUIRE_THAT(st, ExitedWith(0));
}
