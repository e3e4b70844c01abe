// unix-socket.credentials.*: SO_PEERCRED and SCM_CREDENTIALS.
// Source: unix(7) "Socket options" (SO_PASSCRED, SO_PEERCRED) and "Ancillary messages"
// (SCM_CREDENTIALS).
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

using namespace fx;

namespace {
ucred peercred(int fd) {
  ucred c{};
  socklen_t len = sizeof c;
  REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) == 0);
  REQUIRE(len == sizeof c);
  return c;
}

// sendmsg of one byte with an SCM_CREDENTIALS message holding c.
long send_creds(int fd, ucred const& c) {
  char byte = 'c';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(ucred))] = {};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  cmsghdr* h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_CREDENTIALS;
  h->cmsg_len = CMSG_LEN(sizeof(ucred));
  std::memcpy(CMSG_DATA(h), &c, sizeof c);
  return ::sendmsg(fd, &m, 0);
}
}  // namespace

BEHAVIOUR("unix-socket.credentials.so-peercred-reports-connecting-process", "[linux-specific]",
          "SO_PEERCRED on an accepted socket returns the pid, uid and gid of the process that called connect",
          "unix(7) Socket options (SO_PEERCRED: credentials in effect at connect(2))") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd l = unix_listener(addr);
  Checkpoints cp;
  auto client = Child::fork([&]() -> int {
    int c = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (c < 0 || ::connect(c, addr.get(), addr.len) != 0) return 1;
    cp.wake(0);
    return cp.wait(1) ? 0 : 2;  // stay alive (and connected) until the parent has looked
  });
  REQUIRE(cp.wait(0));
  Fd s = accept_fd(l.get());
  ucred c = peercred(s.get());
  cp.wake(1);
  REQUIRE(c.pid == client.pid());
  REQUIRE(c.uid == ::geteuid());
  REQUIRE(c.gid == ::getegid());
  REQUIRE_THAT(client.wait(), ExitedWith(0));
}

BEHAVIOUR("unix-socket.credentials.so-peercred-on-socketpair", "[linux-specific]",
          "SO_PEERCRED on a socketpair socket returns the pid, uid and gid of the process that created the pair",
          "unix(7) Socket options (SO_PEERCRED: also for socket pairs created using socketpair(2))") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  ucred c = peercred(a.get());
  REQUIRE(c.pid == ::getpid());
  REQUIRE(c.uid == ::geteuid());
  REQUIRE(c.gid == ::getegid());
}

BEHAVIOUR("unix-socket.credentials.so-passcred-receives-sender-credentials", "[linux-specific]",
          "with SO_PASSCRED on, each received message carries an SCM_CREDENTIALS message with the sender's pid, real uid and real gid, also when the sender sent none",
          "unix(7) Socket options (SO_PASSCRED) and Ancillary messages (SCM_CREDENTIALS)") {
  auto [a, b] = make_socketpair(SOCK_DGRAM);
  int on = 1;
  REQUIRE(::setsockopt(b.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
  auto sender = Child::fork([fd = a.get()]() -> int { return ::send(fd, "m", 1, 0) == 1 ? 0 : 1; });
  pid_t sender_pid = sender.pid();
  REQUIRE_THAT(sender.wait(), ExitedWith(0));
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(ucred))] = {};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  REQUIRE_THAT(sys(::recvmsg(b.get(), &m, MSG_DONTWAIT)), Returns(1));
  cmsghdr* h = CMSG_FIRSTHDR(&m);
  REQUIRE(h != nullptr);
  REQUIRE(h->cmsg_level == SOL_SOCKET);
  REQUIRE(h->cmsg_type == SCM_CREDENTIALS);
  ucred c{};
  std::memcpy(&c, CMSG_DATA(h), sizeof c);
  REQUIRE(c.pid == sender_pid);
  REQUIRE(c.uid == ::getuid());
  REQUIRE(c.gid == ::getgid());
}

BEHAVIOUR("unix-socket.credentials.scm-credentials-with-foreign-pid-fails-eperm", "[linux-specific][unprivileged]",
          "an unprivileged sender that puts another existing process's pid in SCM_CREDENTIALS fails with EPERM",
          "unix(7) Ancillary messages (SCM_CREDENTIALS: the sender must specify its own process ID unless it has CAP_SYS_ADMIN) and ERRORS (EPERM)") {
  auto [a, b] = make_socketpair(SOCK_DGRAM);
  Shared<SysResult> own(SysResult{0, 0}), foreign(SysResult{0, 0});
  auto st = run_unprivileged([&, fd = a.get()]() -> int {
    // Control: the child's true credentials are accepted, so only the pid is at fault below.
    *own = sys(send_creds(fd, ucred{::getpid(), ::getuid(), ::getgid()}));
    // The test process exists (it is the parent) and is not this process.
    *foreign = sys(send_creds(fd, ucred{::getppid(), ::getuid(), ::getgid()}));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*own, Returns(1));
  REQUIRE_THAT(*foreign, FailsWith(EPERM));
}
