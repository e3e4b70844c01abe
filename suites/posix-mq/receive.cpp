// posix-mq.receive.*: mq_receive and mq_timedreceive. Sources: mq_receive(3);
// POSIX.1-2017 mq_receive(). glibc's mq_receive is the mq_timedreceive system call with no
// timeout (mq_overview(7)).
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

using namespace fx;

namespace {
struct Msg {
  std::string text;
  unsigned prio;
};
Msg receive(mqd_t q) {
  char buf[64];
  unsigned prio = 0;
  ssize_t n = ::mq_receive(q, buf, sizeof buf, &prio);
  if (n < 0) throw std::runtime_error("mq_receive");
  return {std::string(buf, static_cast<size_t>(n)), prio};
}
void send(mqd_t q, std::string const& s, unsigned prio) {
  if (::mq_send(q, s.data(), s.size(), prio) != 0) throw std::runtime_error("mq_send");
}
void on_signal(int) {}
}  // namespace

BEHAVIOUR("posix-mq.receive.highest-priority-first", "[posix]",
          "mq_receive returns the message of the highest priority and reports that priority",
          "mq_receive(3) DESCRIPTION; POSIX.1-2017 mq_receive() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 4, 64);
  send(m.get(), "low", 1);
  send(m.get(), "high", 7);
  send(m.get(), "mid", 4);
  char buf[64];
  unsigned prio = 0;
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, sizeof buf, &prio)), Returns(4));
  CHECK(std::string(buf, 4) == "high");
  CHECK(prio == 7);
  auto b = receive(m.get());
  CHECK((b.text == "mid" && b.prio == 4));
  auto c = receive(m.get());
  CHECK((c.text == "low" && c.prio == 1));
}

BEHAVIOUR("posix-mq.receive.fifo-within-a-priority", "[posix]",
          "messages of equal priority are received oldest first",
          "mq_receive(3) DESCRIPTION (the oldest message with the highest priority); mq_send(3)") {
  auto m = make_posix_mq(O_RDWR, 5, 64);
  send(m.get(), "a", 2);
  send(m.get(), "b", 2);
  send(m.get(), "x", 0);
  send(m.get(), "c", 2);
  send(m.get(), "y", 0);
  std::string order;
  for (int i = 0; i < 5; ++i) order += receive(m.get()).text;
  REQUIRE(order == "abcxy");
}

BEHAVIOUR("posix-mq.receive.buffer-smaller-than-msgsize-fails-emsgsize", "[posix]",
          "mq_receive with msg_len below mq_msgsize fails with EMSGSIZE, even for a short message, "
          "and leaves it queued",
          "mq_receive(3) ERRORS; POSIX.1-2017 mq_receive() ERRORS") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  send(m.get(), "hi", 0);
  char buf[16];
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, 15, nullptr)), FailsWith(EMSGSIZE));
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 1);
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, 16, nullptr)), Returns(2));
}

BEHAVIOUR("posix-mq.receive.empty-queue-blocks-until-send", "[posix]",
          "mq_receive on an empty queue blocks until a message is sent, then returns it",
          "mq_receive(3) DESCRIPTION; POSIX.1-2017 mq_receive() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  Shared<long> got(-2);
  auto receiver = Child::fork([&, q = m.get()] {
    char buf[16];
    *got = ::mq_receive(q, buf, sizeof buf, nullptr);
  });
  REQUIRE(wait_blocked(receiver.pid(), SYS_mq_timedreceive));
  send(m.get(), "wake", 0);
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE(*got == 4);
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 0);
}

BEHAVIOUR("posix-mq.receive.empty-queue-nonblock-fails-eagain", "[posix]",
          "mq_receive on an empty queue opened O_NONBLOCK fails at once with EAGAIN",
          "mq_receive(3) ERRORS; POSIX.1-2017 mq_receive() ERRORS") {
  auto m = make_posix_mq(O_RDWR | O_NONBLOCK, 2, 16);
  char buf[16];
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, sizeof buf, nullptr)), FailsWith(EAGAIN));
}

BEHAVIOUR("posix-mq.receive.timedreceive-on-empty-queue-fails-etimedout", "[posix]",
          "mq_timedreceive on an empty queue fails with ETIMEDOUT once its absolute deadline passes",
          "mq_receive(3) ERRORS; POSIX.1-2017 mq_timedreceive() ERRORS") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  char buf[16];
  timespec past = realtime_in(-1s);
  REQUIRE_THAT(sys(::mq_timedreceive(m.get(), buf, sizeof buf, nullptr, &past)), FailsWith(ETIMEDOUT));
  timespec soon = realtime_in(20ms);
  REQUIRE_THAT(sys(::mq_timedreceive(m.get(), buf, sizeof buf, nullptr, &soon)), FailsWith(ETIMEDOUT));
}

BEHAVIOUR("posix-mq.receive.timedreceive-bad-nsec-fails-einval-when-it-would-block", "[posix]",
          "mq_timedreceive on an empty queue with tv_nsec >= 1000 million fails with EINVAL",
          "mq_receive(3) ERRORS (EINVAL The call would have blocked, and abs_timeout was invalid)") {
  // Only the blocking case: Linux also checks the timeout when a message is waiting, which
  // POSIX permits ("need not be checked").
  auto m = make_posix_mq(O_RDWR, 2, 16);
  char buf[16];
  timespec bad{::time(nullptr) + 60, 1'000'000'000};
  REQUIRE_THAT(sys(::mq_timedreceive(m.get(), buf, sizeof buf, nullptr, &bad)), FailsWith(EINVAL));
  timespec negative{::time(nullptr) + 60, -1};
  REQUIRE_THAT(sys(::mq_timedreceive(m.get(), buf, sizeof buf, nullptr, &negative)), FailsWith(EINVAL));
}

BEHAVIOUR("posix-mq.receive.write-only-descriptor-fails-ebadf", "[posix]",
          "mq_receive through a descriptor opened O_WRONLY fails with EBADF",
          "mq_receive(3) ERRORS (EBADF not opened for reading); POSIX.1-2017 mq_receive() ERRORS") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  send(m.get(), "x", 0);
  auto wo = open_posix_mq(m.name.str(), O_WRONLY);
  char buf[16];
  REQUIRE_THAT(sys(::mq_receive(wo.get(), buf, sizeof buf, nullptr)), FailsWith(EBADF));
}

BEHAVIOUR("posix-mq.receive.handler-without-sa-restart-interrupts-eintr", "[posix][signal]",
          "a blocked mq_receive interrupted by a handler installed without SA_RESTART fails with EINTR",
          "mq_receive(3) ERRORS (EINTR); signal(7) Interruption of system calls") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  Checkpoints cp;
  Shared<SysResult> res(SysResult{-2, 0});
  auto receiver = Child::fork([&, q = m.get()] {
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    ::sigaction(SIGUSR1, &sa, nullptr);
    cp.wake(0);
    char buf[16];
    *res = sys(::mq_receive(q, buf, sizeof buf, nullptr));
  });
  REQUIRE(cp.wait(0));
  REQUIRE(wait_blocked(receiver.pid(), SYS_mq_timedreceive));
  receiver.signal(SIGUSR1);
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, FailsWith(EINTR));
}

BEHAVIOUR("posix-mq.receive.handler-with-sa-restart-restarts", "[linux-specific][signal]",
          "a blocked mq_receive interrupted by a handler installed with SA_RESTART is restarted and "
          "later returns the message",
          "signal(7) Interruption of system calls (POSIX message queue interfaces)") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  static Checkpoints* handled;  // the child's handler reports through the shared counters
  Checkpoints cp;
  handled = &cp;
  Shared<SysResult> res(SysResult{-2, 0});
  auto receiver = Child::fork([&, q = m.get()] {
    struct sigaction sa{};
    sa.sa_handler = [](int) { handled->wake(1); };
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGUSR1, &sa, nullptr);
    cp.wake(0);
    char buf[16];
    *res = sys(::mq_receive(q, buf, sizeof buf, nullptr));
  });
  REQUIRE(cp.wait(0));
  REQUIRE(wait_blocked(receiver.pid(), SYS_mq_timedreceive));
  receiver.signal(SIGUSR1);
  REQUIRE(cp.wait(1));
  REQUIRE(wait_blocked(receiver.pid(), SYS_mq_timedreceive));
  send(m.get(), "late", 0);
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, Returns(4));
}
