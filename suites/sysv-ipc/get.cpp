// sysv-ipc.get.*: keys and identifiers in msgget(2), semget(2), shmget(2).
// Source: those pages' DESCRIPTION and ERRORS; POSIX.1-2017 msgget(), semget(), shmget().
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

using namespace fx;

namespace {
// IPC_PRIVATE makes a new object every time, even with IPC_CREAT|IPC_EXCL.
void private_always_new(IpcKind k) {
  int a = ipc_get(k, IPC_PRIVATE, 0600);
  IpcObject oa(k, a);
  REQUIRE(a >= 0);
  int b = ipc_get(k, IPC_PRIVATE, 0600);
  IpcObject ob(k, b);
  REQUIRE(b >= 0);
  int c = ipc_get(k, IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600);
  IpcObject oc(k, c);
  REQUIRE(c >= 0);
  REQUIRE(a != b);
  REQUIRE(a != c);
  REQUIRE(b != c);
}

void creat_returns_existing(IpcKind k) {
  key_t key = fresh_key();
  auto obj = make_ipc_object(k, key);
  REQUIRE_THAT(sys(ipc_get(k, key, IPC_CREAT | 0600)), Returns(obj.get()));
  REQUIRE_THAT(sys(ipc_get(k, key, 0)), Returns(obj.get()));
}

void creat_excl_existing_fails(IpcKind k) {
  key_t key = fresh_key();
  auto obj = make_ipc_object(k, key);
  REQUIRE_THAT(sys(ipc_get(k, key, IPC_CREAT | IPC_EXCL | 0600)), FailsWith(EEXIST));
}

void missing_key_fails(IpcKind k) {
  key_t key = fresh_key();
  // The flags other than IPC_CREAT do not create anything either.
  REQUIRE_THAT(sys(ipc_get(k, key, 0600)), FailsWith(ENOENT));
  REQUIRE_THAT(sys(ipc_get(k, key, IPC_EXCL | 0600)), FailsWith(ENOENT));
}
}  // namespace

BEHAVIOUR("sysv-ipc.get.msg-private-always-creates-new", "[posix]",
          "msgget(IPC_PRIVATE, ...) creates a new queue on every call, with or without IPC_CREAT|IPC_EXCL",
          "msgget(2) DESCRIPTION and NOTES (IPC_PRIVATE); POSIX.1-2017 msgget()") {
  private_always_new(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.get.sem-private-always-creates-new", "[posix]",
          "semget(IPC_PRIVATE, ...) creates a new set on every call, with or without IPC_CREAT|IPC_EXCL",
          "semget(2) DESCRIPTION and NOTES (IPC_PRIVATE); POSIX.1-2017 semget()") {
  private_always_new(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.get.shm-private-always-creates-new", "[posix]",
          "shmget(IPC_PRIVATE, ...) creates a new segment on every call, with or without IPC_CREAT|IPC_EXCL",
          "shmget(2) DESCRIPTION and NOTES (IPC_PRIVATE); POSIX.1-2017 shmget()") {
  private_always_new(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.get.msg-creat-returns-existing", "[posix]",
          "msgget with the key of an existing queue returns that queue's identifier, with or without IPC_CREAT",
          "msgget(2) DESCRIPTION; POSIX.1-2017 msgget()") {
  creat_returns_existing(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.get.sem-creat-returns-existing", "[posix]",
          "semget with the key of an existing set returns that set's identifier, with or without IPC_CREAT",
          "semget(2) DESCRIPTION; POSIX.1-2017 semget()") {
  creat_returns_existing(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.get.shm-creat-returns-existing", "[posix]",
          "shmget with the key of an existing segment returns that segment's identifier, with or without IPC_CREAT",
          "shmget(2) DESCRIPTION; POSIX.1-2017 shmget()") {
  creat_returns_existing(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.get.msg-creat-excl-existing-fails-eexist", "[posix]",
          "msgget with IPC_CREAT|IPC_EXCL and the key of an existing queue fails with EEXIST",
          "msgget(2) ERRORS (EEXIST); POSIX.1-2017 msgget() ERRORS") {
  creat_excl_existing_fails(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.get.sem-creat-excl-existing-fails-eexist", "[posix]",
          "semget with IPC_CREAT|IPC_EXCL and the key of an existing set fails with EEXIST",
          "semget(2) ERRORS (EEXIST); POSIX.1-2017 semget() ERRORS") {
  creat_excl_existing_fails(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.get.shm-creat-excl-existing-fails-eexist", "[posix]",
          "shmget with IPC_CREAT|IPC_EXCL and the key of an existing segment fails with EEXIST",
          "shmget(2) ERRORS (EEXIST); POSIX.1-2017 shmget() ERRORS") {
  creat_excl_existing_fails(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.get.msg-missing-key-without-creat-fails-enoent", "[posix]",
          "msgget without IPC_CREAT and a key that names no queue fails with ENOENT",
          "msgget(2) ERRORS (ENOENT); POSIX.1-2017 msgget() ERRORS") {
  missing_key_fails(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.get.sem-missing-key-without-creat-fails-enoent", "[posix]",
          "semget without IPC_CREAT and a key that names no set fails with ENOENT",
          "semget(2) ERRORS (ENOENT); POSIX.1-2017 semget() ERRORS") {
  missing_key_fails(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.get.shm-missing-key-without-creat-fails-enoent", "[posix]",
          "shmget without IPC_CREAT and a key that names no segment fails with ENOENT",
          "shmget(2) ERRORS (ENOENT); POSIX.1-2017 shmget() ERRORS") {
  missing_key_fails(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.get.key-free-after-rmid", "[posix]",
          "after IPC_RMID of a queue its key names nothing: msgget without IPC_CREAT fails with "
          "ENOENT and IPC_CREAT|IPC_EXCL makes a new queue",
          "msgctl(2) IPC_RMID (immediately remove); msgget(2) ERRORS (ENOENT)") {
  key_t key = fresh_key();
  auto q = make_msg_queue(key);
  int old = q.get();
  q.reset();
  REQUIRE_THAT(sys(::msgget(key, 0)), FailsWith(ENOENT));
  int id = ::msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  MsgQueue again(id);
  REQUIRE_THAT(sys(id), Succeeds());
  REQUIRE(id != old);
}

BEHAVIOUR("sysv-ipc.get.perm-records-key", "[linux-specific]",
          "IPC_STAT's ipc_perm.__key holds the key the object was created with (IPC_PRIVATE: 0)",
          "msgctl(2) ipc_perm (__key: key supplied to msgget(2))") {
  key_t key = fresh_key();
  auto q = make_msg_queue(key);
  REQUIRE(ipc_perm_of(IpcKind::Msg, q.get()).__key == key);
  auto p = make_msg_queue();
  REQUIRE(ipc_perm_of(IpcKind::Msg, p.get()).__key == IPC_PRIVATE);
}
