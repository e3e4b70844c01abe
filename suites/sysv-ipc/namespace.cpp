// sysv-ipc.namespace.*: a new IPC namespace has its own System V identifiers and keys.
// Creating one needs CAP_SYS_ADMIN: root runs only. Source: ipc_namespaces(7); unshare(2)
// CLONE_NEWIPC; namespaces(7).
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <sched.h>

using namespace fx;

namespace {
// Exit codes of a child that could not enter a new IPC namespace.
constexpr int kUnshareDenied = 90;
constexpr int kNoIpcNs = 91;

struct Seen {
  SysResult get_by_key{-2, 0};
  SysResult stat_by_id{-2, 0};
  bool proc_row = true;
};

// Runs fn in a forked child that first moves into a new IPC namespace.
template <class F>
WaitStatus in_new_ipc_namespace(F&& fn) {
  require_root();
  auto st = run_in_child([&] {
    if (::unshare(CLONE_NEWIPC) != 0) return errno == EINVAL ? kNoIpcNs : kUnshareDenied;
    return fn();
  });
  if (st.exited() && st.exit_code() == kUnshareDenied) skip("unshare(CLONE_NEWIPC) refused (no CAP_SYS_ADMIN here)");
  if (st.exited() && st.exit_code() == kNoIpcNs) unsupported("unshare(CLONE_NEWIPC) fails with EINVAL (no CONFIG_IPC_NS)");
  return st;
}

void outer_object_invisible(IpcKind k) {
  key_t key = fresh_key();
  auto obj = make_ipc_object(k, key);
  Shared<Seen> seen;
  auto st = in_new_ipc_namespace([&] {
    seen->get_by_key = sys(ipc_get(k, key, 0));
    ipc_perm p{};
    seen->stat_by_id = sys(ipc_stat(k, obj.get(), &p));
    seen->proc_row = !sysvipc_row(kind_name(k), obj.get()).empty();
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(seen->get_by_key, FailsWith(ENOENT));
  REQUIRE_THAT(seen->stat_by_id, FailsWith(EINVAL));
  REQUIRE_FALSE(seen->proc_row);
  // Still there outside.
  REQUIRE_THAT(sys(ipc_get(k, key, 0)), Returns(obj.get()));
}
}  // namespace

BEHAVIOUR("sysv-ipc.namespace.msg-outer-queue-invisible", "[linux-specific][root]",
          "in a new IPC namespace a queue made outside is not found: msgget with its key fails "
          "with ENOENT, msgctl with its id fails with EINVAL, /proc/sysvipc/msg has no row for it",
          "ipc_namespaces(7) (objects are not visible to processes in other IPC namespaces); "
          "msgget(2) ERRORS (ENOENT); msgctl(2) ERRORS (EINVAL)") {
  outer_object_invisible(IpcKind::Msg);
}
BEHAVIOUR("sysv-ipc.namespace.sem-outer-set-invisible", "[linux-specific][root]",
          "in a new IPC namespace a semaphore set made outside is not found: semget with its key "
          "fails with ENOENT, semctl with its id fails with EINVAL, /proc/sysvipc/sem has no row for it",
          "ipc_namespaces(7); semget(2) ERRORS (ENOENT); semctl(2) ERRORS (EINVAL)") {
  outer_object_invisible(IpcKind::Sem);
}
BEHAVIOUR("sysv-ipc.namespace.shm-outer-segment-invisible", "[linux-specific][root]",
          "in a new IPC namespace a segment made outside is not found: shmget with its key fails "
          "with ENOENT, shmctl with its id fails with EINVAL, /proc/sysvipc/shm has no row for it",
          "ipc_namespaces(7); shmget(2) ERRORS (ENOENT); shmctl(2) ERRORS (EINVAL)") {
  outer_object_invisible(IpcKind::Shm);
}

BEHAVIOUR("sysv-ipc.namespace.same-key-names-separate-queue", "[linux-specific][root]",
          "inside a new IPC namespace the key of an outside queue is free: IPC_CREAT|IPC_EXCL "
          "makes a separate queue, and messages sent to it never reach the outside one",
          "ipc_namespaces(7) (each IPC namespace has its own set of System V IPC identifiers)") {
  key_t key = fresh_key();
  auto q = make_msg_queue(key);
  // The inner queue dies with its namespace when the child, its last member, exits.
  auto st = in_new_ipc_namespace([&] {
    int id = ::msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0) return 1;
    MsgBuf<4> m;
    m.mtype = 1;
    return ::msgsnd(id, &m, 1, IPC_NOWAIT) == 0 ? 0 : 2;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 0);
}
