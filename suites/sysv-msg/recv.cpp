// sysv-msg.recv.*: msgrcv(2). Source: msgop(2) "msgrcv()", RETURN VALUE and ERRORS;
// POSIX.1-2017 msgrcv().
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <sys/msg.h>

#include <cstring>

using namespace fx;

namespace {
// Sends (type, text) pairs in order; set-up, so it throws on failure.
void fill(int q, std::initializer_list<std::pair<long, char const*>> msgs) {
  for (auto const& [type, text] : msgs) send_msg(q, type, text);
}
}  // namespace

BEHAVIOUR("sysv-msg.recv.returns-mtext-size", "[posix]",
          "msgrcv returns the number of bytes copied into mtext, not counting mtype",
          "msgop(2) RETURN VALUE; POSIX.1-2017 msgrcv() RETURN VALUE") {
  auto q = make_msg_queue();
  send_msg(q.get(), 7, "hello");
  MsgBuf<64> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 0, IPC_NOWAIT)), Returns(5));
  REQUIRE(m.mtype == 7);
  REQUIRE(std::string(m.mtext, 5) == "hello");
}

BEHAVIOUR("sysv-msg.recv.zero-length-message", "[posix]",
          "a message with no mtext is received as a 0-byte message carrying its type",
          "msgop(2) DESCRIPTION (messages of zero length are permitted)") {
  auto q = make_msg_queue();
  MsgBuf<8> m;
  m.mtype = 3;
  REQUIRE_THAT(sys(::msgsnd(q.get(), &m, 0, IPC_NOWAIT)), Returns(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
  MsgBuf<8> r;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &r, sizeof r.mtext, 0, IPC_NOWAIT)), Returns(0));
  REQUIRE(r.mtype == 3);
  REQUIRE(msg_stat(q.get()).msg_qnum == 0);
}

BEHAVIOUR("sysv-msg.recv.type-zero-takes-first", "[posix]",
          "msgtyp 0 receives the first message in the queue, whatever its type",
          "msgop(2) msgrcv() (msgtyp is 0); POSIX.1-2017 msgrcv()") {
  auto q = make_msg_queue();
  fill(q.get(), {{5, "first"}, {1, "second"}, {3, "third"}});
  auto m = recv_msg(q.get(), 0, IPC_NOWAIT);
  REQUIRE(m.type == 5);
  REQUIRE(m.text == "first");
}

BEHAVIOUR("sysv-msg.recv.type-zero-is-fifo", "[posix]",
          "repeated receives with msgtyp 0 return the messages in the order they were sent",
          "msgop(2) msgsnd() (appends) and msgrcv() (msgtyp is 0)") {
  auto q = make_msg_queue();
  fill(q.get(), {{2, "a"}, {1, "b"}, {2, "c"}});
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).text == "a");
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).text == "b");
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).text == "c");
}

BEHAVIOUR("sysv-msg.recv.positive-type-takes-first-of-that-type", "[posix]",
          "msgtyp > 0 receives the first message of exactly that type, skipping others",
          "msgop(2) msgrcv() (msgtyp greater than 0); POSIX.1-2017 msgrcv()") {
  auto q = make_msg_queue();
  fill(q.get(), {{1, "a"}, {2, "b"}, {3, "c"}, {2, "d"}});
  auto m = recv_msg(q.get(), 2, IPC_NOWAIT);
  REQUIRE(m.type == 2);
  REQUIRE(m.text == "b");
  REQUIRE(recv_msg(q.get(), 2, IPC_NOWAIT).text == "d");
  // The skipped messages are still there, in order.
  REQUIRE(msg_stat(q.get()).msg_qnum == 2);
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).text == "a");
}

BEHAVIOUR("sysv-msg.recv.negative-type-takes-lowest-type", "[posix]",
          "msgtyp < 0 receives the first message of the lowest type that is <= |msgtyp|",
          "msgop(2) msgrcv() (msgtyp less than 0); POSIX.1-2017 msgrcv()") {
  auto q = make_msg_queue();
  fill(q.get(), {{3, "a"}, {5, "b"}, {2, "c"}, {4, "d"}, {2, "e"}});
  auto m = recv_msg(q.get(), -4, IPC_NOWAIT);
  REQUIRE(m.type == 2);
  REQUIRE(m.text == "c");
  // Type 5 is above |msgtyp|: with only 3, 4, 5 left, -4 still picks the lowest (3).
  REQUIRE(recv_msg(q.get(), -4, IPC_NOWAIT).text == "e");
  REQUIRE(recv_msg(q.get(), -4, IPC_NOWAIT).text == "a");
}

BEHAVIOUR("sysv-msg.recv.negative-type-without-match-fails-enomsg", "[posix]",
          "msgtyp < 0 with IPC_NOWAIT and only types above |msgtyp| queued fails with ENOMSG",
          "msgop(2) msgrcv() (msgtyp less than 0) and ERRORS (ENOMSG)") {
  auto q = make_msg_queue();
  fill(q.get(), {{5, "a"}, {9, "b"}});
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, -4, IPC_NOWAIT)), FailsWith(ENOMSG));
  REQUIRE(msg_stat(q.get()).msg_qnum == 2);
}

BEHAVIOUR("sysv-msg.recv.except-takes-first-not-of-type", "[linux-specific]",
          "msgtyp > 0 with MSG_EXCEPT receives the first message whose type differs from msgtyp",
          "msgop(2) msgrcv() (MSG_EXCEPT)") {
  auto q = make_msg_queue();
  fill(q.get(), {{1, "a"}, {1, "b"}, {3, "c"}, {2, "d"}});
  auto m = recv_msg(q.get(), 1, IPC_NOWAIT | MSG_EXCEPT);
  REQUIRE(m.type == 3);
  REQUIRE(m.text == "c");
}

BEHAVIOUR("sysv-msg.recv.except-with-only-that-type-fails-enomsg", "[linux-specific]",
          "MSG_EXCEPT|IPC_NOWAIT when every queued message has type msgtyp fails with ENOMSG",
          "msgop(2) msgrcv() (MSG_EXCEPT, IPC_NOWAIT) and ERRORS (ENOMSG)") {
  auto q = make_msg_queue();
  fill(q.get(), {{4, "a"}, {4, "b"}});
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 4, IPC_NOWAIT | MSG_EXCEPT)),
               FailsWith(ENOMSG));
}

BEHAVIOUR("sysv-msg.recv.negative-msgsz-fails-einval", "[linux-specific]",
          "msgrcv with a msgsz that is negative as a signed value fails with EINVAL",
          "msgop(2) ERRORS (msgrcv: EINVAL, msgsz was less than 0)") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "x");
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, static_cast<size_t>(-1), 0, IPC_NOWAIT)), FailsWith(EINVAL));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
}

BEHAVIOUR("sysv-msg.recv.too-long-fails-e2big-and-stays-queued", "[posix]",
          "without MSG_NOERROR, a message longer than msgsz fails with E2BIG and is not removed",
          "msgop(2) msgrcv() (MSG_NOERROR not specified) and ERRORS (E2BIG); POSIX.1-2017 msgrcv()") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "0123456789");
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, 4, 0, IPC_NOWAIT)), FailsWith(E2BIG));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).text == "0123456789");
}

BEHAVIOUR("sysv-msg.recv.noerror-truncates-and-discards-rest", "[posix]",
          "with MSG_NOERROR a message longer than msgsz is truncated to msgsz and the rest is lost",
          "msgop(2) msgrcv() (MSG_NOERROR); POSIX.1-2017 msgrcv()") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "0123456789");
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, 4, 0, IPC_NOWAIT | MSG_NOERROR)), Returns(4));
  REQUIRE(std::string(m.mtext, 4) == "0123");
  // The whole message was removed: nothing of the remaining 6 bytes is left to receive.
  REQUIRE(msg_stat(q.get()).msg_qnum == 0);
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 0, IPC_NOWAIT)), FailsWith(ENOMSG));
}

BEHAVIOUR("sysv-msg.recv.nowait-empty-fails-enomsg", "[posix]",
          "msgrcv with IPC_NOWAIT on an empty queue fails with ENOMSG",
          "msgop(2) msgrcv() (IPC_NOWAIT) and ERRORS (ENOMSG); POSIX.1-2017 msgrcv()") {
  auto q = make_msg_queue();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 0, IPC_NOWAIT)), FailsWith(ENOMSG));
}

BEHAVIOUR("sysv-msg.recv.nowait-no-matching-type-fails-enomsg", "[posix]",
          "msgrcv with IPC_NOWAIT for a type that is not queued fails with ENOMSG and leaves the others",
          "msgop(2) msgrcv() (IPC_NOWAIT) and ERRORS (ENOMSG)") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "a");
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 2, IPC_NOWAIT)), FailsWith(ENOMSG));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
}

BEHAVIOUR("sysv-msg.recv.blocks-until-message-arrives", "[posix]",
          "msgrcv without IPC_NOWAIT on an empty queue sleeps until a message is sent, then returns it",
          "msgop(2) msgrcv() (a message of the desired type is placed in the queue)") {
  auto q = make_msg_queue();
  Shared<MsgBuf<16>> got;
  Shared<long> rv(-2);
  auto receiver = Child::fork([&, id = q.get()] { *rv = ::msgrcv(id, got.get(), sizeof got->mtext, 0, 0); });
  REQUIRE(wait_blocked(receiver.pid(), SYS_msgrcv));
  send_msg(q.get(), 9, "wake");
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE(*rv == 4);
  REQUIRE(got->mtype == 9);
  REQUIRE(std::string(got->mtext, 4) == "wake");
}

BEHAVIOUR("sysv-msg.recv.blocked-receiver-ignores-other-types", "[posix]",
          "a receiver blocked for type 2 stays asleep when a type-1 message is sent, and that "
          "message stays queued; a type-2 message then wakes it",
          "msgop(2) msgrcv() (msgtyp greater than 0; blocked until a message of the desired type)") {
  auto q = make_msg_queue();
  Shared<MsgBuf<16>> got;
  Shared<long> rv(-2);
  auto receiver = Child::fork([&, id = q.get()] { *rv = ::msgrcv(id, got.get(), sizeof got->mtext, 2, 0); });
  REQUIRE(wait_blocked(receiver.pid(), SYS_msgrcv));
  send_msg(q.get(), 1, "one");
  // msgsnd hands a message straight to a matching sleeper before queueing it; the type-1
  // message was queued instead and the receiver is still asleep in msgrcv.
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
  REQUIRE(wait_blocked(receiver.pid(), SYS_msgrcv));
  REQUIRE_FALSE(receiver.exited_yet());
  send_msg(q.get(), 2, "two");
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE(*rv == 3);
  REQUIRE(got->mtype == 2);
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_qnum == 1);
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).type == 1);
}

BEHAVIOUR("sysv-msg.recv.rmid-wakes-blocked-receiver-with-eidrm", "[posix]",
          "removing the queue makes a receiver blocked in msgrcv fail with EIDRM",
          "msgop(2) msgrcv() (the message queue is removed) and ERRORS (EIDRM); msgctl(2) IPC_RMID") {
  auto q = make_msg_queue();
  Shared<long> rv(-2);
  Shared<int> err(0);
  auto receiver = Child::fork([&, id = q.get()] {
    MsgBuf<16> m;
    *rv = ::msgrcv(id, &m, sizeof m.mtext, 0, 0);
    *err = errno;
  });
  REQUIRE(wait_blocked(receiver.pid(), SYS_msgrcv));
  REQUIRE_THAT(sys(::msgctl(q.get(), IPC_RMID, nullptr)), Returns(0));
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE(*rv == -1);
  REQUIRE(errno_name(*err) == errno_name(EIDRM));
}

namespace {
void on_signal(int) {}
}  // namespace

BEHAVIOUR("sysv-msg.recv.signal-interrupts-with-eintr-despite-sa-restart", "[linux-specific][signal]",
          "a handled signal makes a blocked msgrcv fail with EINTR even when the handler has "
          "SA_RESTART: msgrcv is never restarted",
          "msgop(2) msgrcv() (the calling process catches a signal); signal(7) Interruption of "
          "system calls and library functions by signal handlers") {
  auto q = make_msg_queue();
  Shared<long> rv(-2);
  Shared<int> err(0);
  auto receiver = Child::fork([&, id = q.get()] {
    ScopedHandler h(SIGUSR1, on_signal, SA_RESTART);
    MsgBuf<16> m;
    *rv = ::msgrcv(id, &m, sizeof m.mtext, 0, 0);
    *err = errno;
  });
  REQUIRE(wait_blocked(receiver.pid(), SYS_msgrcv));
  receiver.signal(SIGUSR1);
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE(*rv == -1);
  REQUIRE(errno_name(*err) == errno_name(EINTR));
}

BEHAVIOUR("sysv-msg.recv.without-read-permission-fails-eacces", "[posix][unprivileged]",
          "msgrcv by an unprivileged process without read permission on the queue fails with EACCES",
          "msgop(2) DESCRIPTION (read permission to receive) and ERRORS (EACCES)") {
  // Write-only for every class, so the check is the same for the owner (unprivileged run)
  // and for nobody (root run).
  auto q = make_msg_queue(IPC_PRIVATE, 0222);
  send_msg(q.get(), 1, "x");
  auto st = run_unprivileged([id = q.get()] {
    MsgBuf<16> m;
    auto r = sys(::msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT));
    return r.value == -1 && r.err == EACCES ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  // Make the queue readable again (IPC_SET needs ownership, not read permission) to see
  // that the message is still there.
  msqid_ds ds{};
  ds.msg_perm.uid = ::geteuid();
  ds.msg_perm.gid = ::getegid();
  ds.msg_perm.mode = 0600;
  ds.msg_qbytes = static_cast<msglen_t>(msgmnb());
  REQUIRE_THAT(sys(::msgctl(q.get(), IPC_SET, &ds)), Returns(0));
  REQUIRE(msg_stat(q.get()).msg_qnum == 1);
}

BEHAVIOUR("sysv-msg.recv.removed-queue-fails-einval", "[posix]",
          "msgrcv on the identifier of a removed queue fails with EINVAL",
          "msgop(2) ERRORS (msgrcv: EINVAL, msqid was invalid)") {
  auto q = make_msg_queue();
  int id = q.get();
  q.reset();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-msg.recv.updates-lrpid-rtime-and-qnum", "[posix]",
          "a successful msgrcv sets msg_lrpid to the caller's pid, msg_rtime to the current time "
          "and decrements msg_qnum",
          "msgop(2) msgrcv() (upon successful completion); POSIX.1-2017 msgrcv()") {
  auto q = make_msg_queue();
  fill(q.get(), {{1, "a"}, {1, "b"}});
  Shared<pid_t> child_pid(0);
  time_t before = ::time(nullptr);
  auto st = run_in_child([&, id = q.get()] {
    *child_pid = ::getpid();
    MsgBuf<16> m;
    return ::msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT) == 1 ? 0 : 1;
  });
  time_t after = ::time(nullptr);
  REQUIRE_THAT(st, ExitedWith(0));
  auto ds = msg_stat(q.get());
  REQUIRE(ds.msg_lrpid == *child_pid);
  REQUIRE(ds.msg_qnum == 1);
  REQUIRE(ds.msg_rtime >= before);
  REQUIRE(ds.msg_rtime <= after);
}
