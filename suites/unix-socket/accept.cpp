// unix-socket.accept.*: listen(2) and accept(2) on unix stream sockets.
// Source: accept(2), listen(2); POSIX.1-2017 accept().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>

using namespace fx;

BEHAVIOUR("unix-socket.accept.blocks-until-a-client-connects", "[posix]",
          "accept on a listening socket with no pending connection blocks until a client connects, then returns a connected socket",
          "accept(2) DESCRIPTION; POSIX.1-2017 accept()") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd l = unix_listener(addr);
  auto server = Child::fork([&, lfd = l.get()]() -> int {
    int s = ::accept(lfd, nullptr, nullptr);  // glibc's accept() is SYS_accept on x86_64
    if (s < 0) return 1;
    char b;
    return ::recv(s, &b, 1, 0) == 1 && b == 'k' ? 0 : 2;
  });
  REQUIRE(wait_blocked(server.pid(), SYS_accept));
  Fd c = unix_connect(addr);
  REQUIRE(::send(c.get(), "k", 1, 0) == 1);
  REQUIRE_THAT(server.wait(), ExitedWith(0));
}

BEHAVIOUR("unix-socket.accept.returns-new-socket-and-listener-keeps-listening", "[posix]",
          "each accept returns a new connected socket, distinct from the listener, which stays in the listening state for the next client",
          "accept(2) DESCRIPTION (the original socket is unaffected); POSIX.1-2017 accept()") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd l = unix_listener(addr);
  Fd c1 = unix_connect(addr);
  Fd c2 = unix_connect(addr);
  Fd s1 = accept_fd(l.get());
  Fd s2 = accept_fd(l.get());
  REQUIRE(s1.get() != l.get());
  REQUIRE(s2.get() != s1.get());
  int on = -1;
  socklen_t len = sizeof on;
  REQUIRE(::getsockopt(l.get(), SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0);
  REQUIRE(on == 1);
  REQUIRE(::getsockopt(s1.get(), SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0);
  REQUIRE(on == 0);
  // Each accepted socket talks to its own client.
  char b;
  REQUIRE(::send(c2.get(), "2", 1, 0) == 1);
  REQUIRE(::send(c1.get(), "1", 1, 0) == 1);
  REQUIRE_THAT(sys(::recv(s1.get(), &b, 1, MSG_DONTWAIT)), Returns(1));
  REQUIRE(b == '1');
  REQUIRE_THAT(sys(::recv(s2.get(), &b, 1, MSG_DONTWAIT)), Returns(1));
  REQUIRE(b == '2');
}

BEHAVIOUR("unix-socket.accept.nonblocking-without-pending-fails-eagain", "[posix]",
          "accept on a non-blocking listener with no pending connection fails with EAGAIN",
          "accept(2) ERRORS (EAGAIN or EWOULDBLOCK); POSIX.1-2017 accept() ERRORS") {
  TempDir dir;
  Fd l = unix_listener(UnixAddr::path(dir / "s"));
  set_nonblock(l.get());
  // EAGAIN == EWOULDBLOCK on Linux.
  REQUIRE_THAT(sys(::accept(l.get(), nullptr, nullptr)), FailsWith(EAGAIN));
}

BEHAVIOUR("unix-socket.accept.not-listening-fails-einval", "[posix]",
          "accept on a bound stream socket that has not called listen fails with EINVAL",
          "accept(2) ERRORS (EINVAL: socket is not listening); POSIX.1-2017 accept() ERRORS") {
  TempDir dir;
  Fd s = unix_bound(UnixAddr::path(dir / "s"));
  REQUIRE_THAT(sys(::accept(s.get(), nullptr, nullptr)), FailsWith(EINVAL));
}
