// sysv-shm.ctl.*: shmctl status and control commands other than IPC_RMID and the locks.
// Source: shmctl(2).
#include "fx/fx.hpp"
#include "fx/sysv_shm.hpp"

#include <sys/shm.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

using namespace fx;

namespace {
// Index of the segment in the kernel's table, found with SHM_STAT over [0, max_index];
// -1 if not found.
int shm_index_of(int shmid, int max_index) {
  for (int i = 0; i <= max_index; ++i) {
    shmid_ds ds{};
    if (::shmctl(i, SHM_STAT, &ds) == shmid) return i;
  }
  return -1;
}

unsigned long long proc_ull(char const* path) {
  return std::strtoull(read_file(path).c_str(), nullptr, 10);
}
}  // namespace

BEHAVIOUR("sysv-shm.ctl.ipc-set-changes-only-low-nine-mode-bits", "[posix]",
          "IPC_SET replaces the least significant 9 bits of shm_perm.mode and ignores the "
          "other bits of the given mode (it cannot set SHM_DEST or SHM_LOCKED)",
          "shmctl(2) IPC_SET (the least significant 9 bits of shm_perm.mode)") {
  auto seg = make_shm(4096, IPC_PRIVATE, 0600);
  shmid_ds ds = shm_stat(seg.get());
  ds.shm_perm.mode = 0640 | SHM_DEST | SHM_LOCKED;
  REQUIRE_THAT(sys(::shmctl(seg.get(), IPC_SET, &ds)), Returns(0));
  unsigned mode = shm_stat(seg.get()).shm_perm.mode;
  CHECK((mode & 0777) == 0640);
  CHECK((mode & SHM_DEST) == 0);
  CHECK((mode & SHM_LOCKED) == 0);
}

BEHAVIOUR("sysv-shm.ctl.ipc-set-updates-ctime", "[posix]",
          "IPC_SET sets shm_ctime to the current time",
          "shmctl(2) IPC_SET (updating also its shm_ctime member)") {
  auto seg = make_shm(4096);
  time_t created = shm_stat(seg.get()).shm_ctime;
  // shm_ctime has a resolution of one second: only a wait for the next second can tell
  // an update from the creation time.
  REQUIRE(wait_past_second(created));
  time_t t0 = ::time(nullptr);
  shm_set_mode(seg.get(), 0640);
  time_t t1 = ::time(nullptr);
  time_t ctime = shm_stat(seg.get()).shm_ctime;
  CHECK(ctime >= t0);
  CHECK(ctime <= t1);
}

BEHAVIOUR("sysv-shm.ctl.ipc-set-by-non-owner-fails-eperm", "[posix][root][unprivileged]",
          "IPC_SET by an unprivileged process that is neither owner nor creator fails with "
          "EPERM, even when the mode grants it read and write",
          "shmctl(2) IPC_SET and ERRORS (EPERM)") {
  require_root();  // the segment must belong to someone other than the unprivileged caller
  auto seg = make_shm(4096, IPC_PRIVATE, 0666);
  Shared<SysResult> r;
  auto st = run_unprivileged([&, id = seg.get()] {
    shmid_ds ds{};
    if (::shmctl(id, IPC_STAT, &ds) != 0) return 3;
    ds.shm_perm.mode = 0600;
    *r = sys(::shmctl(id, IPC_SET, &ds));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*r, FailsWith(EPERM));
  REQUIRE((shm_stat(seg.get()).shm_perm.mode & 0777) == 0666);
}

BEHAVIOUR("sysv-shm.ctl.ipc-stat-without-read-permission-fails-eacces", "[posix][unprivileged]",
          "IPC_STAT by an unprivileged process whose mode bits deny it read fails with EACCES",
          "shmctl(2) IPC_STAT (the caller must have read permission) and ERRORS (EACCES)") {
  auto seg = make_shm(4096);
  shm_give_to_unprivileged(seg.get(), 0200);
  Shared<SysResult> denied, granted;
  auto st = run_unprivileged([&, id = seg.get()] {
    shmid_ds ds{};
    *denied = sys(::shmctl(id, IPC_STAT, &ds));
    // The owner may still change the mode (IPC_SET needs no read permission).
    ds.shm_perm.uid = ::geteuid();
    ds.shm_perm.gid = ::getegid();
    ds.shm_perm.mode = 0400;
    if (::shmctl(id, IPC_SET, &ds) != 0) return 3;
    *granted = sys(::shmctl(id, IPC_STAT, &ds));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*denied, FailsWith(EACCES));
  REQUIRE_THAT(*granted, Returns(0));
}

BEHAVIOUR("sysv-shm.ctl.invalid-command-fails-einval", "[posix]",
          "shmctl with a command that is not valid fails with EINVAL",
          "shmctl(2) ERRORS (EINVAL: cmd is not a valid command)") {
  auto seg = make_shm(4096);
  shmid_ds ds{};
  REQUIRE_THAT(sys(::shmctl(seg.get(), 0x7777, &ds)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-shm.ctl.ipc-info-reports-limits", "[linux-specific]",
          "IPC_INFO returns the system limits: shmmin 1, and shmmax, shmmni and shmall as in "
          "/proc/sys/kernel",
          "shmctl(2) IPC_INFO; proc(5) /proc/sys/kernel/shmmax, shmmni, shmall") {
  shminfo info{};
  REQUIRE_THAT(sys(::shmctl(0, IPC_INFO, reinterpret_cast<shmid_ds*>(&info))), Succeeds());
  CHECK(info.shmmin == 1);
  CHECK(info.shmmax == proc_ull("/proc/sys/kernel/shmmax"));
  CHECK(info.shmmni == proc_ull("/proc/sys/kernel/shmmni"));
  CHECK(info.shmall == proc_ull("/proc/sys/kernel/shmall"));
}

BEHAVIOUR("sysv-shm.ctl.shm-info-returns-highest-used-index", "[linux-specific]",
          "SHM_INFO returns the highest used index of the kernel's segment table (at least the "
          "index of an existing segment) and counts existing segments and their pages",
          "shmctl(2) SHM_INFO and RETURN VALUE") {
  auto seg = make_shm(5 * 4096);
  shm_info info{};
  auto r = sys(::shmctl(0, SHM_INFO, reinterpret_cast<shmid_ds*>(&info)));
  REQUIRE_THAT(r, Succeeds());
  REQUIRE(shm_index_of(seg.get(), static_cast<int>(r.value)) >= 0);
  CHECK(info.used_ids >= 1);
  CHECK(info.shm_tot >= 5);
}

BEHAVIOUR("sysv-shm.ctl.shm-stat-index-returns-identifier", "[linux-specific]",
          "SHM_STAT takes an index into the kernel's segment table instead of an identifier, "
          "returns the identifier of the segment at that index and fills shmid_ds as IPC_STAT",
          "shmctl(2) SHM_STAT and RETURN VALUE") {
  auto seg = make_shm(12345, IPC_PRIVATE, 0640);
  shm_info info{};
  int max_index = ::shmctl(0, SHM_INFO, reinterpret_cast<shmid_ds*>(&info));
  REQUIRE(max_index >= 0);
  int index = shm_index_of(seg.get(), max_index);
  REQUIRE(index >= 0);
  shmid_ds ds{};
  REQUIRE_THAT(sys(::shmctl(index, SHM_STAT, &ds)), Returns(seg.get()));
  CHECK(ds.shm_segsz == 12345);
  CHECK((ds.shm_perm.mode & 0777) == 0640);
  CHECK(ds.shm_cpid == ::getpid());
}
