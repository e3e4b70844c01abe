// inet.udp.*: UDP over the loopback interface (127.0.0.1, ephemeral ports only).
// Source: udp(7), ip(7); recv(2); POSIX.1-2017 recv(), recvmsg(), connect().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <string>

using namespace fx;

namespace {
// Sends len bytes from `from` to the address `to` is bound to.
void send_to(int from, int to, char const* data, size_t len) {
  auto addr = local_addr(to);
  REQUIRE(::sendto(from, data, len, 0, addr.get(), addr.len) == static_cast<ssize_t>(len));
}

// recv after poll says a datagram is there (loopback delivery is asynchronous).
long recv_ready(int fd, char* buf, size_t n, int flags = 0) {
  REQUIRE(wait_poll(fd, POLLIN) != 0);
  return ::recv(fd, buf, n, flags | MSG_DONTWAIT);
}
}  // namespace

BEHAVIOUR("inet.udp.keeps-datagram-boundaries", "[posix]",
          "each recv on a UDP socket returns exactly one datagram, however large the buffer",
          "udp(7) DESCRIPTION (all receive operations return only one packet); POSIX.1-2017 recv()") {
  Fd r = inet_bound(AF_INET, SOCK_DGRAM);
  Fd s = inet_bound(AF_INET, SOCK_DGRAM);
  send_to(s.get(), r.get(), "abc", 3);
  send_to(s.get(), r.get(), "defg", 4);
  char buf[64];
  REQUIRE_THAT(sys(recv_ready(r.get(), buf, sizeof buf)), Returns(3));
  REQUIRE_THAT(sys(recv_ready(r.get(), buf, sizeof buf)), Returns(4));
  REQUIRE(std::memcmp(buf, "defg", 4) == 0);
}

BEHAVIOUR("inet.udp.short-buffer-truncates-and-sets-msg-trunc", "[posix]",
          "a UDP datagram longer than the buffer is truncated, recvmsg sets MSG_TRUNC, and the rest of it is discarded",
          "udp(7) DESCRIPTION (the packet is truncated and the MSG_TRUNC flag is set); POSIX.1-2017 recvmsg()") {
  Fd r = inet_bound(AF_INET, SOCK_DGRAM);
  Fd s = inet_bound(AF_INET, SOCK_DGRAM);
  send_to(s.get(), r.get(), "hello", 5);
  send_to(s.get(), r.get(), "yo", 2);
  char buf[2];
  iovec iov{buf, sizeof buf};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  REQUIRE(wait_poll(r.get(), POLLIN) != 0);
  REQUIRE_THAT(sys(::recvmsg(r.get(), &m, MSG_DONTWAIT)), Returns(2));
  REQUIRE((m.msg_flags & MSG_TRUNC) != 0);
  char next[8];
  REQUIRE_THAT(sys(recv_ready(r.get(), next, sizeof next)), Returns(2));
  REQUIRE(std::memcmp(next, "yo", 2) == 0);
}

BEHAVIOUR("inet.udp.recv-msg-trunc-returns-real-length", "[linux-specific]",
          "recv with the MSG_TRUNC flag on a UDP socket returns the datagram's real length even when the buffer is shorter",
          "recv(2) MSG_TRUNC (Internet datagram since Linux 2.4.27/2.6.8)") {
  Fd r = inet_bound(AF_INET, SOCK_DGRAM);
  Fd s = inet_bound(AF_INET, SOCK_DGRAM);
  send_to(s.get(), r.get(), "hello", 5);
  char buf[2];
  REQUIRE_THAT(sys(recv_ready(r.get(), buf, sizeof buf, MSG_TRUNC)), Returns(5));
}

BEHAVIOUR("inet.udp.zero-length-datagram-is-delivered", "[posix]",
          "a zero-length UDP datagram is delivered: recv returns 0 for it",
          "udp(7) DESCRIPTION; POSIX.1-2017 recv()") {
  Fd r = inet_bound(AF_INET, SOCK_DGRAM);
  Fd s = inet_bound(AF_INET, SOCK_DGRAM);
  send_to(s.get(), r.get(), "", 0);
  send_to(s.get(), r.get(), "z", 1);
  char buf[4];
  REQUIRE_THAT(sys(recv_ready(r.get(), buf, sizeof buf)), Returns(0));
  REQUIRE_THAT(sys(recv_ready(r.get(), buf, sizeof buf)), Returns(1));
}

BEHAVIOUR("inet.udp.recvfrom-reports-sender-address", "[posix]",
          "recvfrom on a UDP socket reports the sender's address and port",
          "udp(7); POSIX.1-2017 recvfrom()") {
  Fd r = inet_bound(AF_INET, SOCK_DGRAM);
  Fd s = inet_bound(AF_INET, SOCK_DGRAM);
  send_to(s.get(), r.get(), "a", 1);
  REQUIRE(wait_poll(r.get(), POLLIN) != 0);
  sockaddr_in from{};
  socklen_t len = sizeof from;
  char b;
  REQUIRE_THAT(sys(::recvfrom(r.get(), &b, 1, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len)), Returns(1));
  REQUIRE(len == sizeof from);
  REQUIRE(from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  REQUIRE(ntohs(from.sin_port) == local_addr(s.get()).port());
}

BEHAVIOUR("inet.udp.sendto-autobinds-ephemeral-port", "[linux-specific]",
          "sendto on an unbound UDP socket binds it to an ephemeral port within ip_local_port_range",
          "udp(7) DESCRIPTION (automatically assign a free local port); ip(7) ip_local_port_range (sendto(2) on an unbound datagram socket)") {
  std::string range = read_file("/proc/sys/net/ipv4/ip_local_port_range");
  long lo = 0, hi = 0;
  REQUIRE(std::sscanf(range.c_str(), "%ld %ld", &lo, &hi) == 2);
  Fd r = inet_bound(AF_INET, SOCK_DGRAM);
  Fd s = make_socket(AF_INET, SOCK_DGRAM);
  REQUIRE(local_addr(s.get()).port() == 0);
  send_to(s.get(), r.get(), "a", 1);
  long port = local_addr(s.get()).port();
  CAPTURE(range, port);
  REQUIRE(port >= lo);
  REQUIRE(port <= hi);
}

BEHAVIOUR("inet.udp.connect-filters-other-senders", "[posix]",
          "a connected UDP socket receives only datagrams from its peer address; those from other senders are not delivered",
          "udp(7) DESCRIPTION; POSIX.1-2017 connect() (datagram sockets: only datagrams from the peer are received)") {
  Fd r = inet_bound(AF_INET, SOCK_DGRAM);
  Fd peer = inet_bound(AF_INET, SOCK_DGRAM);
  Fd stranger = inet_bound(AF_INET, SOCK_DGRAM);
  auto paddr = local_addr(peer.get());
  REQUIRE(::connect(r.get(), paddr.get(), paddr.len) == 0);
  // The stranger's datagram goes first: if it were delivered, it would be read first.
  send_to(stranger.get(), r.get(), "S", 1);
  send_to(peer.get(), r.get(), "P", 1);
  char b = 0;
  REQUIRE_THAT(sys(recv_ready(r.get(), &b, 1)), Returns(1));
  REQUIRE(b == 'P');
  REQUIRE_THAT(sys(::recv(r.get(), &b, 1, MSG_DONTWAIT)), FailsWith(EAGAIN));
}

BEHAVIOUR("inet.udp.connected-send-to-closed-port-reports-econnrefused-later", "[linux-specific]",
          "after a connected UDP socket sends to a loopback port with no socket, the ICMP port unreachable is reported as ECONNREFUSED by a later call",
          "udp(7) ERRORS (ECONNREFUSED: might be caused by a previous packet sent over the socket); ip(7) IP_RECVERR (errors on connected sockets)") {
  // Find a free port: bind to port 0, read it, release it. (Unlike TCP, a UDP port cannot
  // be held closed by a bound socket: that socket would receive the datagram.)
  uint16_t port;
  {
    Fd probe = inet_bound(AF_INET, SOCK_DGRAM);
    port = local_addr(probe.get()).port();
  }
  auto dest = InetAddr::loopback4(port);
  Fd s = make_socket(AF_INET, SOCK_DGRAM);
  REQUIRE(::connect(s.get(), dest.get(), dest.len) == 0);
  REQUIRE_THAT(sys(::send(s.get(), "x", 1, 0)), Returns(1));
  // The ICMP error arrives asynchronously and is flagged as POLLERR.
  REQUIRE((wait_poll(s.get(), POLLIN) & POLLERR) != 0);
  char b;
  REQUIRE_THAT(sys(::recv(s.get(), &b, 1, MSG_DONTWAIT)), FailsWith(ECONNREFUSED));
}

BEHAVIOUR("inet.udp.bind-port-in-use-fails-eaddrinuse", "[posix]",
          "bind of a UDP socket to the loopback address and port of another bound UDP socket fails with EADDRINUSE",
          "bind(2) ERRORS (EADDRINUSE); POSIX.1-2017 bind() ERRORS") {
  Fd first = inet_bound(AF_INET, SOCK_DGRAM);
  auto addr = local_addr(first.get());
  Fd second = make_socket(AF_INET, SOCK_DGRAM);
  REQUIRE_THAT(sys(::bind(second.get(), addr.get(), addr.len)), FailsWith(EADDRINUSE));
}
