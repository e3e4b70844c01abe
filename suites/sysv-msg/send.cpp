// sysv-msg.send.*: msgsnd(2). Source: msgop(2) "msgsnd()" and ERRORS; POSIX.1-2017 msgsnd().
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <sys/msg.h>

#include <cstring>

using namespace fx;

namespace {
void on_signal(int) {}

// Lowers the queue's msg_qbytes (the owner may always lower it: msgctl(2) IPC_SET).
void set_qbytes(int q, msglen_t bytes) {
  auto ds = msg_stat(q);
  ds.msg_qbytes = bytes;
  msg_set(q, ds);
}
}  // namespace

BEHAVIOUR("sysv-msg.send.appends-and-counts", "[posix]",
          "a successful msgsnd appends the message and increments msg_qnum",
          "msgop(2) msgsnd() (upon successful completion: msg_qnum is incremented by 1)") {
  auto q = make_msg_queue();
  MsgBuf<8> m;
  m.mtype = 1;
  std::memcpy(m.mtext, "abc", 3);
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 3, 0)), Returns(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 3, 0)), Returns(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 2);
}

BEHAVIOUR("sysv-msg.send.cbytes-counts-mtext-only", "[linux-specific]",
          "msg_cbytes counts only the msgsz bytes of mtext of each queued message, not mtype",
          "msgctl(2) msqid_ds (msg_cbytes); msgop(2) (msgsz is the size of mtext)") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "hello");
  send_msg(q.get(), 2, "");
  send_msg(q.get(), 3, "xy");
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_qnum == 3);
  REQUIRE(ds.msg_cbytes == 7);
}

BEHAVIOUR("sysv-msg.send.message-of-exactly-qbytes-fits", "[posix]",
          "a message whose mtext is exactly msg_qbytes long fits in an empty queue: mtype is not "
          "counted against msg_qbytes",
          "msgop(2) msgsnd() (queue capacity is governed by msg_qbytes; msgsz counts mtext)") {
  auto q = make_msg_queue();
  set_qbytes(q.get(), 16);
  send_msg(q.get(), 1, std::string(16, 'q'), IPC_NOWAIT);
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
}

BEHAVIOUR("sysv-msg.send.zero-length-message-allowed", "[posix]",
          "msgsnd with msgsz 0 succeeds and queues a message",
          "msgop(2) DESCRIPTION (messages of zero length are permitted)") {
  auto q = make_msg_queue();
  MsgBuf<1> m;
  m.mtype = 1;
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 0, IPC_NOWAIT)), Returns(0));
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_qnum == 1);
  REQUIRE(ds.msg_cbytes == 0);
}

BEHAVIOUR("sysv-msg.send.zero-mtype-fails-einval", "[posix]",
          "msgsnd of a message with mtype 0 fails with EINVAL",
          "msgop(2) ERRORS (msgsnd: EINVAL, nonpositive mtype value); POSIX.1-2017 msgsnd() ERRORS") {
  auto q = make_msg_queue();
  MsgBuf<8> m;
  m.mtype = 0;
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 1, IPC_NOWAIT)), FailsWith(EINVAL));
  REQUIRE(msg_stat(q.get()).msg_qnum == 0);
}

BEHAVIOUR("sysv-msg.send.negative-mtype-fails-einval", "[posix]",
          "msgsnd of a message with a negative mtype fails with EINVAL",
          "msgop(2) ERRORS (msgsnd: EINVAL, nonpositive mtype value); POSIX.1-2017 msgsnd() ERRORS") {
  auto q = make_msg_queue();
  MsgBuf<8> m;
  m.mtype = -5;
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 1, IPC_NOWAIT)), FailsWith(EINVAL));
  REQUIRE(msg_stat(q.get()).msg_qnum == 0);
}

BEHAVIOUR("sysv-msg.send.negative-msgsz-fails-einval", "[linux-specific]",
          "msgsnd with a msgsz that is negative as a signed value fails with EINVAL",
          "msgop(2) ERRORS (msgsnd: EINVAL, invalid msgsz value (less than 0 ...))") {
  auto q = make_msg_queue();
  MsgBuf<8> m;
  m.mtype = 1;
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, static_cast<size_t>(-1), IPC_NOWAIT)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-msg.send.msgsz-above-msgmax-fails-einval", "[posix]",
          "msgsnd with msgsz greater than msgmax (/proc/sys/kernel/msgmax) fails with EINVAL",
          "msgop(2) ERRORS (msgsnd: EINVAL, msgsz greater than MSGMAX) and NOTES (MSGMAX); "
          "POSIX.1-2017 msgsnd() ERRORS") {
  auto q = make_msg_queue();
  auto const max = static_cast<size_t>(msgmax());
  BigMsgBuf m(max + 1);
  m.mtype() = 1;
  REQUIRE_THAT(sys(::msgsnd(q.get(), m.get(), max + 1, IPC_NOWAIT)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-msg.send.msgsz-of-msgmax-accepted", "[linux-specific]",
          "msgsnd with msgsz equal to msgmax is accepted (it fails only above msgmax)",
          "msgop(2) ERRORS (EINVAL: greater than MSGMAX) and NOTES (MSGMAX)") {
  auto q = make_msg_queue();
  auto const max = static_cast<size_t>(msgmax());
  if (static_cast<long>(max) > msgmnb()) skip("msgmax is above msgmnb: such a message never fits a new queue");
  BigMsgBuf m(max);
  m.mtype() = 1;
  REQUIRE_THAT(sys(::msgsnd(q.get(), m.get(), max, IPC_NOWAIT)), Returns(0));
  REQUIRE(msg_stat(q.get()).msg_cbytes == max);
}

BEHAVIOUR("sysv-msg.send.nowait-full-queue-fails-eagain", "[posix]",
          "msgsnd with IPC_NOWAIT fails with EAGAIN when the message would exceed msg_qbytes",
          "msgop(2) msgsnd() (IPC_NOWAIT) and ERRORS (EAGAIN); POSIX.1-2017 msgsnd() ERRORS") {
  auto q = make_msg_queue();
  set_qbytes(q.get(), 10);
  send_msg(q.get(), 1, "123456789", IPC_NOWAIT);
  MsgBuf<8> m;
  m.mtype = 1;
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 2, IPC_NOWAIT)), FailsWith(EAGAIN));
  // A message that still fits is accepted.
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 1, IPC_NOWAIT)), Returns(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 2);
}

BEHAVIOUR("sysv-msg.send.message-count-bounded-by-qbytes", "[linux-specific]",
          "the number of queued messages is also limited by msg_qbytes: with msg_qbytes 4, a fifth "
          "zero-length message fails with EAGAIN",
          "msgop(2) msgsnd() (a queue is full if another message would exceed msg_qbytes in number)") {
  auto q = make_msg_queue();
  set_qbytes(q.get(), 4);
  MsgBuf<1> m;
  m.mtype = 1;
  for (int i = 0; i < 4; ++i) REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 0, IPC_NOWAIT)), Returns(0));
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 0, IPC_NOWAIT)), FailsWith(EAGAIN));
  REQUIRE(msg_stat(q.get()).msg_qnum == 4);
}

BEHAVIOUR("sysv-msg.send.blocks-while-full-until-receive", "[posix]",
          "msgsnd without IPC_NOWAIT sleeps while the message would exceed msg_qbytes and completes "
          "once a receive makes room",
          "msgop(2) msgsnd() (default behavior is to block until space becomes available)") {
  auto q = make_msg_queue();
  set_qbytes(q.get(), 8);
  send_msg(q.get(), 1, "12345678", IPC_NOWAIT);
  Shared<long> rv(-2);
  auto sender = Child::fork([&, id = q.get()] {
    MsgBuf<8> m;
    m.mtype = 2;
    std::memcpy(m.mtext, "late", 4);
    *rv = ::msgsnd(id, &m, 4, 0);
  });
  REQUIRE(wait_blocked(sender.pid(), SYS_msgsnd));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
  REQUIRE(recv_msg(q.get(), 1, IPC_NOWAIT).text == "12345678");
  REQUIRE_THAT(sender.wait(), ExitedWith(0));
  REQUIRE(*rv == 0);
  auto m = recv_msg(q.get(), 0, IPC_NOWAIT);
  REQUIRE(m.type == 2);
  REQUIRE(m.text == "late");
}

BEHAVIOUR("sysv-msg.send.rmid-wakes-blocked-sender-with-eidrm", "[posix]",
          "removing the queue makes a sender blocked in msgsnd on a full queue fail with EIDRM",
          "msgop(2) msgsnd() (the queue is removed) and ERRORS (EIDRM); msgctl(2) IPC_RMID") {
  auto q = make_msg_queue();
  set_qbytes(q.get(), 1);
  send_msg(q.get(), 1, "x", IPC_NOWAIT);
  Shared<long> rv(-2);
  Shared<int> err(0);
  auto sender = Child::fork([&, id = q.get()] {
    MsgBuf<8> m;
    m.mtype = 1;
    *rv = ::msgsnd(id, &m, 1, 0);
    *err = errno;
  });
  REQUIRE(wait_blocked(sender.pid(), SYS_msgsnd));
  REQUIRE_THAT(sys(::msgctl(q.get(), IPC_RMID, nullptr)), Returns(0));
  REQUIRE_THAT(sender.wait(), ExitedWith(0));
  REQUIRE(*rv == -1);
  REQUIRE(errno_name(*err) == errno_name(EIDRM));
}

BEHAVIOUR("sysv-msg.send.signal-interrupts-with-eintr-despite-sa-restart", "[linux-specific][signal]",
          "a handled signal makes a msgsnd blocked on a full queue fail with EINTR even when the "
          "handler has SA_RESTART: msgsnd is never restarted",
          "msgop(2) msgsnd() (a signal is caught); signal(7) Interruption of system calls and "
          "library functions by signal handlers") {
  auto q = make_msg_queue();
  set_qbytes(q.get(), 1);
  send_msg(q.get(), 1, "x", IPC_NOWAIT);
  Shared<long> rv(-2);
  Shared<int> err(0);
  auto sender = Child::fork([&, id = q.get()] {
    ScopedHandler h(SIGUSR1, on_signal, SA_RESTART);
    MsgBuf<8> m;
    m.mtype = 1;
    *rv = ::msgsnd(id, &m, 1, 0);
    *err = errno;
  });
  REQUIRE(wait_blocked(sender.pid(), SYS_msgsnd));
  sender.signal(SIGUSR1);
  REQUIRE_THAT(sender.wait(), ExitedWith(0));
  REQUIRE(*rv == -1);
  REQUIRE(errno_name(*err) == errno_name(EINTR));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
}

BEHAVIOUR("sysv-msg.send.without-write-permission-fails-eacces", "[posix][unprivileged]",
          "msgsnd by an unprivileged process without write permission on the queue fails with EACCES",
          "msgop(2) DESCRIPTION (write permission to send) and ERRORS (EACCES)") {
  // Read-only for every class: the same check for the owner (unprivileged run) and for
  // nobody (root run).
  auto q = make_msg_queue(IPC_PRIVATE, 0444);
  auto st = run_unprivileged([id = q.get()] {
    MsgBuf<8> m;
    m.mtype = 1;
    auto r = sys(::msgsnd(id, &m, 1, IPC_NOWAIT));
    return r.value == -1 && r.err == EACCES ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 0);
}

BEHAVIOUR("sysv-msg.send.removed-queue-fails-einval", "[posix]",
          "msgsnd on the identifier of a removed queue fails with EINVAL",
          "msgop(2) ERRORS (msgsnd: EINVAL, invalid msqid value)") {
  auto q = make_msg_queue();
  int id = q.get();
  q.reset();
  MsgBuf<8> m;
  m.mtype = 1;
  REQUIRE_THAT(sys(::msgsnd(id, &m, 1, IPC_NOWAIT)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-msg.send.updates-lspid-and-stime", "[posix]",
          "a successful msgsnd sets msg_lspid to the caller's pid and msg_stime to the current time",
          "msgop(2) msgsnd() (upon successful completion); POSIX.1-2017 msgsnd()") {
  auto q = make_msg_queue();
  Shared<pid_t> child_pid(0);
  time_t before = ::time(nullptr);
  auto st = run_in_child([&, id = q.get()] {
    *child_pid = ::getpid();
    MsgBuf<8> m;
    m.mtype = 1;
    return ::msgsnd(id, &m, 1, IPC_NOWAIT) == 0 ? 0 : 1;
  });
  time_t after = ::time(nullptr);
  REQUIRE_THAT(st, ExitedWith(0));
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_lspid == *child_pid);
  REQUIRE(ds.msg_stime >= before);
  REQUIRE(ds.msg_stime <= after);
  REQUIRE(ds.msg_lrpid == 0);
}

BEHAVIOUR("sysv-msg.send.messages-survive-sender-exit", "[posix]",
          "messages stay queued after the process that sent them has exited",
          "sysvipc(7); msgop(2) msgsnd() (appends a copy of the message to the queue)") {
  auto q = make_msg_queue();
  auto st = run_in_child([id = q.get()] {
    send_msg(id, 4, "from the dead");
    send_msg(id, 5, "again");
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 2);
  auto m = recv_msg(q.get(), 0, IPC_NOWAIT);
  REQUIRE(m.type == 4);
  REQUIRE(m.text == "from the dead");
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).text == "again");
}
