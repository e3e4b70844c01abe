// sysv-ipc.perm.*: the ipc_perm of queues, semaphore sets and segments: set at creation,
// changed by IPC_SET. Source: msgget(2), semget(2), shmget(2) DESCRIPTION; msgctl(2),
// semctl(2), shmctl(2) IPC_SET; POSIX.1-2017 <sys/ipc.h>, msgget(), semget(), shmget().
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <sys/stat.h>
#include <unistd.h>

using namespace fx;

namespace {
// A uid and gid other than ours, for IPC_SET to hand the object to.
uid_t other_uid() { return ::geteuid() == unprivileged_uid() ? 0 : unprivileged_uid(); }
gid_t other_gid() { return ::getegid() == unprivileged_gid() ? 0 : unprivileged_gid(); }

void creator_ids_are_effective_ids(IpcKind k) {
  auto obj = make_ipc_object(k);
  auto p = ipc_perm_of(k, obj.get());
  REQUIRE(p.uid == ::geteuid());
  REQUIRE(p.cuid == ::geteuid());
  REQUIRE(p.gid == ::getegid());
  REQUIRE(p.cgid == ::getegid());
}

void mode_is_low_9_bits(IpcKind k) {
  // IPC_CREAT (01000) and IPC_EXCL (02000) sit just above the 9 permission bits.
  auto obj = make_ipc_object(k, fresh_key(), 0751);
  REQUIRE((ipc_perm_of(k, obj.get()).mode & 0777) == 0751);
  auto other = make_ipc_object(k, IPC_PRIVATE, 0406);
  REQUIRE((ipc_perm_of(k, other.get()).mode & 0777) == 0406);
}

void ipc_set_changes_owner_not_creator(IpcKind k) {
  auto obj = make_ipc_object(k, IPC_PRIVATE, 0600);
  ipc_perm want{};
  want.uid = other_uid();
  want.gid = other_gid();
  want.mode = 0640;
  REQUIRE_THAT(sys(ipc_set(k, obj.get(), want)), Returns(0));
  auto p = ipc_perm_of(k, obj.get());
  REQUIRE(p.uid == other_uid());
  REQUIRE(p.gid == other_gid());
  REQUIRE((p.mode & 0777) == 0640);
  REQUIRE(p.cuid == ::geteuid());
  REQUIRE(p.cgid == ::getegid());
}
}  // namespace

BEHAVIOUR("sysv-ipc.perm.msg-owner-and-creator-are-effective-ids", "[posix]",
          "a new queue's msg_perm uid and cuid are the creator's effective uid, gid and cgid its "
          "effective gid",
          "msgget(2) DESCRIPTION (msqid_ds initialisation); POSIX.1-2017 msgget()") {
  creator_ids_are_effective_ids(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.perm.sem-owner-and-creator-are-effective-ids", "[posix]",
          "a new set's sem_perm uid and cuid are the creator's effective uid, gid and cgid its "
          "effective gid",
          "semget(2) DESCRIPTION (semid_ds initialisation); POSIX.1-2017 semget()") {
  creator_ids_are_effective_ids(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.perm.shm-owner-and-creator-are-effective-ids", "[posix]",
          "a new segment's shm_perm uid and cuid are the creator's effective uid, gid and cgid its "
          "effective gid",
          "shmget(2) DESCRIPTION (shmid_ds initialisation); POSIX.1-2017 shmget()") {
  creator_ids_are_effective_ids(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.perm.creator-ids-are-effective-not-real", "[posix][root]",
          "a queue made by a process whose effective ids differ from its real ids records the "
          "effective ones as owner and creator",
          "msgget(2) DESCRIPTION (set to the effective user/group ID of the calling process)") {
  require_root();
  struct Report {
    int id;
    struct ipc_perm perm;
  };
  Shared<Report> rep(Report{-1, {}});
  auto st = run_in_child([&] {
    // Real ids stay root, effective ids become the unprivileged ones.
    if (::setresgid(0, unprivileged_gid(), 0) != 0) return 2;
    if (::setresuid(0, unprivileged_uid(), 0) != 0) return 3;
    rep->id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (rep->id < 0) return 1;
    // The creator reads and removes the queue itself: root in a container may lack the
    // CAP_IPC_OWNER and CAP_SYS_ADMIN that the test process would need for that.
    struct msqid_ds ds {};
    if (::msgctl(rep->id, IPC_STAT, &ds) != 0) return 4;
    rep->perm = ds.msg_perm;
    return ::msgctl(rep->id, IPC_RMID, nullptr) == 0 ? 0 : 5;
  });
  MsgQueue q(rep->id);  // removes it should the child have died before its IPC_RMID
  REQUIRE_THAT(st, ExitedWith(0));
  q.release();
  REQUIRE(rep->perm.cuid == unprivileged_uid());
  REQUIRE(rep->perm.uid == unprivileged_uid());
  REQUIRE(rep->perm.cgid == unprivileged_gid());
  REQUIRE(rep->perm.gid == unprivileged_gid());
}

BEHAVIOUR("sysv-ipc.perm.msg-mode-is-low-9-bits-of-flags", "[posix]",
          "a new queue's permission bits are the low 9 bits of msgflg",
          "msgget(2) DESCRIPTION (least significant 9 bits of msg_perm.mode); POSIX.1-2017 msgget()") {
  mode_is_low_9_bits(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.perm.sem-mode-is-low-9-bits-of-flags", "[posix]",
          "a new set's permission bits are the low 9 bits of semflg",
          "semget(2) DESCRIPTION (least significant 9 bits of sem_perm.mode); POSIX.1-2017 semget()") {
  mode_is_low_9_bits(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.perm.shm-mode-is-low-9-bits-of-flags", "[posix]",
          "a new segment's permission bits are the low 9 bits of shmflg",
          "shmget(2) DESCRIPTION (least significant 9 bits of shm_perm.mode); POSIX.1-2017 shmget()") {
  mode_is_low_9_bits(IpcKind::Shm);
}

namespace {
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};
}  // namespace

BEHAVIOUR("sysv-ipc.perm.mode-ignores-umask", "[posix]",
          "the permission bits of a new queue are those of msgflg even when the umask would clear some",
          "msgget(2) DESCRIPTION (set to the least significant 9 bits of msgflg); POSIX.1-2017 msgget() "
          "(low-order nine bits of msgflg)") {
  ScopedUmask um(0077);
  auto q = make_msg_queue(IPC_PRIVATE, 0666);
  REQUIRE((ipc_perm_of(IpcKind::Msg, q.get()).mode & 0777) == 0666);
}

BEHAVIOUR("sysv-ipc.perm.msg-ipc-set-changes-owner-not-creator", "[posix]",
          "msgctl IPC_SET changes msg_perm uid, gid and mode, and leaves cuid and cgid",
          "msgctl(2) IPC_SET; POSIX.1-2017 msgctl() IPC_SET") {
  ipc_set_changes_owner_not_creator(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.perm.sem-ipc-set-changes-owner-not-creator", "[posix]",
          "semctl IPC_SET changes sem_perm uid, gid and mode, and leaves cuid and cgid",
          "semctl(2) IPC_SET; POSIX.1-2017 semctl() IPC_SET") {
  ipc_set_changes_owner_not_creator(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.perm.shm-ipc-set-changes-owner-not-creator", "[posix]",
          "shmctl IPC_SET changes shm_perm uid, gid and mode, and leaves cuid and cgid",
          "shmctl(2) IPC_SET; POSIX.1-2017 shmctl() IPC_SET") {
  ipc_set_changes_owner_not_creator(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.perm.creator-may-remove-after-giving-away", "[posix][unprivileged]",
          "an unprivileged creator that handed the queue to another uid with IPC_SET may still "
          "remove it: IPC_RMID is allowed to the creator or the owner",
          "msgctl(2) IPC_RMID (effective user ID ... that of the creator or owner)") {
  Shared<int> id(-1);
  auto st = run_unprivileged([&] {
    *id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (*id < 0) return 2;
    ipc_perm p{};
    p.uid = ::geteuid() == 0 ? 1 : 0;  // anyone but us
    p.gid = ::getegid();
    p.mode = 0600;
    if (ipc_set(IpcKind::Msg, *id, p) != 0) return 3;
    if (ipc_perm_of(IpcKind::Msg, *id).uid == ::geteuid()) return 4;
    return ::msgctl(*id, IPC_RMID, nullptr) == 0 ? 0 : 1;
  });
  MsgQueue q(*id);  // removes the queue if the child did not
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(sys(::msgctl(*id, IPC_RMID, nullptr)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-ipc.perm.owner-not-creator-may-remove", "[posix][root][unprivileged]",
          "an unprivileged process that is the owner (msg_perm.uid) but not the creator may remove the queue",
          "msgctl(2) IPC_RMID (effective user ID ... that of the creator or owner)") {
  require_root();
  auto q = make_msg_queue();
  ipc_perm p{};
  p.uid = unprivileged_uid();
  p.gid = unprivileged_gid();
  p.mode = 0600;
  REQUIRE(ipc_set(IpcKind::Msg, q.get(), p) == 0);
  auto st = run_unprivileged([id = q.get()] { return ::msgctl(id, IPC_RMID, nullptr) == 0 ? 0 : 1; });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(sys(::msgctl(q.get(), IPC_RMID, nullptr)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-ipc.perm.owner-without-read-bit-fails-eacces", "[posix][unprivileged]",
          "the unprivileged owner and creator of a queue whose owner bits grant no read permission "
          "gets EACCES from IPC_STAT: only the bits of the caller's class count",
          "msgctl(2) permission bits and ERRORS (EACCES); sysvipc(7)") {
  Shared<int> id(-1);
  auto st = run_unprivileged([&] {
    // Group and others may read; the owner may only write.
    *id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0244);
    if (*id < 0) return 2;
    msqid_ds ds{};
    auto r = sys(::msgctl(*id, IPC_STAT, &ds));
    return r.value == -1 && r.err == EACCES ? 0 : 1;
  });
  MsgQueue q(*id);
  REQUIRE_THAT(st, ExitedWith(0));
}
