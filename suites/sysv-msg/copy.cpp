// sysv-msg.copy.*: msgrcv(2) with MSG_COPY (Linux 3.8, CONFIG_CHECKPOINT_RESTORE).
// Source: msgop(2) msgrcv() MSG_COPY, ERRORS and BUGS.
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <sys/msg.h>

#include <string>

using namespace fx;

namespace {
// A queue holding three messages (types 10, 20, 30); reports the behaviour unsupported when
// the kernel was built without CONFIG_CHECKPOINT_RESTORE (MSG_COPY|IPC_NOWAIT gives ENOSYS).
MsgQueue queue_of_three() {
  auto q = make_msg_queue();
  send_msg(q.get(), 10, "zero");
  send_msg(q.get(), 20, "one");
  send_msg(q.get(), 30, "two");
  MsgBuf<16> m;
  if (::msgrcv(q.get(), &m, sizeof m.mtext, 0, MSG_COPY | IPC_NOWAIT) == -1 && errno == ENOSYS)
    unsupported("msgrcv MSG_COPY|IPC_NOWAIT fails with ENOSYS (no CONFIG_CHECKPOINT_RESTORE)");
  return q;
}
}  // namespace

BEHAVIOUR("sysv-msg.copy.copies-nth-message-without-removing", "[linux-specific]",
          "msgrcv with MSG_COPY|IPC_NOWAIT returns a copy of the message at position msgtyp "
          "(counting from 0) and leaves the queue unchanged",
          "msgop(2) msgrcv() (MSG_COPY)") {
  auto q = queue_of_three();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 1, MSG_COPY | IPC_NOWAIT)), Returns(3));
  REQUIRE(m.mtype == 20);
  REQUIRE(std::string(m.mtext, 3) == "one");
  REQUIRE(msg_stat(q.get()).msg_qnum == 3);
  // The copy did not take the message: an ordinary receive still gets all three in order.
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).type == 10);
  REQUIRE(recv_msg(q.get(), 0, IPC_NOWAIT).type == 20);
}

BEHAVIOUR("sysv-msg.copy.position-is-not-a-type", "[linux-specific]",
          "with MSG_COPY msgtyp is an ordinal position: msgtyp 2 copies the third message whatever "
          "its type",
          "msgop(2) msgrcv() (unless MSG_COPY is specified, msgtyp specifies the type; MSG_COPY)") {
  auto q = queue_of_three();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 2, MSG_COPY | IPC_NOWAIT)), Returns(3));
  REQUIRE(m.mtype == 30);
}

BEHAVIOUR("sysv-msg.copy.past-last-message-fails-enomsg", "[linux-specific]",
          "MSG_COPY|IPC_NOWAIT with a position past the last queued message fails with ENOMSG",
          "msgop(2) MSG_COPY and ERRORS (ENOMSG: IPC_NOWAIT and MSG_COPY, fewer than msgtyp messages)") {
  auto q = queue_of_three();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 3, MSG_COPY | IPC_NOWAIT)), FailsWith(ENOMSG));
  REQUIRE(msg_stat(q.get()).msg_qnum == 3);
}

BEHAVIOUR("sysv-msg.copy.without-nowait-fails-einval", "[linux-specific]",
          "MSG_COPY without IPC_NOWAIT fails with EINVAL (since Linux 3.14)",
          "msgop(2) ERRORS (EINVAL since Linux 3.14: MSG_COPY but not IPC_NOWAIT) and BUGS") {
  auto q = queue_of_three();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 0, MSG_COPY)), FailsWith(EINVAL));
  REQUIRE(msg_stat(q.get()).msg_qnum == 3);
}

BEHAVIOUR("sysv-msg.copy.with-except-fails-einval", "[linux-specific]",
          "MSG_COPY together with MSG_EXCEPT fails with EINVAL (since Linux 3.14)",
          "msgop(2) MSG_COPY, ERRORS (EINVAL since Linux 3.14: both MSG_COPY and MSG_EXCEPT) and BUGS") {
  auto q = queue_of_three();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, sizeof m.mtext, 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT)),
               FailsWith(EINVAL));
  REQUIRE(msg_stat(q.get()).msg_qnum == 3);
}

BEHAVIOUR("sysv-msg.copy.too-long-fails-e2big-and-stays-queued", "[linux-specific]",
          "MSG_COPY of a message longer than msgsz without MSG_NOERROR fails with E2BIG and the "
          "queue is unchanged",
          "msgop(2) msgrcv() (MSG_NOERROR not specified: E2BIG) and MSG_COPY") {
  auto q = queue_of_three();
  MsgBuf<16> m;
  REQUIRE_THAT(sys(::msgrcv(q.get(), &m, 2, 0, MSG_COPY | IPC_NOWAIT)), FailsWith(E2BIG));
  REQUIRE(msg_stat(q.get()).msg_qnum == 3);
}
