// unix-socket.shutdown.*: half-closing unix stream sockets.
// Source: shutdown(2); POSIX.1-2017 shutdown(), recv(), send().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>

#include <cstring>

using namespace fx;

BEHAVIOUR("unix-socket.shutdown.shut-wr-peer-reads-zero-and-can-still-send", "[posix]",
          "after shutdown(SHUT_WR) the peer reads end of file (0), and can still send data that the shut-down side receives",
          "shutdown(2) DESCRIPTION (SHUT_WR: further transmissions disallowed); POSIX.1-2017 shutdown()") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  REQUIRE_THAT(sys(::shutdown(a.get(), SHUT_WR)), Returns(0));
  char buf[8];
  REQUIRE_THAT(sys(::recv(b.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(0));
  REQUIRE_THAT(sys(::send(b.get(), "back", 4, MSG_NOSIGNAL)), Returns(4));
  REQUIRE_THAT(sys(::recv(a.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(4));
  REQUIRE(std::memcmp(buf, "back", 4) == 0);
}

BEHAVIOUR("unix-socket.shutdown.shut-wr-own-send-fails-epipe", "[posix]",
          "send after shutdown(SHUT_WR) on the same socket fails with EPIPE",
          "POSIX.1-2017 send() ERRORS (EPIPE: the socket is shut down for writing); unix(7) ERRORS") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  REQUIRE(::shutdown(a.get(), SHUT_WR) == 0);
  REQUIRE_THAT(sys(::send(a.get(), "x", 1, MSG_NOSIGNAL)), FailsWith(EPIPE));
}

BEHAVIOUR("unix-socket.shutdown.shut-rd-recv-returns-zero", "[linux-specific]",
          "after shutdown(SHUT_RD) on a unix stream socket, recv returns 0 at once instead of blocking",
          "shutdown(2) DESCRIPTION (SHUT_RD: further receptions disallowed)") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  REQUIRE_THAT(sys(::shutdown(a.get(), SHUT_RD)), Returns(0));
  char buf[4];
  // A blocking recv: a kernel that ignored SHUT_RD would block here; MSG_DONTWAIT would
  // hide that as EAGAIN, so the recv runs in a child with a deadline instead.
  Shared<SysResult> r(SysResult{0, 0});
  auto st = run_in_child([&, fd = a.get()] { *r = sys(::recv(fd, buf, sizeof buf, 0)); });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*r, Returns(0));
}

BEHAVIOUR("unix-socket.shutdown.shut-rd-makes-peer-send-fail-epipe", "[linux-specific]",
          "after shutdown(SHUT_RD) on a unix stream socket, its peer's send fails with EPIPE",
          "shutdown(2) DESCRIPTION (SHUT_RD); unix(7) ERRORS (EPIPE)") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  REQUIRE(::shutdown(a.get(), SHUT_RD) == 0);
  REQUIRE_THAT(sys(::send(b.get(), "x", 1, MSG_NOSIGNAL)), FailsWith(EPIPE));
}

BEHAVIOUR("unix-socket.shutdown.unconnected-fails-enotconn", "[posix]",
          "shutdown on a unix stream socket that is not connected fails with ENOTCONN",
          "shutdown(2) ERRORS (ENOTCONN); POSIX.1-2017 shutdown() ERRORS") {
  Fd s = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::shutdown(s.get(), SHUT_RDWR)), FailsWith(ENOTCONN));
}
