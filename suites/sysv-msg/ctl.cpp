// sysv-msg.ctl.*: msgctl(2) and the msqid_ds of a new queue (msgget(2)).
// Source: msgctl(2), msgget(2); POSIX.1-2017 msgctl(), msgget().
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <linux/capability.h>
#include <sys/msg.h>

#include <stdexcept>
#include <string>

using namespace fx;

BEHAVIOUR("sysv-msg.ctl.new-queue-is-empty-with-zero-pids-and-times", "[posix]",
          "a new queue has msg_qnum, msg_lspid, msg_lrpid, msg_stime and msg_rtime all 0",
          "msgget(2) DESCRIPTION (msqid_ds initialisation); POSIX.1-2017 msgget()") {
  auto q = make_msg_queue();
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_qnum == 0);
  REQUIRE(ds.msg_lspid == 0);
  REQUIRE(ds.msg_lrpid == 0);
  REQUIRE(ds.msg_stime == 0);
  REQUIRE(ds.msg_rtime == 0);
}

BEHAVIOUR("sysv-msg.ctl.new-queue-ctime-is-creation-time", "[posix]",
          "a new queue's msg_ctime is the time it was created",
          "msgget(2) DESCRIPTION (msg_ctime is set to the current time)") {
  time_t before = ::time(nullptr);
  auto q = make_msg_queue();
  time_t after = ::time(nullptr);
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_ctime >= before);
  REQUIRE(ds.msg_ctime <= after);
}

BEHAVIOUR("sysv-msg.ctl.new-queue-qbytes-is-msgmnb", "[linux-specific]",
          "a new queue's msg_qbytes is the msgmnb limit of /proc/sys/kernel/msgmnb",
          "msgget(2) DESCRIPTION (msg_qbytes is set to MSGMNB); proc(5) /proc/sys/kernel/msgmnb") {
  auto q = make_msg_queue();
  REQUIRE(static_cast<long>(msg_stat(q.get()).msg_qbytes) == msgmnb());
}

BEHAVIOUR("sysv-msg.ctl.owner-may-lower-qbytes", "[posix][unprivileged]",
          "the unprivileged owner may lower msg_qbytes with IPC_SET, and the new limit applies",
          "msgctl(2) IPC_SET; msgop(2) msgsnd() (capacity governed by msg_qbytes)") {
  auto q = make_msg_queue();
  if (is_root()) {
    // The unprivileged child must own the queue.
    auto ds = msg_stat(q.get());
    ds.msg_perm.uid = unprivileged_uid();
    msg_set(q.get(), ds);
  }
  auto st = run_unprivileged([id = q.get()] {
    msqid_ds ds{};
    if (::msgctl(id, IPC_STAT, &ds) != 0) return 2;
    ds.msg_qbytes = 3;
    if (::msgctl(id, IPC_SET, &ds) != 0) return 1;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(msg_stat(q.get()).msg_qbytes == 3);
  send_msg(q.get(), 1, "abc", IPC_NOWAIT);
  MsgBuf<8> m;
  m.mtype = 1;
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 1, IPC_NOWAIT)), FailsWith(EAGAIN));
}

BEHAVIOUR("sysv-msg.ctl.raising-qbytes-above-msgmnb-unprivileged-fails-eperm", "[posix][unprivileged]",
          "IPC_SET by the unprivileged owner with msg_qbytes above msgmnb fails with EPERM",
          "msgctl(2) IPC_SET and ERRORS (EPERM: increase msg_qbytes beyond MSGMNB)") {
  auto q = make_msg_queue();
  if (is_root()) {
    auto ds = msg_stat(q.get());
    ds.msg_perm.uid = unprivileged_uid();
    msg_set(q.get(), ds);
  }
  long const mnb = msgmnb();
  auto st = run_unprivileged([id = q.get(), mnb] {
    msqid_ds ds{};
    if (::msgctl(id, IPC_STAT, &ds) != 0) return 2;
    // First prove the caller may use IPC_SET at all (it owns the queue), so that the
    // EPERM below is about the limit, not about ownership.
    ds.msg_qbytes = static_cast<msglen_t>(mnb - 1);
    if (::msgctl(id, IPC_SET, &ds) != 0) return 3;
    ds.msg_qbytes = static_cast<msglen_t>(mnb + 1);
    auto r = sys(::msgctl(id, IPC_SET, &ds));
    return r.value == -1 && r.err == EPERM ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(static_cast<long>(msg_stat(q.get()).msg_qbytes) == mnb - 1);
}

BEHAVIOUR("sysv-msg.ctl.privileged-may-raise-qbytes-above-msgmnb", "[linux-specific]",
          "a process with CAP_SYS_RESOURCE may raise msg_qbytes above msgmnb",
          "msgctl(2) IPC_SET (appropriate privilege, Linux: CAP_SYS_RESOURCE); msgop(2) NOTES (MSGMNB)") {
  // Root in a container may lack it.
  if (!has_effective_cap(CAP_SYS_RESOURCE)) skip("needs CAP_SYS_RESOURCE in the effective set");
  auto q = make_msg_queue();
  auto ds = msg_stat(q.get());
  ds.msg_qbytes = static_cast<msglen_t>(msgmnb() + 1);
  REQUIRE_THAT(sys(::msgctl(q.get(), IPC_SET, &ds)), Returns(0));
  REQUIRE(static_cast<long>(msg_stat(q.get()).msg_qbytes) == msgmnb() + 1);
}

BEHAVIOUR("sysv-msg.ctl.ipc-set-updates-ctime", "[posix]",
          "IPC_SET sets msg_ctime to the current time",
          "msgctl(2) IPC_SET (updating also its msg_ctime member) and msg_ctime") {
  auto q = make_msg_queue();
  time_t const created = msg_stat(q.get()).msg_ctime;
  // msg_ctime has a resolution of one second: an update is only visible once the clock has
  // moved past the creation second. Nothing but the clock can tell us that, so poll it.
  REQUIRE(wait_past_second(created));
  time_t before = ::time(nullptr);
  auto ds = msg_stat(q.get());
  ds.msg_perm.mode = 0640;
  msg_set(q.get(), ds);
  time_t after = ::time(nullptr);
  auto now = msg_stat(q.get());
  REQUIRE(now.msg_ctime >= before);
  REQUIRE(now.msg_ctime <= after);
}

BEHAVIOUR("sysv-msg.ctl.stat-reports-qnum-and-cbytes", "[linux-specific]",
          "IPC_STAT reports the number of queued messages in msg_qnum and their total mtext bytes "
          "in msg_cbytes, and both drop when a message is received",
          "msgctl(2) msqid_ds (msg_qnum, msg_cbytes)") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "four");
  send_msg(q.get(), 2, "sixsix");
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_qnum == 2);
  REQUIRE(ds.msg_cbytes == 10);
  recv_msg(q.get(), 1, IPC_NOWAIT);
  ds = msg_stat(q.get());
  REQUIRE(ds.msg_qnum == 1);
  REQUIRE(ds.msg_cbytes == 6);
}

BEHAVIOUR("sysv-msg.ctl.stat-removed-id-fails-einval", "[posix]",
          "IPC_STAT on the identifier of a removed queue fails with EINVAL: the identifier is no "
          "longer valid (Linux does not report EIDRM once the removal is complete)",
          "msgctl(2) ERRORS (EINVAL: invalid value for msqid); POSIX.1-2017 msgctl() ERRORS") {
  auto q = make_msg_queue();
  int id = q.get();
  q.reset();
  msqid_ds ds{};
  REQUIRE_THAT(sys(::msgctl(id, IPC_STAT, &ds)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-msg.ctl.rmid-twice-fails-einval", "[posix]",
          "a second IPC_RMID on the identifier of a removed queue fails with EINVAL",
          "msgctl(2) ERRORS (EINVAL: invalid value for msqid); POSIX.1-2017 msgctl() ERRORS") {
  auto q = make_msg_queue();
  int id = q.get();
  REQUIRE_THAT(sys(::msgctl(id, IPC_RMID, nullptr)), Returns(0));
  REQUIRE_THAT(sys(::msgctl(id, IPC_RMID, nullptr)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-msg.ctl.rmid-discards-queued-messages", "[posix]",
          "IPC_RMID removes the queue at once, queued messages included: its key names no queue",
          "msgctl(2) IPC_RMID (immediately remove the message queue); msgget(2) ERRORS (ENOENT)") {
  key_t key = fresh_key();
  auto q = make_msg_queue(key);
  send_msg(q.get(), 1, "lost");
  REQUIRE_THAT(sys(::msgctl(q.get(), IPC_RMID, nullptr)), Returns(0));
  REQUIRE_THAT(sys(::msgget(key, 0)), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-msg.ctl.invalid-cmd-fails-einval", "[posix]",
          "msgctl with an unknown cmd fails with EINVAL",
          "msgctl(2) ERRORS (EINVAL: invalid value for cmd); POSIX.1-2017 msgctl() ERRORS") {
  auto q = make_msg_queue();
  msqid_ds ds{};
  REQUIRE_THAT(sys(::msgctl(q.get(), 0x3fff, &ds)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-msg.ctl.stat-without-read-permission-fails-eacces", "[posix][unprivileged]",
          "IPC_STAT by an unprivileged process without read permission fails with EACCES",
          "msgctl(2) IPC_STAT and ERRORS (EACCES)") {
  // Write-only for every class: the same check for the owner (unprivileged run) and for
  // nobody (root run).
  auto q = make_msg_queue(IPC_PRIVATE, 0222);
  auto st = run_unprivileged([id = q.get()] {
    msqid_ds ds{};
    auto r = sys(::msgctl(id, IPC_STAT, &ds));
    return r.value == -1 && r.err == EACCES ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
}

namespace {
// The index of queue `id` in the kernel's array, found by walking the indices from 0 to the
// highest used one (the return value of IPC_INFO) with MSG_STAT until one answers with id.
// Other tests may create and remove queues meanwhile: their slots answer EINVAL, EACCES or
// another id, which the walk passes over. The caller must be able to read the queue.
int msg_slot_of(int id) {
  msginfo info{};
  int const highest = ::msgctl(0, IPC_INFO, reinterpret_cast<msqid_ds*>(&info));
  if (highest < 0) throw std::runtime_error("msgctl IPC_INFO failed");
  for (int idx = 0; idx <= highest; ++idx) {
    msqid_ds ds{};
    if (::msgctl(idx, MSG_STAT, &ds) == id) return idx;
  }
  throw std::runtime_error("no index of the queue array answers MSG_STAT with id " + std::to_string(id));
}

void set_mode(int id, unsigned short mode) {
  auto ds = msg_stat(id);
  ds.msg_perm.mode = mode;
  msg_set(id, ds);
}
}  // namespace

BEHAVIOUR("sysv-msg.ctl.msg-stat-by-index-returns-id", "[linux-specific]",
          "MSG_STAT with an index of the kernel's queue array (0 up to the value IPC_INFO returns) "
          "returns the identifier of the queue in that slot and fills its msqid_ds",
          "msgctl(2) MSG_STAT, IPC_INFO and RETURN VALUE") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "abc");
  int const idx = msg_slot_of(q.get());
  msqid_ds ds{};
  REQUIRE_THAT(sys(::msgctl(idx, MSG_STAT, &ds)), Returns(q.get()));
  REQUIRE(ds.msg_qnum == 1);
  REQUIRE(ds.msg_cbytes == 3);
}

BEHAVIOUR("sysv-msg.ctl.msg-stat-without-read-permission-fails-eacces", "[linux-specific][unprivileged]",
          "MSG_STAT on the slot of a queue the unprivileged caller may not read fails with EACCES",
          "msgctl(2) MSG_STAT and ERRORS (EACCES: IPC_STAT or MSG_STAT without read permission)") {
  auto q = make_msg_queue(IPC_PRIVATE, 0600);
  int const idx = msg_slot_of(q.get());
  // Write-only for every class: the same check for the owner (unprivileged run) and for
  // nobody (root run).
  set_mode(q.get(), 0222);
  auto st = run_unprivileged([idx] {
    msqid_ds ds{};
    auto r = sys(::msgctl(idx, MSG_STAT, &ds));
    return r.value == -1 && r.err == EACCES ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
}

BEHAVIOUR("sysv-msg.ctl.msg-stat-any-ignores-read-permission", "[linux-specific][unprivileged]",
          "MSG_STAT_ANY returns the identifier and msqid_ds of a queue the unprivileged caller may "
          "not read",
          "msgctl(2) MSG_STAT_ANY (since Linux 4.17)") {
  auto q = make_msg_queue(IPC_PRIVATE, 0600);
  send_msg(q.get(), 1, "ab");
  int const idx = msg_slot_of(q.get());
  set_mode(q.get(), 0222);
  Shared<SysResult> got(SysResult{-2, 0});
  Shared<unsigned long> cbytes(0);
  auto st = run_unprivileged([&, idx] {
    msqid_ds ds{};
    *got = sys(::msgctl(idx, MSG_STAT_ANY, &ds));
    *cbytes = ds.msg_cbytes;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  // The slot is known to hold the queue: EINVAL can only mean the command is unknown (< 4.17).
  if (got->value == -1 && got->err == EINVAL) unsupported("msgctl rejects MSG_STAT_ANY with EINVAL");
  REQUIRE_THAT(*got, Returns(q.get()));
  REQUIRE(*cbytes == 2);
}
