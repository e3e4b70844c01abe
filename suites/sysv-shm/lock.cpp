// sysv-shm.lock.*: shmctl SHM_LOCK and SHM_UNLOCK (Linux-specific). Source: shmctl(2).
#include "fx/fx.hpp"
#include "fx/sysv_shm.hpp"

#include <sys/resource.h>
#include <sys/shm.h>
#include <unistd.h>

using namespace fx;

namespace {
// An unprivileged caller locks against RLIMIT_MEMLOCK (shmctl(2) SHM_LOCK).
void require_lockable(size_t bytes) {
  if (is_root()) return;
  rlimit rl{};
  if (::getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < bytes))
    skip("RLIMIT_MEMLOCK is below " + std::to_string(bytes) + " bytes here");
}
}  // namespace

BEHAVIOUR("sysv-shm.lock.lock-sets-shm-locked-and-unlock-clears-it", "[linux-specific]",
          "SHM_LOCK sets the nonstandard SHM_LOCKED flag in shm_perm.mode, and SHM_UNLOCK "
          "clears it",
          "shmctl(2) SHM_LOCK and SHM_UNLOCK") {
  require_lockable(4096);
  auto seg = make_shm(4096);
  REQUIRE((shm_stat(seg.get()).shm_perm.mode & SHM_LOCKED) == 0);
  REQUIRE_THAT(sys(::shmctl(seg.get(), SHM_LOCK, nullptr)), Returns(0));
  REQUIRE((shm_stat(seg.get()).shm_perm.mode & SHM_LOCKED) != 0);
  REQUIRE_THAT(sys(::shmctl(seg.get(), SHM_UNLOCK, nullptr)), Returns(0));
  REQUIRE((shm_stat(seg.get()).shm_perm.mode & SHM_LOCKED) == 0);
}

BEHAVIOUR("sysv-shm.lock.by-non-owner-fails-eperm", "[linux-specific][root][unprivileged]",
          "SHM_LOCK and SHM_UNLOCK by an unprivileged process that is neither owner nor creator "
          "of the segment fail with EPERM",
          "shmctl(2) SHM_LOCK/SHM_UNLOCK (unprivileged: effective UID must match owner or "
          "creator) and ERRORS (EPERM)") {
  require_root();  // the segment must belong to someone other than the unprivileged caller
  auto seg = make_shm(4096, IPC_PRIVATE, 0666);
  Shared<SysResult> lock, unlock;
  auto st = run_unprivileged([&, id = seg.get()] {
    *lock = sys(::shmctl(id, SHM_LOCK, nullptr));
    *unlock = sys(::shmctl(id, SHM_UNLOCK, nullptr));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*lock, FailsWith(EPERM));
  REQUIRE_THAT(*unlock, FailsWith(EPERM));
  REQUIRE((shm_stat(seg.get()).shm_perm.mode & SHM_LOCKED) == 0);
}

BEHAVIOUR("sysv-shm.lock.owner-with-zero-memlock-limit-fails-eperm", "[linux-specific][unprivileged]",
          "SHM_LOCK by an unprivileged owner whose RLIMIT_MEMLOCK is 0 fails with EPERM, while "
          "its SHM_UNLOCK succeeds",
          "shmctl(2) ERRORS (EPERM: since Linux 2.6.9, RLIMIT_MEMLOCK is 0 and the caller is "
          "not privileged) and SHM_UNLOCK") {
  auto seg = make_shm(4096);
  shm_give_to_unprivileged(seg.get(), 0600);
  Shared<SysResult> lock, unlock;
  auto st = run_unprivileged([&, id = seg.get()] {
    rlimit zero{0, 0};
    if (::setrlimit(RLIMIT_MEMLOCK, &zero) != 0) return 3;
    *lock = sys(::shmctl(id, SHM_LOCK, nullptr));
    *unlock = sys(::shmctl(id, SHM_UNLOCK, nullptr));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*lock, FailsWith(EPERM));
  REQUIRE_THAT(*unlock, Returns(0));
}

BEHAVIOUR("sysv-shm.lock.owner-beyond-memlock-limit-fails-enomem", "[linux-specific][unprivileged]",
          "SHM_LOCK by an unprivileged owner of a segment larger than its RLIMIT_MEMLOCK fails "
          "with ENOMEM and leaves the segment unlocked",
          "shmctl(2) SHM_LOCK and ERRORS (ENOMEM: would exceed the RLIMIT_MEMLOCK limit)") {
  auto seg = make_shm(16 * 4096);
  shm_give_to_unprivileged(seg.get(), 0600);
  Shared<SysResult> lock;
  auto st = run_unprivileged([&, id = seg.get()] {
    rlimit one_page{4096, 4096};
    if (::setrlimit(RLIMIT_MEMLOCK, &one_page) != 0) return 3;
    *lock = sys(::shmctl(id, SHM_LOCK, nullptr));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*lock, FailsWith(ENOMEM));
  REQUIRE((shm_stat(seg.get()).shm_perm.mode & SHM_LOCKED) == 0);
}
