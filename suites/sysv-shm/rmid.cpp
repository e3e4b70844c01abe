// sysv-shm.rmid.*: removing segments with shmctl(IPC_RMID). Source: shmctl(2) IPC_RMID,
// shmop(2) shmdt() and NOTES.
#include "fx/fx.hpp"
#include "fx/sysv_shm.hpp"

#include <sys/shm.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <system_error>

using namespace fx;

namespace {
void rmid(int id) {
  if (::shmctl(id, IPC_RMID, nullptr) != 0)
    throw std::system_error(errno, std::generic_category(), "shmctl(IPC_RMID)");
}
}  // namespace

BEHAVIOUR("sysv-shm.rmid.unattached-segment-is-destroyed-at-once", "[posix]",
          "IPC_RMID of a segment no process has attached destroys it at once: IPC_STAT and "
          "shmat of its identifier then fail with EINVAL",
          "shmctl(2) IPC_RMID and ERRORS (EINVAL: shmid is not a valid identifier)") {
  auto seg = make_shm(4096);
  REQUIRE_THAT(sys(::shmctl(seg.get(), IPC_RMID, nullptr)), Returns(0));
  shmid_ds ds;
  REQUIRE_THAT(sys(::shmctl(seg.get(), IPC_STAT, &ds)), FailsWith(EINVAL));
  auto a = try_shmat(seg.get(), nullptr, 0);
  REQUIRE_THAT(a.result, FailsWith(EINVAL));
  seg.release();  // gone: its identifier must not be removed again
}

BEHAVIOUR("sysv-shm.rmid.attached-segment-keeps-working", "[linux-specific]",
          "after IPC_RMID, processes that had the segment attached still share its memory "
          "until they detach",
          "shmctl(2) IPC_RMID (destroyed only after the last process detaches it)") {
  auto seg = make_shm(4096);
  ShmAttach at(seg.get());
  auto* mem = static_cast<char volatile*>(at.get());
  mem[0] = 'b';
  Checkpoints cp;
  Shared<char> seen(0);
  auto child = Child::fork([&] {
    if (!cp.wait(0)) return 1;
    *seen = mem[0];
    mem[1] = 'c';
    return 0;
  });
  rmid(seg.get());
  mem[0] = 'a';
  cp.wake(0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(*seen == 'a');
  REQUIRE(mem[1] == 'c');
}

BEHAVIOUR("sysv-shm.rmid.marked-segment-mode-shows-shm-dest", "[linux-specific]",
          "a segment marked for destruction while attached has SHM_DEST set in the "
          "shm_perm.mode that IPC_STAT returns",
          "shmctl(2) IPC_RMID (the nonstandard SHM_DEST flag of shm_perm.mode will be set)") {
  auto seg = make_shm(4096, IPC_PRIVATE, 0640);
  ShmAttach at(seg.get());
  REQUIRE((shm_stat(seg.get()).shm_perm.mode & SHM_DEST) == 0);
  rmid(seg.get());
  shmid_ds ds{};
  REQUIRE_THAT(sys(::shmctl(seg.get(), IPC_STAT, &ds)), Returns(0));
  REQUIRE((ds.shm_perm.mode & SHM_DEST) != 0);
  REQUIRE((ds.shm_perm.mode & 0777) == 0640);
  REQUIRE(ds.shm_nattch == 1);
}

BEHAVIOUR("sysv-shm.rmid.old-key-without-creat-fails-enoent", "[posix]",
          "once a segment is marked for destruction its key no longer finds it: shmget of the "
          "key without IPC_CREAT fails with ENOENT, although the segment is still attached",
          "shmctl(2) IPC_RMID; shmget(2) ERRORS (ENOENT) and Linux notes; POSIX.1-2017 shmctl() "
          "IPC_RMID (remove the identifier from the system)") {
  key_t key = fresh_key();
  auto seg = make_shm(4096, key);
  ShmAttach at(seg.get());
  REQUIRE_THAT(sys(::shmget(key, 0, 0)), Returns(seg.get()));
  rmid(seg.get());
  REQUIRE_THAT(sys(::shmget(key, 0, 0)), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-shm.rmid.old-key-with-creat-makes-new-segment", "[posix]",
          "after IPC_RMID of an attached segment, shmget of its key with IPC_CREAT|IPC_EXCL "
          "creates a new, different, zero-filled segment",
          "shmctl(2) IPC_RMID; shmget(2) DESCRIPTION; POSIX.1-2017 shmctl() IPC_RMID") {
  key_t key = fresh_key();
  auto old_seg = make_shm(4096, key);
  ShmAttach old_at(old_seg.get());
  static_cast<char*>(old_at.get())[0] = 'o';
  rmid(old_seg.get());
  int id = ::shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  ShmSegment new_seg(id);
  REQUIRE_THAT(sys(id), Succeeds());
  REQUIRE(id != old_seg.get());
  ShmAttach new_at(new_seg.get());
  REQUIRE(static_cast<char*>(new_at.get())[0] == 0);
  REQUIRE_THAT(sys(::shmget(key, 0, 0)), Returns(id));
}

BEHAVIOUR("sysv-shm.rmid.destroyed-when-last-process-detaches", "[linux-specific]",
          "a segment marked for destruction survives while any process has it attached and is "
          "destroyed when the last one detaches: IPC_STAT then fails with EINVAL",
          "shmctl(2) IPC_RMID; shmop(2) shmdt() (if shm_nattch becomes 0 and the segment is "
          "marked for deletion, the segment is deleted)") {
  auto seg = make_shm(4096);
  auto at = std::make_unique<ShmAttach>(seg.get());
  Checkpoints cp;
  auto child = Child::fork([&] { return cp.wait(0) ? 0 : 1; });  // inherits the attachment
  rmid(seg.get());
  REQUIRE(shm_stat(seg.get()).shm_nattch == 2);
  cp.wake(0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  shmid_ds ds{};
  REQUIRE_THAT(sys(::shmctl(seg.get(), IPC_STAT, &ds)), Returns(0));
  REQUIRE(ds.shm_nattch == 1);
  at.reset();  // the last detach
  REQUIRE_THAT(sys(::shmctl(seg.get(), IPC_STAT, &ds)), FailsWith(EINVAL));
  seg.release();
}

BEHAVIOUR("sysv-shm.rmid.marked-segment-attach-by-id-succeeds", "[linux-specific]",
          "Linux lets a process attach, by identifier, a segment already marked for destruction, "
          "and the new attachment shares its memory",
          "shmop(2) NOTES (on Linux it is possible to attach a segment marked to be deleted); "
          "shmctl(2) NOTES") {
  auto seg = make_shm(4096);
  ShmAttach at(seg.get());
  rmid(seg.get());
  auto again = try_shmat(seg.get(), nullptr, 0);
  REQUIRE_THAT(again.result, Succeeds());
  static_cast<char*>(at.get())[0] = 'z';
  REQUIRE(again.bytes()[0] == 'z');
  REQUIRE(shm_stat(seg.get()).shm_nattch == 2);
}

BEHAVIOUR("sysv-shm.rmid.non-owner-fails-eperm", "[posix][root][unprivileged]",
          "IPC_RMID by an unprivileged process that is neither owner nor creator fails with "
          "EPERM, whatever the mode, and the segment stays",
          "shmctl(2) IPC_RMID and ERRORS (EPERM)") {
  require_root();  // the segment must belong to someone other than the unprivileged caller
  auto seg = make_shm(4096, IPC_PRIVATE, 0666);
  Shared<SysResult> r;
  auto st = run_unprivileged([&, id = seg.get()] {
    *r = sys(::shmctl(id, IPC_RMID, nullptr));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*r, FailsWith(EPERM));
  shmid_ds ds{};
  REQUIRE_THAT(sys(::shmctl(seg.get(), IPC_STAT, &ds)), Returns(0));
  REQUIRE((ds.shm_perm.mode & SHM_DEST) == 0);
}
