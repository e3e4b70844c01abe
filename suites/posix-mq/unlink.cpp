// posix-mq.unlink.*: removing queue names. Sources: mq_unlink(3); POSIX.1-2017 mq_unlink();
// mq_overview(7) Mounting the message queue filesystem.
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>

#include <string>

using namespace fx;

BEHAVIOUR("posix-mq.unlink.name-goes-at-once-queue-lives-until-last-close", "[posix]",
          "after mq_unlink the name no longer opens, while descriptors already open keep sending "
          "and receiving",
          "mq_unlink(3) DESCRIPTION; POSIX.1-2017 mq_unlink() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  auto second = open_posix_mq(m.name.str(), O_RDWR);
  REQUIRE_THAT(sys(::mq_unlink(m.name.c_str())), Returns(0));
  REQUIRE_THAT(sys(static_cast<long>(::mq_open(m.name.c_str(), O_RDWR))), FailsWith(ENOENT));
  REQUIRE_THAT(sys(::mq_send(m.get(), "still", 5, 0)), Returns(0));
  m.q.reset();
  char buf[16];
  REQUIRE_THAT(sys(::mq_receive(second.get(), buf, sizeof buf, nullptr)), Returns(5));
}

BEHAVIOUR("posix-mq.unlink.name-reused-makes-a-distinct-queue", "[posix]",
          "after mq_unlink, O_CREAT with the same name makes a new, empty queue while the old one "
          "keeps its messages",
          "mq_unlink(3) DESCRIPTION; POSIX.1-2017 mq_unlink() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 2, 16);
  REQUIRE(::mq_send(m.get(), "old", 3, 0) == 0);
  REQUIRE_THAT(sys(::mq_unlink(m.name.c_str())), Returns(0));
  mq_attr a{};
  a.mq_maxmsg = 2;
  a.mq_msgsize = 16;
  mqd_t q = ::mq_open(m.name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &a);
  REQUIRE_THAT(sys(static_cast<long>(q)), Succeeds());
  MqDesc fresh(q);
  CHECK(mq_attributes(fresh.get()).mq_curmsgs == 0);
  CHECK(mq_attributes(m.get()).mq_curmsgs == 1);
}

BEHAVIOUR("posix-mq.unlink.missing-name-fails-enoent", "[posix]",
          "mq_unlink of a name that names no queue fails with ENOENT",
          "mq_unlink(3) ERRORS; POSIX.1-2017 mq_unlink() ERRORS") {
  auto name = fresh_mq_name();
  REQUIRE_THAT(sys(::mq_unlink(name.c_str())), FailsWith(ENOENT));
}
