// inet.ipv6.*: TCP and UDP over the IPv6 loopback address ::1 (skipped where it is absent).
// Source: ipv6(7); tcp(7); udp(7).
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

using namespace fx;

namespace {
void require_ipv6() {
  if (!ipv6_loopback_available()) skip("IPv6 loopback ::1 is not available here");
}
}  // namespace

BEHAVIOUR("inet.ipv6.tcp-loopback-connection", "[posix]",
          "a TCP connection over ::1 carries data, and getpeername reports an AF_INET6 address equal to ::1",
          "ipv6(7) DESCRIPTION (in6addr_loopback); tcp(7)") {
  require_ipv6();
  auto [c, s] = tcp_connected_pair(AF_INET6);
  REQUIRE(::send(c.get(), "v6", 2, 0) == 2);
  REQUIRE(wait_poll(s.get(), POLLIN) != 0);
  char buf[4];
  REQUIRE_THAT(sys(::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(2));
  auto peer = peer_addr(s.get());
  REQUIRE(peer.family() == AF_INET6);
  REQUIRE(peer.len == sizeof(sockaddr_in6));
  auto in6 = reinterpret_cast<sockaddr_in6 const*>(&peer.ss);
  REQUIRE(std::memcmp(&in6->sin6_addr, &in6addr_loopback, sizeof(in6_addr)) == 0);
  REQUIRE(peer.port() == local_addr(c.get()).port());
}

BEHAVIOUR("inet.ipv6.udp-loopback-datagram", "[posix]",
          "a UDP datagram sent to ::1 arrives whole at the socket bound there",
          "ipv6(7); udp(7)") {
  require_ipv6();
  Fd r = inet_bound(AF_INET6, SOCK_DGRAM);
  Fd s = inet_bound(AF_INET6, SOCK_DGRAM);
  auto addr = local_addr(r.get());
  REQUIRE(::sendto(s.get(), "six", 3, 0, addr.get(), addr.len) == 3);
  REQUIRE(wait_poll(r.get(), POLLIN) != 0);
  char buf[8];
  REQUIRE_THAT(sys(::recv(r.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(3));
}

BEHAVIOUR("inet.ipv6.connect-to-closed-port-fails-econnrefused", "[posix]",
          "TCP connect to a ::1 port where no socket listens fails with ECONNREFUSED",
          "connect(2) ERRORS (ECONNREFUSED); ipv6(7)") {
  require_ipv6();
  Fd holder = inet_bound(AF_INET6, SOCK_STREAM);  // bound, never listening: stays closed
  auto addr = local_addr(holder.get());
  Fd c = make_socket(AF_INET6, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(ECONNREFUSED));
}
