// unix-socket.socketpair.*: the connected, unnamed pairs of socketpair(2).
// Source: socketpair(2); unix(7) "Address format".
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

using namespace fx;

namespace {
// Each end sends a message to the other and reads the other's message: a pipe would
// allow only one of the two directions.
void check_full_duplex(int type) {
  auto [a, b] = make_socketpair(type);
  char buf[8];
  REQUIRE_THAT(sys(::send(a.get(), "ab", 2, 0)), Returns(2));
  REQUIRE_THAT(sys(::send(b.get(), "xyz", 3, 0)), Returns(3));
  // Both messages are already queued when send returns: MSG_DONTWAIT turns a missing one
  // into EAGAIN instead of a hang.
  REQUIRE_THAT(sys(::recv(b.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(2));
  REQUIRE(std::memcmp(buf, "ab", 2) == 0);
  REQUIRE_THAT(sys(::recv(a.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(3));
  REQUIRE(std::memcmp(buf, "xyz", 3) == 0);
}
}  // namespace

BEHAVIOUR("unix-socket.socketpair.stream-is-full-duplex", "[posix]",
          "both sockets of an AF_UNIX SOCK_STREAM socketpair can send to and receive from the other",
          "socketpair(2) DESCRIPTION; POSIX.1-2017 socketpair()") {
  check_full_duplex(SOCK_STREAM);
}

BEHAVIOUR("unix-socket.socketpair.dgram-is-full-duplex", "[posix]",
          "both sockets of an AF_UNIX SOCK_DGRAM socketpair can send to and receive from the other",
          "socketpair(2) DESCRIPTION; POSIX.1-2017 socketpair()") {
  check_full_duplex(SOCK_DGRAM);
}

BEHAVIOUR("unix-socket.socketpair.seqpacket-is-full-duplex", "[posix]",
          "both sockets of an AF_UNIX SOCK_SEQPACKET socketpair can send to and receive from the other",
          "socketpair(2) DESCRIPTION; unix(7) DESCRIPTION (SOCK_SEQPACKET since Linux 2.6.4)") {
  check_full_duplex(SOCK_SEQPACKET);
}

BEHAVIOUR("unix-socket.socketpair.sockets-are-unnamed", "[linux-specific]",
          "getsockname and getpeername on a socketpair socket return an unnamed address of length sizeof(sa_family_t)",
          "unix(7) Address format (unnamed: the two sockets created by socketpair(2) are unnamed)") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  sockaddr_un sa{};
  socklen_t len = sizeof sa;
  REQUIRE_THAT(sys(::getsockname(a.get(), reinterpret_cast<sockaddr*>(&sa), &len)), Returns(0));
  REQUIRE(len == sizeof(sa_family_t));
  REQUIRE(sa.sun_family == AF_UNIX);
  len = sizeof sa;
  REQUIRE_THAT(sys(::getpeername(a.get(), reinterpret_cast<sockaddr*>(&sa), &len)), Returns(0));
  REQUIRE(len == sizeof(sa_family_t));
}

BEHAVIOUR("unix-socket.socketpair.inet-stream-fails-eopnotsupp", "[linux-specific]",
          "socketpair(AF_INET, SOCK_STREAM) fails with EOPNOTSUPP (Linux makes pairs only in AF_UNIX and AF_TIPC)",
          "socketpair(2) ERRORS (EOPNOTSUPP) and NOTES (only AF_UNIX and AF_TIPC)") {
  int sv[2] = {-1, -1};
  auto r = sys(::socketpair(AF_INET, SOCK_STREAM, 0, sv));
  Fd a(sv[0]), b(sv[1]);
  REQUIRE_THAT(r, FailsWith(EOPNOTSUPP));
}
