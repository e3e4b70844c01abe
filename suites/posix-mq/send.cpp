// posix-mq.send.*: mq_send and mq_timedsend. Sources: mq_send(3); POSIX.1-2017 mq_send().
// glibc's mq_send is the mq_timedsend system call with no timeout (mq_overview(7)).
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <unistd.h>

using namespace fx;

namespace {
void fill(mqd_t q, long n) {
  for (long i = 0; i < n; ++i)
    if (::mq_send(q, "f", 1, 0) != 0) throw std::runtime_error("mq_send while filling");
}
}  // namespace

BEHAVIOUR("posix-mq.send.priority-at-mq-prio-max-fails-einval", "[posix]",
          "mq_send with msg_prio >= MQ_PRIO_MAX fails with EINVAL; MQ_PRIO_MAX - 1 is accepted",
          "POSIX.1-2017 mq_send() ERRORS (EINVAL msg_prio outside the valid range); mq_overview(7)") {
  auto m = make_posix_mq(O_RDWR, 2, 4);
  long prio_max = ::sysconf(_SC_MQ_PRIO_MAX);
  REQUIRE(prio_max > 0);
  REQUIRE_THAT(sys(::mq_send(m.get(), "x", 1, static_cast<unsigned>(prio_max))), FailsWith(EINVAL));
  REQUIRE_THAT(sys(::mq_send(m.get(), "x", 1, static_cast<unsigned>(prio_max - 1))), Returns(0));
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 1);
}

BEHAVIOUR("posix-mq.send.sysconf-prio-max-is-32768", "[linux-specific]",
          "sysconf(_SC_MQ_PRIO_MAX) returns 32768 on Linux, equal to MQ_PRIO_MAX (POSIX requires "
          "at least 32)",
          "mq_overview(7) DESCRIPTION (On Linux, sysconf(_SC_MQ_PRIO_MAX) returns 32768)") {
  CHECK(::sysconf(_SC_MQ_PRIO_MAX) == 32768);
  CHECK(MQ_PRIO_MAX == 32768);
}

BEHAVIOUR("posix-mq.send.message-longer-than-msgsize-fails-emsgsize", "[posix]",
          "mq_send of more than mq_msgsize bytes fails with EMSGSIZE and queues nothing; "
          "exactly mq_msgsize is accepted",
          "mq_send(3) ERRORS; POSIX.1-2017 mq_send() ERRORS") {
  auto m = make_posix_mq(O_RDWR, 2, 4);
  REQUIRE_THAT(sys(::mq_send(m.get(), "12345", 5, 0)), FailsWith(EMSGSIZE));
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 0);
  REQUIRE_THAT(sys(::mq_send(m.get(), "1234", 4, 0)), Returns(0));
}

BEHAVIOUR("posix-mq.send.zero-length-message-is-queued", "[posix]",
          "a zero-length message is queued and received with length 0",
          "mq_send(3) DESCRIPTION (Zero-length messages are allowed)") {
  auto m = make_posix_mq(O_RDWR, 2, 4);
  REQUIRE_THAT(sys(::mq_send(m.get(), "", 0, 3)), Returns(0));
  char buf[4];
  unsigned prio = 0;
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, sizeof buf, &prio)), Returns(0));
  REQUIRE(prio == 3);
}

BEHAVIOUR("posix-mq.send.full-queue-blocks-until-receive", "[posix]",
          "mq_send on a full queue blocks until a receive makes room, then queues the message",
          "mq_send(3) DESCRIPTION; POSIX.1-2017 mq_send() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 2, 4);
  fill(m.get(), 2);
  auto sender = Child::fork([q = m.get()] { return ::mq_send(q, "late", 4, 0) == 0 ? 0 : 1; });
  REQUIRE(wait_blocked(sender.pid(), SYS_mq_timedsend));
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 2);
  char buf[4];
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, sizeof buf, nullptr)), Returns(1));
  REQUIRE_THAT(sender.wait(), ExitedWith(0));
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 2);
}

BEHAVIOUR("posix-mq.send.full-queue-nonblock-fails-eagain", "[posix]",
          "mq_send on a full queue opened O_NONBLOCK fails at once with EAGAIN",
          "mq_send(3) ERRORS; POSIX.1-2017 mq_send() ERRORS") {
  auto m = make_posix_mq(O_RDWR | O_NONBLOCK, 2, 4);
  fill(m.get(), 2);
  REQUIRE_THAT(sys(::mq_send(m.get(), "x", 1, 0)), FailsWith(EAGAIN));
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 2);
}

BEHAVIOUR("posix-mq.send.timedsend-on-full-queue-fails-etimedout", "[posix]",
          "mq_timedsend on a full queue fails with ETIMEDOUT once its absolute deadline passes",
          "mq_send(3) ERRORS; POSIX.1-2017 mq_timedsend() ERRORS") {
  auto m = make_posix_mq(O_RDWR, 1, 4);
  fill(m.get(), 1);
  timespec past = realtime_in(-1s);
  REQUIRE_THAT(sys(::mq_timedsend(m.get(), "x", 1, 0, &past)), FailsWith(ETIMEDOUT));
  timespec soon = realtime_in(20ms);
  REQUIRE_THAT(sys(::mq_timedsend(m.get(), "x", 1, 0, &soon)), FailsWith(ETIMEDOUT));
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 1);
}

BEHAVIOUR("posix-mq.send.timedsend-bad-nsec-fails-einval-when-it-would-block", "[posix]",
          "mq_timedsend on a full queue with tv_nsec >= 1000 million fails with EINVAL",
          "mq_send(3) ERRORS (EINVAL The call would have blocked, and abs_timeout was invalid)") {
  // Only the blocking case: Linux also checks the timeout when the queue has room, which
  // POSIX permits ("need not be checked") and mq_send(3) does not promise either way.
  auto m = make_posix_mq(O_RDWR, 1, 4);
  fill(m.get(), 1);
  timespec bad{::time(nullptr) + 60, 1'000'000'000};
  REQUIRE_THAT(sys(::mq_timedsend(m.get(), "x", 1, 0, &bad)), FailsWith(EINVAL));
}

BEHAVIOUR("posix-mq.send.read-only-descriptor-fails-ebadf", "[posix]",
          "mq_send through a descriptor opened O_RDONLY fails with EBADF",
          "mq_send(3) ERRORS (EBADF not opened for writing); POSIX.1-2017 mq_send() ERRORS") {
  auto m = make_posix_mq(O_RDWR, 1, 4);
  auto ro = open_posix_mq(m.name.str(), O_RDONLY);
  REQUIRE_THAT(sys(::mq_send(ro.get(), "x", 1, 0)), FailsWith(EBADF));
}
