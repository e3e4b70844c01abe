// posix-mq.open.*: creating and opening POSIX message queues. Sources: mq_open(3),
// mq_overview(7); POSIX.1-2017 mq_open().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

using namespace fx;

namespace {
// mq_open with O_CREAT and an attr of (maxmsg, msgsize), in an unprivileged child; a queue
// that gets made anyway is owned (and unlinked) by the caller's name.
SysResult create_unprivileged(MqName const& name, long maxmsg, long msgsize) {
  Shared<SysResult> res(SysResult{-2, 0});
  auto st = run_unprivileged([&] {
    mq_attr a{};
    a.mq_maxmsg = maxmsg;
    a.mq_msgsize = msgsize;
    *res = sys(static_cast<long>(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &a)));
    return 0;
  });
  if (!st.exited() || st.exit_code() != 0) throw std::runtime_error("child " + st.describe());
  return *res;
}

SysResult open_name(std::string const& name, int oflag) {
  SysResult r = sys(static_cast<long>(::mq_open(name.c_str(), oflag, 0600, nullptr)));
  if (r.value >= 0) ::mq_close(static_cast<mqd_t>(r.value));
  return r;
}
}  // namespace

BEHAVIOUR("posix-mq.open.create-excl-on-existing-name-fails-eexist", "[posix]",
          "mq_open with O_CREAT|O_EXCL of a name that already names a queue fails with EEXIST",
          "mq_open(3) ERRORS; POSIX.1-2017 mq_open() ERRORS") {
  auto m = make_posix_mq();
  REQUIRE_THAT(open_name(m.name.str(), O_CREAT | O_EXCL | O_RDWR), FailsWith(EEXIST));
}

BEHAVIOUR("posix-mq.open.missing-name-without-creat-fails-enoent", "[posix]",
          "mq_open without O_CREAT of a name that names no queue fails with ENOENT",
          "mq_open(3) ERRORS; POSIX.1-2017 mq_open() ERRORS") {
  auto name = fresh_mq_name();
  REQUIRE_THAT(open_name(name.str(), O_RDWR), FailsWith(ENOENT));
}

BEHAVIOUR("posix-mq.open.name-without-leading-slash-fails-einval", "[linux-specific]",
          "a queue name that does not start with a slash is rejected with EINVAL",
          "mq_open(3) ERRORS (EINVAL name doesn't follow the format in mq_overview(7))") {
  // POSIX leaves names without a leading slash implementation-defined; Linux refuses them.
  std::string name = posix_name("mq").substr(1);
  REQUIRE_THAT(open_name(name, O_CREAT | O_EXCL | O_RDWR), FailsWith(EINVAL));
}

BEHAVIOUR("posix-mq.open.slash-alone-fails-enoent", "[linux-specific]",
          "the name \"/\" with nothing after the slash fails with ENOENT",
          "mq_open(3) ERRORS (ENOENT name was just \"/\")") {
  REQUIRE_THAT(open_name("/", O_CREAT | O_RDWR), FailsWith(ENOENT));
}

BEHAVIOUR("posix-mq.open.name-with-second-slash-fails-eacces", "[linux-specific]",
          "a queue name with a slash after the leading one fails with EACCES",
          "mq_open(3) ERRORS (EACCES name contained more than one slash)") {
  std::string name = posix_name("mq") + "/x";
  REQUIRE_THAT(open_name(name, O_CREAT | O_EXCL | O_RDWR), FailsWith(EACCES));
}

BEHAVIOUR("posix-mq.open.name-longer-than-name-max-fails-enametoolong", "[linux-specific]",
          "a name of more than NAME_MAX (255) characters after the slash fails with ENAMETOOLONG",
          "mq_open(3) ERRORS; mq_overview(7) DESCRIPTION (up to NAME_MAX characters)") {
  std::string name = posix_name("mq");
  name += std::string(256 - (name.size() - 1), 'n');
  REQUIRE(name.size() == 257);
  REQUIRE_THAT(open_name(name, O_CREAT | O_EXCL | O_RDWR), FailsWith(ENAMETOOLONG));
}

BEHAVIOUR("posix-mq.open.name-of-name-max-characters-is-accepted", "[linux-specific]",
          "a name of exactly NAME_MAX (255) characters after the slash names a queue",
          "mq_overview(7) DESCRIPTION (up to NAME_MAX (i.e., 255) characters)") {
  std::string s = posix_name("mq");
  s += std::string(255 - (s.size() - 1), 'n');
  MqName name(s);
  REQUIRE_THAT(open_name(name.str(), O_CREAT | O_EXCL | O_RDWR), Succeeds());
  REQUIRE_THAT(sys(::mq_unlink(name.c_str())), Returns(0));
}

BEHAVIOUR("posix-mq.open.null-attr-uses-msg-default-and-msgsize-default", "[linux-specific]",
          "a queue created with attr NULL gets mq_maxmsg = min(msg_default, msg_max) and "
          "mq_msgsize = min(msgsize_default, msgsize_max)",
          "mq_overview(7) /proc interfaces (msg_default, msgsize_default)") {
  long msg_default = read_long("/proc/sys/fs/mqueue/msg_default");
  long msg_max = read_long("/proc/sys/fs/mqueue/msg_max");
  long size_default = read_long("/proc/sys/fs/mqueue/msgsize_default");
  long size_max = read_long("/proc/sys/fs/mqueue/msgsize_max");
  auto m = make_posix_mq();
  auto a = mq_attributes(m.get());
  CHECK(a.mq_maxmsg == std::min(msg_default, msg_max));
  CHECK(a.mq_msgsize == std::min(size_default, size_max));
  CHECK(a.mq_curmsgs == 0);
  CHECK(a.mq_flags == 0);
}

BEHAVIOUR("posix-mq.open.attr-sets-maxmsg-and-msgsize", "[posix]",
          "a queue created with an attr gets exactly its mq_maxmsg and mq_msgsize",
          "mq_open(3) DESCRIPTION; POSIX.1-2017 mq_open() DESCRIPTION") {
  auto m = make_posix_mq(O_RDWR, 3, 17);
  auto a = mq_attributes(m.get());
  CHECK(a.mq_maxmsg == 3);
  CHECK(a.mq_msgsize == 17);
}

BEHAVIOUR("posix-mq.open.attr-ignored-when-queue-exists", "[posix]",
          "mq_open with O_CREAT of an existing queue opens it and ignores attr",
          "POSIX.1-2017 mq_open() DESCRIPTION (O_CREAT: if the queue exists, no effect)") {
  auto m = make_posix_mq(O_RDWR, 3, 17);
  mq_attr other{};
  other.mq_maxmsg = 5;
  other.mq_msgsize = 33;
  mqd_t q = ::mq_open(m.name.c_str(), O_CREAT | O_RDWR, 0600, &other);
  REQUIRE_THAT(sys(static_cast<long>(q)), Succeeds());
  MqDesc second(q);
  auto a = mq_attributes(second.get());
  CHECK(a.mq_maxmsg == 3);
  CHECK(a.mq_msgsize == 17);
}

BEHAVIOUR("posix-mq.open.maxmsg-zero-fails-einval", "[posix]",
          "O_CREAT with attr->mq_maxmsg <= 0 fails with EINVAL",
          "mq_open(3) ERRORS; POSIX.1-2017 mq_open() ERRORS") {
  auto name = fresh_mq_name();
  mq_attr a{};
  a.mq_maxmsg = 0;
  a.mq_msgsize = 16;
  REQUIRE_THAT(sys(static_cast<long>(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &a))),
               FailsWith(EINVAL));
}

BEHAVIOUR("posix-mq.open.msgsize-zero-fails-einval", "[posix]",
          "O_CREAT with attr->mq_msgsize <= 0 fails with EINVAL",
          "mq_open(3) ERRORS; POSIX.1-2017 mq_open() ERRORS") {
  auto name = fresh_mq_name();
  mq_attr a{};
  a.mq_maxmsg = 1;
  a.mq_msgsize = 0;
  REQUIRE_THAT(sys(static_cast<long>(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &a))),
               FailsWith(EINVAL));
}

BEHAVIOUR("posix-mq.open.unprivileged-maxmsg-above-msg-max-fails-einval", "[linux-specific]",
          "without CAP_SYS_RESOURCE, mq_maxmsg above /proc/sys/fs/mqueue/msg_max fails with EINVAL, "
          "while msg_max itself is accepted",
          "mq_open(3) ERRORS; mq_overview(7) /proc interfaces (msg_max)") {
  long msg_max = read_long("/proc/sys/fs/mqueue/msg_max");
  auto over = fresh_mq_name();
  REQUIRE_THAT(create_unprivileged(over, msg_max + 1, 16), FailsWith(EINVAL));
  auto at = fresh_mq_name();
  REQUIRE_THAT(create_unprivileged(at, msg_max, 16), Succeeds());
}

BEHAVIOUR("posix-mq.open.unprivileged-msgsize-above-msgsize-max-fails-einval", "[linux-specific]",
          "without CAP_SYS_RESOURCE, mq_msgsize above /proc/sys/fs/mqueue/msgsize_max fails with "
          "EINVAL, while msgsize_max itself is accepted",
          "mq_open(3) ERRORS; mq_overview(7) /proc interfaces (msgsize_max)") {
  long size_max = read_long("/proc/sys/fs/mqueue/msgsize_max");
  auto over = fresh_mq_name();
  REQUIRE_THAT(create_unprivileged(over, 1, size_max + 1), FailsWith(EINVAL));
  auto at = fresh_mq_name();
  REQUIRE_THAT(create_unprivileged(at, 1, size_max), Succeeds());
}

BEHAVIOUR("posix-mq.open.maxmsg-above-hard-msgmax-fails-einval", "[linux-specific]",
          "mq_maxmsg above HARD_MSGMAX (65536 since Linux 3.5) fails with EINVAL for any caller",
          "mq_open(3) ERRORS (HARD_MAX); mq_overview(7) /proc interfaces (msg_max)") {
  auto name = fresh_mq_name();
  mq_attr a{};
  a.mq_maxmsg = 65537;
  a.mq_msgsize = 1;
  REQUIRE_THAT(sys(static_cast<long>(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &a))),
               FailsWith(EINVAL));
}

BEHAVIOUR("posix-mq.open.queues-max-limit-fails-enospc", "[linux-specific][root]",
          "without CAP_SYS_RESOURCE, creating a queue beyond /proc/sys/fs/mqueue/queues_max fails "
          "with ENOSPC",
          "mq_open(3) ERRORS (ENOSPC); mq_overview(7) /proc interfaces (queues_max)") {
  require_root();
  // The count is per IPC namespace: a child fills a namespace of its own, so no parallel
  // test sees ENOSPC, and its queues vanish with it.
  enum { kOk = 0, kNoUnshare = 10, kCapset, kEarly, kNotEnospc, kTooMany };
  auto st = run_in_child([]() -> int {
    if (::unshare(CLONE_NEWIPC) != 0) return kNoUnshare;
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2]{};
    if (::syscall(SYS_capget, &h, d) != 0) return kCapset;
    d[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
    if (::syscall(SYS_capset, &h, d) != 0) return kCapset;
    long max = read_long("/proc/sys/fs/mqueue/queues_max");
    if (max > 4096) return kTooMany;
    mq_attr a{};
    a.mq_maxmsg = 1;
    a.mq_msgsize = 1;
    for (long i = 0; i < max; ++i) {
      std::string n = "/q" + std::to_string(i);
      mqd_t q = ::mq_open(n.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &a);
      if (q == mqd_t(-1)) return kEarly;
      ::mq_close(q);
    }
    mqd_t q = ::mq_open("/one-more", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    return q == mqd_t(-1) && errno == ENOSPC ? kOk : kNotEnospc;
  });
  if (st.exited() && st.exit_code() == kNoUnshare) skip("unshare(CLONE_NEWIPC) is not permitted here");
  if (st.exited() && st.exit_code() == kTooMany) skip("queues_max of a new IPC namespace is above 4096");
  REQUIRE_THAT(st, ExitedWith(kOk));
}

BEHAVIOUR("posix-mq.open.mode-denying-caller-fails-eacces", "[posix][unprivileged]",
          "opening an existing queue in a mode its permission bits deny the caller fails with EACCES",
          "mq_open(3) ERRORS (EACCES); POSIX.1-2017 mq_open() ERRORS") {
  // 0400: read for the owner only; an unprivileged caller (the owner itself when not root)
  // asks for write.
  auto m = make_posix_mq(O_RDWR, 1, 1, 0400);
  Shared<SysResult> wr, rd;
  auto st = run_unprivileged([&, name = m.name.str()] {
    *wr = sys(static_cast<long>(::mq_open(name.c_str(), O_WRONLY)));
    *rd = sys(static_cast<long>(::mq_open(name.c_str(), O_RDONLY)));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*wr, FailsWith(EACCES));
  if (is_root()) REQUIRE_THAT(*rd, FailsWith(EACCES));  // nobody is in the "other" class
  else REQUIRE_THAT(*rd, Succeeds());                   // the owner may read
}
