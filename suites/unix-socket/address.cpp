// unix-socket.address.*: the addresses getsockname, getpeername and accept return.
// Source: unix(7) Address format.
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>

#include <cstddef>
#include <cstring>

using namespace fx;

BEHAVIOUR("unix-socket.address.getsockname-returns-bound-path", "[linux-specific]",
          "getsockname on a socket bound to a pathname returns that path, with length offsetof(sun_path) + strlen + 1",
          "unix(7) Address format (pathname)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd s = unix_bound(addr);
  sockaddr_un got{};
  socklen_t len = sizeof got;
  REQUIRE_THAT(sys(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&got), &len)), Returns(0));
  REQUIRE(got.sun_family == AF_UNIX);
  REQUIRE(std::string(got.sun_path) == addr.pathname());
  REQUIRE(len == offsetof(sockaddr_un, sun_path) + addr.pathname().size() + 1);
}

BEHAVIOUR("unix-socket.address.getpeername-returns-listener-path", "[linux-specific]",
          "getpeername on a connected client returns the listener's pathname, and on the accepted socket an unbound client is unnamed",
          "unix(7) Address format (pathname, unnamed)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd l = unix_listener(addr);
  Fd c = unix_connect(addr);
  Fd s = accept_fd(l.get());
  sockaddr_un got{};
  socklen_t len = sizeof got;
  REQUIRE_THAT(sys(::getpeername(c.get(), reinterpret_cast<sockaddr*>(&got), &len)), Returns(0));
  REQUIRE(std::string(got.sun_path) == addr.pathname());
  len = sizeof got;
  REQUIRE_THAT(sys(::getpeername(s.get(), reinterpret_cast<sockaddr*>(&got), &len)), Returns(0));
  REQUIRE(len == sizeof(sa_family_t));
}

BEHAVIOUR("unix-socket.address.accepted-socket-has-listener-name", "[linux-specific]",
          "getsockname on an accepted socket returns the listener's pathname",
          "unix(7) Address format (pathname)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd l = unix_listener(addr);
  Fd c = unix_connect(addr);
  Fd s = accept_fd(l.get());
  sockaddr_un got{};
  socklen_t len = sizeof got;
  REQUIRE_THAT(sys(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&got), &len)), Returns(0));
  REQUIRE(std::string(got.sun_path) == addr.pathname());
}

BEHAVIOUR("unix-socket.address.getpeername-unconnected-fails-enotconn", "[posix]",
          "getpeername on a unix socket that is not connected fails with ENOTCONN",
          "getpeername(2) ERRORS (ENOTCONN); POSIX.1-2017 getpeername() ERRORS") {
  Fd s = make_socket(AF_UNIX, SOCK_STREAM);
  sockaddr_un got{};
  socklen_t len = sizeof got;
  REQUIRE_THAT(sys(::getpeername(s.get(), reinterpret_cast<sockaddr*>(&got), &len)), FailsWith(ENOTCONN));
}
