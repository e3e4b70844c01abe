// sysv-shm.detach.*: detaching segments with shmdt. Source: shmop(2) shmdt().
#include "fx/fx.hpp"
#include "fx/sysv_shm.hpp"

#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <ctime>

using namespace fx;

BEHAVIOUR("sysv-shm.detach.unattached-address-fails-einval", "[posix]",
          "shmdt of a page-aligned address where no segment is attached fails with EINVAL",
          "shmop(2) ERRORS (shmdt EINVAL: no shared memory segment attached at shmaddr)") {
  char* free = free_address_range(4096, 4096);
  REQUIRE_THAT(sys(::shmdt(free)), FailsWith(EINVAL));
  // A private anonymous mapping is not a segment either.
  void* m = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(m != MAP_FAILED);
  auto r = sys(::shmdt(m));
  ::munmap(m, 4096);
  REQUIRE_THAT(r, FailsWith(EINVAL));
}

BEHAVIOUR("sysv-shm.detach.unaligned-address-fails-einval", "[posix]",
          "shmdt of an address inside an attachment that is not page-aligned fails with EINVAL "
          "and leaves the segment attached",
          "shmop(2) shmdt() and ERRORS (EINVAL: shmaddr is not aligned on a page boundary)") {
  auto seg = make_shm(4096);
  ShmAttach at(seg.get());
  REQUIRE_THAT(sys(::shmdt(static_cast<char*>(at.get()) + 1)), FailsWith(EINVAL));
  REQUIRE(shm_stat(seg.get()).shm_nattch == 1);
}

BEHAVIOUR("sysv-shm.detach.access-after-detach-kills-with-sigsegv", "[posix][signal]",
          "after shmdt the segment's former addresses are unmapped: touching them kills the "
          "process with SIGSEGV",
          "shmop(2) shmdt() (detaches the segment from the address space of the calling process)") {
  auto seg = make_shm(4096);
  auto st = run_in_child([id = seg.get()] {
    reset_signals();
    char volatile* p = static_cast<char volatile*>(::shmat(id, nullptr, 0));
    if (p == reinterpret_cast<char volatile*>(-1)) return 3;
    p[0] = 'a';
    if (::shmdt(const_cast<char*>(p)) != 0) return 4;
    return static_cast<int>(p[0]);
  });
  REQUIRE_THAT(st, KilledBy(SIGSEGV));
}

BEHAVIOUR("sysv-shm.detach.sets-dtime-lpid-and-decrements-nattch", "[posix]",
          "a successful shmdt sets shm_dtime to the current time and shm_lpid to the caller's "
          "pid, and decrements shm_nattch",
          "shmop(2) shmdt() (on a successful shmdt() call the system updates shmid_ds)") {
  auto seg = make_shm(4096);
  Checkpoints cp;
  auto child = Child::fork([&, id = seg.get()] {
    void* p = ::shmat(id, nullptr, 0);
    if (p == reinterpret_cast<void*>(-1)) return 3;
    cp.wake(0);
    if (!cp.wait(1)) return 4;
    if (::shmdt(p) != 0) return 5;
    cp.wake(2);
    return cp.wait(3) ? 0 : 6;
  });
  REQUIRE(cp.wait(0));
  // The test's own attach makes it the last pid, so that only the child's shmdt can make
  // the child the last pid again.
  ShmAttach at(seg.get());
  shmid_ds before = shm_stat(seg.get());
  REQUIRE(before.shm_lpid == ::getpid());
  REQUIRE(before.shm_nattch == 2);
  REQUIRE(before.shm_dtime == 0);
  time_t t0 = ::time(nullptr);
  cp.wake(1);
  REQUIRE(cp.wait(2));
  time_t t1 = ::time(nullptr);
  shmid_ds after = shm_stat(seg.get());
  cp.wake(3);
  pid_t detacher = child.pid();
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  CHECK(after.shm_lpid == detacher);
  CHECK(after.shm_nattch == 1);
  CHECK(after.shm_dtime >= t0);
  CHECK(after.shm_dtime <= t1);
}
