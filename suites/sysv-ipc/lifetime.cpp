// sysv-ipc.lifetime.*: System V objects are kernel-persistent: they outlive the process that
// made them until removed, and each kind has its own identifiers and keys.
// Source: sysvipc(7); msgget(2), semget(2), shmget(2); POSIX.1-2017 msgget(), semget(), shmget().
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

using namespace fx;

namespace {
void outlives_creator(IpcKind k) {
  key_t key = fresh_key();
  Shared<int> id(-1);
  auto st = run_in_child([&] {
    *id = ipc_get(k, key, IPC_CREAT | IPC_EXCL | 0600);
    return *id >= 0 ? 0 : 1;
  });
  IpcObject obj(k, *id);  // the parent owns (and removes) what the child made
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(sys(ipc_get(k, key, 0)), Returns(*id));
  ipc_perm p{};
  REQUIRE_THAT(sys(ipc_stat(k, *id, &p)), Returns(0));
  REQUIRE(p.__key == key);
}
}  // namespace

BEHAVIOUR("sysv-ipc.lifetime.msg-outlives-creator", "[posix]",
          "a queue made by a process that has exited still exists and is found by its key",
          "sysvipc(7); msgget(2) DESCRIPTION (obtain a previously created queue); msgctl(2) IPC_RMID") {
  outlives_creator(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.lifetime.sem-outlives-creator", "[posix]",
          "a semaphore set made by a process that has exited still exists and is found by its key",
          "sysvipc(7); semget(2) DESCRIPTION; semctl(2) IPC_RMID") {
  outlives_creator(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.lifetime.shm-outlives-creator", "[posix]",
          "a segment made by a process that has exited (never attached) still exists and is found by its key",
          "sysvipc(7); shmget(2) DESCRIPTION; shmctl(2) IPC_RMID; proc(5) /proc/sys/kernel/shm_rmid_forced") {
  if (read_long("/proc/sys/kernel/shm_rmid_forced") != 0)
    skip("kernel.shm_rmid_forced is set: unattached segments die with their creator by design");
  outlives_creator(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.lifetime.kinds-have-independent-keys-and-ids", "[posix]",
          "one key can name a queue, a semaphore set and a segment at once: three objects, each "
          "found by its own get call, and removing one leaves the others",
          "sysvipc(7); msgget(2), semget(2), shmget(2) DESCRIPTION") {
  key_t key = fresh_key();
  auto q = make_ipc_object(IpcKind::Msg, key);
  auto s = make_ipc_object(IpcKind::Sem, key);
  auto m = make_ipc_object(IpcKind::Shm, key);
  REQUIRE_THAT(sys(ipc_get(IpcKind::Msg, key, 0)), Returns(q.get()));
  REQUIRE_THAT(sys(ipc_get(IpcKind::Sem, key, 0)), Returns(s.get()));
  REQUIRE_THAT(sys(ipc_get(IpcKind::Shm, key, 0)), Returns(m.get()));
  q.reset();
  REQUIRE_THAT(sys(ipc_get(IpcKind::Msg, key, 0)), FailsWith(ENOENT));
  REQUIRE_THAT(sys(ipc_get(IpcKind::Sem, key, 0)), Returns(s.get()));
  REQUIRE_THAT(sys(ipc_get(IpcKind::Shm, key, 0)), Returns(m.get()));
}
