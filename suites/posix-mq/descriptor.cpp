// posix-mq.descriptor.*: message queue descriptors across fork and exec, and between
// unrelated processes. Sources: mq_overview(7) DESCRIPTION and Linux implementation of
// message queue descriptors.
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"
#include "fx/spawn.hpp"

#include <fcntl.h>
#include <unistd.h>

using namespace fx;

BEHAVIOUR("posix-mq.descriptor.inherited-across-fork", "[posix]",
          "a forked child can send on its parent's queue descriptors, and the parent receives it",
          "mq_overview(7) DESCRIPTION (After a fork(2), a child inherits copies of its parent's "
          "message queue descriptors)") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  auto st = run_in_child([q = m.get()] { return ::mq_send(q, "child", 5, 9) == 0 ? 0 : 1; });
  REQUIRE_THAT(st, ExitedWith(0));
  char buf[16];
  unsigned prio = 0;
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, sizeof buf, &prio)), Returns(5));
  REQUIRE(prio == 9);
}

BEHAVIOUR("posix-mq.descriptor.fork-shares-mq-flags", "[posix]",
          "after fork, O_NONBLOCK set by mq_setattr in the child shows in the parent's descriptor",
          "mq_overview(7) DESCRIPTION (Corresponding message queue descriptors in the two processes "
          "share the flags (mq_flags))") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  auto st = run_in_child([q = m.get()] {
    mq_attr a{};
    a.mq_flags = O_NONBLOCK;
    return ::mq_setattr(q, &a, nullptr) == 0 ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(mq_attributes(m.get()).mq_flags == O_NONBLOCK);
}

BEHAVIOUR("posix-mq.descriptor.close-on-exec-set", "[linux-specific]",
          "a message queue descriptor is a file descriptor with FD_CLOEXEC set, closed by execve",
          "mq_overview(7) Linux implementation of message queue descriptors (The close-on-exec "
          "flag is automatically set)") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  REQUIRE_THAT(sys(::fcntl(m.get(), F_GETFD)), Returns(FD_CLOEXEC));
  // The helper exits 3 when the descriptor number it is given is not open.
  auto st = run_in_child([q = m.get()] { exec_helper({"fd-is-open", std::to_string(q)}); });
  REQUIRE_THAT(st, ExitedWith(3));
}

BEHAVIOUR("posix-mq.descriptor.unrelated-processes-share-queue-by-name", "[posix]",
          "an unrelated (exec'd) process that opens the same name sends to and receives from the "
          "same queue",
          "mq_overview(7) DESCRIPTION (Two processes can operate on the same queue by passing the "
          "same name)") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  auto sent = Program::start(helper_path("ipcsuite-posix-helper"), {"mq-send", m.name.str(), "6", "hello"}).wait();
  REQUIRE_THAT(sent.status, ExitedWith(0));
  char buf[16];
  unsigned prio = 0;
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, sizeof buf, &prio)), Returns(5));
  REQUIRE(std::string(buf, 5) == "hello");
  REQUIRE(prio == 6);
  REQUIRE(::mq_send(m.get(), "back", 4, 2) == 0);
  auto got = Program::start(helper_path("ipcsuite-posix-helper"), {"mq-receive", m.name.str()}).wait();
  REQUIRE_THAT(got.status, ExitedWith(0));
  REQUIRE(got.out == "2 back");
}
