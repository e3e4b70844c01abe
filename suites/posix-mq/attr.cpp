// posix-mq.attr.*: mq_getattr and mq_setattr. Sources: mq_getattr(3); POSIX.1-2017
// mq_getattr(), mq_setattr().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>

using namespace fx;

BEHAVIOUR("posix-mq.attr.curmsgs-counts-queued-messages", "[posix]",
          "mq_getattr reports in mq_curmsgs the number of messages currently queued",
          "mq_getattr(3) DESCRIPTION; POSIX.1-2017 mq_getattr() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 4, 8);
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 0);
  for (int i = 0; i < 3; ++i) REQUIRE(::mq_send(m.get(), "m", 1, i) == 0);
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 3);
  char buf[8];
  REQUIRE(::mq_receive(m.get(), buf, sizeof buf, nullptr) == 1);
  REQUIRE(mq_attributes(m.get()).mq_curmsgs == 2);
}

BEHAVIOUR("posix-mq.attr.setattr-changes-only-nonblock", "[posix]",
          "mq_setattr sets or clears O_NONBLOCK and ignores mq_maxmsg, mq_msgsize and mq_curmsgs",
          "mq_getattr(3) DESCRIPTION (The other fields in newattr are ignored); POSIX.1-2017 mq_setattr()") {
  auto m = make_posix_mq(O_RDWR, 4, 8);
  mq_attr want{};
  want.mq_flags = O_NONBLOCK;
  want.mq_maxmsg = 9;
  want.mq_msgsize = 99;
  want.mq_curmsgs = 5;
  REQUIRE_THAT(sys(::mq_setattr(m.get(), &want, nullptr)), Returns(0));
  auto a = mq_attributes(m.get());
  CHECK(a.mq_flags == O_NONBLOCK);
  CHECK(a.mq_maxmsg == 4);
  CHECK(a.mq_msgsize == 8);
  CHECK(a.mq_curmsgs == 0);
  char buf[8];
  // The flag acts, not only reads back.
  REQUIRE_THAT(sys(::mq_receive(m.get(), buf, sizeof buf, nullptr)), FailsWith(EAGAIN));
  want.mq_flags = 0;
  REQUIRE_THAT(sys(::mq_setattr(m.get(), &want, nullptr)), Returns(0));
  CHECK(mq_attributes(m.get()).mq_flags == 0);
}

BEHAVIOUR("posix-mq.attr.setattr-returns-previous-attributes", "[posix]",
          "mq_setattr stores the attributes as they were before the call in oldattr",
          "mq_getattr(3) DESCRIPTION; POSIX.1-2017 mq_setattr() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 4, 8);
  REQUIRE(::mq_send(m.get(), "m", 1, 0) == 0);
  mq_attr want{};
  want.mq_flags = O_NONBLOCK;
  mq_attr old{};
  old.mq_flags = -1;
  REQUIRE_THAT(sys(::mq_setattr(m.get(), &want, &old)), Returns(0));
  CHECK(old.mq_flags == 0);
  CHECK(old.mq_maxmsg == 4);
  CHECK(old.mq_msgsize == 8);
  CHECK(old.mq_curmsgs == 1);
}

BEHAVIOUR("posix-mq.attr.setattr-flag-other-than-nonblock-fails-einval", "[linux-specific]",
          "mq_setattr with a bit other than O_NONBLOCK in mq_flags fails with EINVAL and changes nothing",
          "mq_getattr(3) ERRORS (EINVAL newattr->mq_flags contained set bits other than O_NONBLOCK)") {
  auto m = make_posix_mq(O_RDWR, 4, 8);
  mq_attr want{};
  want.mq_flags = O_NONBLOCK | O_APPEND;
  REQUIRE_THAT(sys(::mq_setattr(m.get(), &want, nullptr)), FailsWith(EINVAL));
  CHECK(mq_attributes(m.get()).mq_flags == 0);
}

BEHAVIOUR("posix-mq.attr.open-nonblock-shows-in-mq-flags", "[posix]",
          "a descriptor opened with O_NONBLOCK reports O_NONBLOCK in mq_flags; another descriptor "
          "of the same queue does not",
          "mq_getattr(3) DESCRIPTION (mq_flags is associated with the open message queue description)") {
  auto m = make_posix_mq(O_RDWR | O_NONBLOCK, 4, 8);
  auto other = open_posix_mq(m.name.str(), O_RDWR);
  CHECK(mq_attributes(m.get()).mq_flags == O_NONBLOCK);
  CHECK(mq_attributes(other.get()).mq_flags == 0);
}
