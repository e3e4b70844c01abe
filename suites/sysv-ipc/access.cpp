// sysv-ipc.access.*: what an unprivileged process that is neither owner nor creator may do
// with another user's queue, set or segment. These need an object owned by someone else,
// which only a privileged run can arrange: root makes the object and the check runs in a
// child that dropped to nobody (fx::run_unprivileged). Unprivileged runs skip them.
// Source: msgctl(2), semctl(2), shmctl(2) IPC_SET/IPC_RMID/IPC_STAT and ERRORS;
// msgget(2), semget(2), shmget(2) ERRORS (EACCES); POSIX.1-2017 <sys/ipc.h> and the same calls.
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

using namespace fx;

namespace {
// An object of kind k, owned and made by root, with the given mode.
IpcObject foreign_object(IpcKind k, int mode, key_t key = IPC_PRIVATE) {
  if (!is_root())
    skip("needs an object owned by another user: only a root run can make one for the "
         "unprivileged caller to be neither owner nor creator of");
  return make_ipc_object(k, key, mode);
}

int expect(SysResult r, int err) { return r.value == -1 && r.err == err ? 0 : 1; }

void non_owner_set_fails_eperm(IpcKind k) {
  // Everyone may read and write: EPERM is about ownership, not about the mode.
  auto obj = foreign_object(k, 0666);
  auto st = run_unprivileged([&] {
    ipc_perm p = ipc_perm_of(k, obj.get());
    p.mode = 0600;
    return expect(sys(ipc_set(k, obj.get(), p)), EPERM);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE((ipc_perm_of(k, obj.get()).mode & 0777) == 0666);
}

void non_owner_rmid_fails_eperm(IpcKind k) {
  auto obj = foreign_object(k, 0666);
  auto st = run_unprivileged([&] { return expect(sys(ipc_rmid(k, obj.get())), EPERM); });
  REQUIRE_THAT(st, ExitedWith(0));
  ipc_perm p{};
  REQUIRE_THAT(sys(ipc_stat(k, obj.get(), &p)), Returns(0));
}

void stat_without_read_fails_eacces(IpcKind k) {
  // Others may write (alter) but not read.
  auto obj = foreign_object(k, 0602);
  auto st = run_unprivileged([&] {
    ipc_perm p{};
    return expect(sys(ipc_stat(k, obj.get(), &p)), EACCES);
  });
  REQUIRE_THAT(st, ExitedWith(0));
}

void get_without_permission_fails_eacces(IpcKind k) {
  key_t key = fresh_key();
  auto obj = foreign_object(k, 0600, key);
  auto st = run_unprivileged([&] {
    // Asking for read and write access (the permission bits of the flags) is refused ...
    if (expect(sys(ipc_get(k, key, 0600)), EACCES) != 0) return 1;
    // ... and so is asking for read alone.
    return expect(sys(ipc_get(k, key, 0400)), EACCES) != 0 ? 2 : 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
}
}  // namespace

BEHAVIOUR("sysv-ipc.access.msg-non-owner-ipc-set-fails-eperm", "[posix][root]",
          "msgctl IPC_SET by an unprivileged process that is neither owner nor creator fails with EPERM",
          "msgctl(2) IPC_SET and ERRORS (EPERM); POSIX.1-2017 msgctl() ERRORS") {
  non_owner_set_fails_eperm(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.access.sem-non-owner-ipc-set-fails-eperm", "[posix][root]",
          "semctl IPC_SET by an unprivileged process that is neither owner nor creator fails with EPERM",
          "semctl(2) IPC_SET and ERRORS (EPERM); POSIX.1-2017 semctl() ERRORS") {
  non_owner_set_fails_eperm(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.access.shm-non-owner-ipc-set-fails-eperm", "[posix][root]",
          "shmctl IPC_SET by an unprivileged process that is neither owner nor creator fails with EPERM",
          "shmctl(2) IPC_SET and ERRORS (EPERM); POSIX.1-2017 shmctl() ERRORS") {
  non_owner_set_fails_eperm(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.access.msg-non-owner-ipc-rmid-fails-eperm", "[posix][root]",
          "msgctl IPC_RMID by an unprivileged process that is neither owner nor creator fails with "
          "EPERM, whatever the mode, and the queue stays",
          "msgctl(2) IPC_RMID and ERRORS (EPERM); POSIX.1-2017 msgctl() ERRORS") {
  non_owner_rmid_fails_eperm(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.access.sem-non-owner-ipc-rmid-fails-eperm", "[posix][root]",
          "semctl IPC_RMID by an unprivileged process that is neither owner nor creator fails with "
          "EPERM, whatever the mode, and the set stays",
          "semctl(2) IPC_RMID and ERRORS (EPERM); POSIX.1-2017 semctl() ERRORS") {
  non_owner_rmid_fails_eperm(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.access.shm-non-owner-ipc-rmid-fails-eperm", "[posix][root]",
          "shmctl IPC_RMID by an unprivileged process that is neither owner nor creator fails with "
          "EPERM, whatever the mode, and the segment stays",
          "shmctl(2) IPC_RMID and ERRORS (EPERM); POSIX.1-2017 shmctl() ERRORS") {
  non_owner_rmid_fails_eperm(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.access.msg-ipc-stat-without-read-fails-eacces", "[posix][root]",
          "msgctl IPC_STAT by an unprivileged non-owner whose class has no read bit fails with EACCES",
          "msgctl(2) IPC_STAT and ERRORS (EACCES); POSIX.1-2017 msgctl() ERRORS") {
  stat_without_read_fails_eacces(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.access.sem-ipc-stat-without-read-fails-eacces", "[posix][root]",
          "semctl IPC_STAT by an unprivileged non-owner whose class has no read bit fails with EACCES",
          "semctl(2) IPC_STAT and ERRORS (EACCES); POSIX.1-2017 semctl() ERRORS") {
  stat_without_read_fails_eacces(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.access.shm-ipc-stat-without-read-fails-eacces", "[posix][root]",
          "shmctl IPC_STAT by an unprivileged non-owner whose class has no read bit fails with EACCES",
          "shmctl(2) IPC_STAT and ERRORS (EACCES); POSIX.1-2017 shmctl() ERRORS") {
  stat_without_read_fails_eacces(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.access.msg-get-without-permission-fails-eacces", "[posix][root]",
          "msgget with the key of another user's 0600 queue, asking for read or write access in "
          "msgflg, fails with EACCES for an unprivileged process",
          "msgget(2) DESCRIPTION (the permissions are verified) and ERRORS (EACCES); POSIX.1-2017 msgget() ERRORS") {
  get_without_permission_fails_eacces(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.access.sem-get-without-permission-fails-eacces", "[posix][root]",
          "semget with the key of another user's 0600 set, asking for read or alter access in "
          "semflg, fails with EACCES for an unprivileged process",
          "semget(2) ERRORS (EACCES); POSIX.1-2017 semget() ERRORS") {
  get_without_permission_fails_eacces(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.access.shm-get-without-permission-fails-eacces", "[posix][root]",
          "shmget with the key of another user's 0600 segment, asking for read or write access in "
          "shmflg, fails with EACCES for an unprivileged process",
          "shmget(2) ERRORS (EACCES); POSIX.1-2017 shmget() ERRORS") {
  get_without_permission_fails_eacces(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.access.get-checks-only-requested-bits", "[linux-specific][root][unprivileged]",
          "msgget of another user's 0600 queue with no permission bits in msgflg succeeds for an "
          "unprivileged process (Linux checks only the access the flags ask for); using the queue "
          "then fails with EACCES",
          "msgget(2) DESCRIPTION (permission bits of msgflg; the permissions are verified); "
          "msgop(2) ERRORS (EACCES)") {
  key_t key = fresh_key();
  auto q = foreign_object(IpcKind::Msg, 0600, key);
  auto st = run_unprivileged([&] {
    if (::msgget(key, 0) != q.get()) return 1;
    MsgBuf<4> m;
    m.mtype = 1;
    return expect(sys(::msgsnd(q.get(), &m, 1, IPC_NOWAIT)), EACCES) != 0 ? 2 : 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
}
