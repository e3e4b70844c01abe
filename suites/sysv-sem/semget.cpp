// sysv-sem.semget.*: creating and looking up System V semaphore sets.
// Source: semget(2); POSIX.1-2017 semget().
#include "fx/fx.hpp"
#include "fx/sysv_sem.hpp"

#include <sys/sem.h>

using namespace fx;

BEHAVIOUR("sysv-sem.semget.create-with-zero-nsems-fails-einval", "[posix]",
          "creating a set with nsems 0 fails with EINVAL",
          "semget(2) DESCRIPTION (nsems must be greater than 0 when creating) and ERRORS EINVAL; "
          "POSIX.1-2017 semget() ERRORS") {
  REQUIRE_THAT(sys(::semget(IPC_PRIVATE, 0, IPC_CREAT | 0600)), FailsWith(EINVAL));
  key_t key = fresh_key();
  REQUIRE_THAT(sys(::semget(key, 0, IPC_CREAT | IPC_EXCL | 0600)), FailsWith(EINVAL));
  // Nothing was created under the key.
  REQUIRE_THAT(sys(::semget(key, 0, 0)), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-sem.semget.negative-nsems-fails-einval", "[posix]",
          "semget with nsems less than 0 fails with EINVAL",
          "semget(2) ERRORS EINVAL (nsems is less than 0); POSIX.1-2017 semget() ERRORS") {
  key_t key = fresh_key();
  REQUIRE_THAT(sys(::semget(key, -1, IPC_CREAT | IPC_EXCL | 0600)), FailsWith(EINVAL));
  REQUIRE_THAT(sys(::semget(key, 0, 0)), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-sem.semget.nsems-above-semmsl-fails-einval", "[posix]",
          "creating a set of SEMMSL semaphores succeeds and of SEMMSL+1 fails with EINVAL",
          "semget(2) ERRORS EINVAL (greater than SEMMSL), NOTES Semaphore limits; "
          "proc(5) /proc/sys/kernel/sem; POSIX.1-2017 semget() ERRORS") {
  long semmsl = sem_limits().semmsl;
  INFO("SEMMSL " << semmsl);
  REQUIRE_THAT(sys(::semget(IPC_PRIVATE, static_cast<int>(semmsl + 1), IPC_CREAT | 0600)),
               FailsWith(EINVAL));
  // The limit itself is accepted: the EINVAL above is about SEMMSL, not some lower bound.
  SemSet at_limit(::semget(IPC_PRIVATE, static_cast<int>(semmsl), IPC_CREAT | 0600));
  if (at_limit.get() < 0 && errno == ENOSPC) skip("SEMMNS leaves no room for a set of SEMMSL semaphores");
  REQUIRE(at_limit.get() >= 0);
  REQUIRE(sem_stat(at_limit.get()).sem_nsems == static_cast<unsigned long>(semmsl));
}

BEHAVIOUR("sysv-sem.semget.existing-set-with-larger-nsems-fails-einval", "[posix]",
          "looking up an existing set with nsems larger than its size fails with EINVAL",
          "semget(2) ERRORS EINVAL (nsems is larger than the number of semaphores in that set); "
          "POSIX.1-2017 semget() ERRORS") {
  key_t key = fresh_key();
  auto set = make_sem_set(3, key);
  REQUIRE_THAT(sys(::semget(key, 4, 0)), FailsWith(EINVAL));
  REQUIRE_THAT(sys(::semget(key, 4, IPC_CREAT | 0600)), FailsWith(EINVAL));
  // Equal or smaller is accepted and names the same set.
  REQUIRE_THAT(sys(::semget(key, 3, 0)), Returns(set.get()));
  REQUIRE_THAT(sys(::semget(key, 1, 0)), Returns(set.get()));
}

BEHAVIOUR("sysv-sem.semget.existing-set-with-zero-nsems-accepted", "[posix]",
          "nsems 0 is a don't-care when the set already exists: semget returns its identifier",
          "semget(2) DESCRIPTION (nsems can be 0 when a set is not being created); "
          "POSIX.1-2017 semget() ERRORS") {
  key_t key = fresh_key();
  auto set = make_sem_set(2, key);
  REQUIRE_THAT(sys(::semget(key, 0, 0)), Returns(set.get()));
  // Also with IPC_CREAT: the set exists, so nothing is created and 0 is still a don't-care.
  REQUIRE_THAT(sys(::semget(key, 0, IPC_CREAT | 0600)), Returns(set.get()));
}

BEHAVIOUR("sysv-sem.semget.new-set-values-are-zero", "[linux-specific]",
          "every semaphore of a newly created set has the value 0",
          "semget(2) NOTES Semaphore initialization (Linux initializes to 0; POSIX leaves the "
          "values indeterminate)") {
  auto set = make_sem_set(5);
  REQUIRE(sem_getall(set.get(), 5) == std::vector<unsigned short>{0, 0, 0, 0, 0});
}

BEHAVIOUR("sysv-sem.semget.create-excl-on-existing-fails-eexist", "[posix]",
          "IPC_CREAT | IPC_EXCL on a key that names a set fails with EEXIST",
          "semget(2) ERRORS EEXIST; POSIX.1-2017 semget() ERRORS") {
  key_t key = fresh_key();
  auto set = make_sem_set(1, key);
  REQUIRE_THAT(sys(::semget(key, 1, IPC_CREAT | IPC_EXCL | 0600)), FailsWith(EEXIST));
}

BEHAVIOUR("sysv-sem.semget.missing-key-without-creat-fails-enoent", "[posix]",
          "looking up a key that names no set without IPC_CREAT fails with ENOENT",
          "semget(2) ERRORS ENOENT; POSIX.1-2017 semget() ERRORS") {
  REQUIRE_THAT(sys(::semget(fresh_key(), 1, 0600)), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-sem.semget.new-set-stat-initialised", "[posix]",
          "a new set's semid_ds has the creator's uid/gid as owner and creator, the mode's low 9 "
          "bits, sem_nsems, and sem_otime 0",
          "semget(2) DESCRIPTION (initialization of semid_ds); POSIX.1-2017 semget() DESCRIPTION") {
  auto set = make_sem_set(4, IPC_PRIVATE, 0640);
  struct semid_ds ds = sem_stat(set.get());
  CHECK(ds.sem_perm.uid == ::geteuid());
  CHECK(ds.sem_perm.cuid == ::geteuid());
  CHECK(ds.sem_perm.gid == ::getegid());
  CHECK(ds.sem_perm.cgid == ::getegid());
  CHECK((ds.sem_perm.mode & 0777) == 0640);
  CHECK(ds.sem_nsems == 4);
  CHECK(ds.sem_otime == 0);
  CHECK(ds.sem_ctime != 0);
}
