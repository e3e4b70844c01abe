// inet.tcp.*: TCP over the loopback interface (127.0.0.1, ephemeral ports only).
// Source: tcp(7), ip(7), socket(7); connect(2), accept(2), shutdown(2); POSIX.1-2017.
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <string>

using namespace fx;

namespace {
// recv after poll reports the socket readable (loopback delivery is asynchronous).
long recv_ready(int fd, char* buf, size_t n) {
  REQUIRE(wait_poll(fd, POLLIN) != 0);
  return ::recv(fd, buf, n, MSG_DONTWAIT);
}

// A connection whose server end was closed with unread data queued, so the kernel reset it
// (RFC 1122 4.2.2.13); returns the client end once the reset has arrived.
Fd reset_connection() {
  auto [c, s] = tcp_connected_pair();
  REQUIRE(::send(c.get(), "unread", 6, 0) == 6);
  REQUIRE(wait_queued(s.get(), 6) == 6);
  s.reset();
  // The reset shows up as an error condition on the client.
  REQUIRE((wait_poll(c.get(), POLLIN) & (POLLERR | POLLHUP | POLLIN)) != 0);
  return std::move(c);
}

int int_opt(int fd, int level, int opt) {
  int v = -1;
  socklen_t len = sizeof v;
  REQUIRE(::getsockopt(fd, level, opt, &v, &len) == 0);
  return v;
}
}  // namespace

BEHAVIOUR("inet.tcp.data-flows-both-ways", "[posix]",
          "a connection made by connect and accept on 127.0.0.1 carries data in both directions",
          "tcp(7) DESCRIPTION; POSIX.1-2017 connect(), accept()") {
  Fd l = tcp_listener();
  Fd c = make_socket(AF_INET, SOCK_STREAM);
  auto addr = local_addr(l.get());
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), Returns(0));
  Fd s = accept_fd(l.get());
  char buf[8];
  REQUIRE_THAT(sys(::send(c.get(), "ping", 4, 0)), Returns(4));
  REQUIRE_THAT(sys(recv_ready(s.get(), buf, sizeof buf)), Returns(4));
  REQUIRE(std::memcmp(buf, "ping", 4) == 0);
  REQUIRE_THAT(sys(::send(s.get(), "pong", 4, 0)), Returns(4));
  REQUIRE_THAT(sys(recv_ready(c.get(), buf, sizeof buf)), Returns(4));
  REQUIRE(std::memcmp(buf, "pong", 4) == 0);
}

BEHAVIOUR("inet.tcp.unbound-client-gets-port-in-ip-local-port-range", "[linux-specific]",
          "connect on an unbound TCP socket assigns it an ephemeral port within /proc/sys/net/ipv4/ip_local_port_range",
          "ip(7) /proc interfaces (ip_local_port_range: connect(2) on a socket not previously bound)") {
  std::string range = read_file("/proc/sys/net/ipv4/ip_local_port_range");
  long lo = 0, hi = 0;
  REQUIRE(std::sscanf(range.c_str(), "%ld %ld", &lo, &hi) == 2);
  Fd l = tcp_listener();
  Fd c = tcp_connect(local_addr(l.get()));
  Fd s = accept_fd(l.get());
  long port = local_addr(c.get()).port();
  CAPTURE(range, port);
  REQUIRE(port >= lo);
  REQUIRE(port <= hi);
}

BEHAVIOUR("inet.tcp.names-agree-across-the-connection", "[posix]",
          "each end's getsockname equals the other end's getpeername (address and port in network byte order), and the listener's port is the one connected to",
          "getsockname(2), getpeername(2); ip(7) Address format (sin_port, sin_addr in network byte order)") {
  Fd l = tcp_listener();
  auto laddr = local_addr(l.get());
  Fd c = tcp_connect(laddr);
  Fd s = accept_fd(l.get());
  auto c_local = local_addr(c.get()), c_peer = peer_addr(c.get());
  auto s_local = local_addr(s.get()), s_peer = peer_addr(s.get());
  auto in = [](InetAddr const& a) { return *reinterpret_cast<sockaddr_in const*>(&a.ss); };
  REQUIRE(c_local.len == sizeof(sockaddr_in));
  REQUIRE(in(c_local).sin_port == in(s_peer).sin_port);
  REQUIRE(in(c_local).sin_addr.s_addr == in(s_peer).sin_addr.s_addr);
  REQUIRE(in(s_local).sin_port == in(c_peer).sin_port);
  REQUIRE(in(c_peer).sin_port == htons(laddr.port()));
  // Network byte order: the raw field is htonl(INADDR_LOOPBACK), not 0x7f000001 as stored.
  REQUIRE(in(c_peer).sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  REQUIRE(in(s_peer).sin_addr.s_addr == htonl(INADDR_LOOPBACK));
}

BEHAVIOUR("inet.tcp.bind-port-of-listener-fails-eaddrinuse", "[posix]",
          "bind to the address and port of a listening TCP socket fails with EADDRINUSE",
          "bind(2) ERRORS (EADDRINUSE); ip(7) ERRORS; POSIX.1-2017 bind() ERRORS") {
  Fd l = tcp_listener();
  auto addr = local_addr(l.get());
  Fd s = make_socket(AF_INET, SOCK_STREAM);
  REQUIRE_THAT(sys(::bind(s.get(), addr.get(), addr.len)), FailsWith(EADDRINUSE));
}

BEHAVIOUR("inet.tcp.so-reuseaddr-does-not-share-a-listening-port", "[linux-specific]",
          "even with SO_REUSEADDR set on both sockets, bind to the address of an active listening socket fails with EADDRINUSE",
          "socket(7) SO_REUSEADDR (a socket may bind, except when there is an active listening socket bound to the address)") {
  Fd l = make_socket(AF_INET, SOCK_STREAM);
  int on = 1;
  REQUIRE(::setsockopt(l.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0);
  auto any = InetAddr::loopback4();
  REQUIRE(::bind(l.get(), any.get(), any.len) == 0);
  REQUIRE(::listen(l.get(), 4) == 0);
  auto addr = local_addr(l.get());
  Fd s = make_socket(AF_INET, SOCK_STREAM);
  REQUIRE(::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0);
  REQUIRE_THAT(sys(::bind(s.get(), addr.get(), addr.len)), FailsWith(EADDRINUSE));
}

BEHAVIOUR("inet.tcp.connect-to-closed-port-fails-econnrefused", "[posix]",
          "connect to a loopback port where no socket listens fails with ECONNREFUSED",
          "connect(2) ERRORS (ECONNREFUSED: no one listening on the remote address); POSIX.1-2017 connect() ERRORS") {
  // Bound but not listening: the port stays ours (no parallel test can take it) and closed.
  Fd holder = inet_bound(AF_INET, SOCK_STREAM);
  auto addr = local_addr(holder.get());
  Fd c = make_socket(AF_INET, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(ECONNREFUSED));
}

BEHAVIOUR("inet.tcp.connect-twice-fails-eisconn", "[posix]",
          "connect on an already connected TCP socket fails with EISCONN",
          "connect(2) ERRORS (EISCONN); POSIX.1-2017 connect() ERRORS") {
  Fd l = tcp_listener();
  auto addr = local_addr(l.get());
  Fd c = tcp_connect(addr);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(EISCONN));
}

BEHAVIOUR("inet.tcp.no-message-boundaries", "[posix]",
          "the bytes of two TCP sends, once both have arrived, are returned together by one recv",
          "tcp(7) DESCRIPTION (reliable stream); POSIX.1-2017 recv() (SOCK_STREAM)") {
  auto [c, s] = tcp_connected_pair();
  REQUIRE(::send(c.get(), "abc", 3, 0) == 3);
  REQUIRE(::send(c.get(), "defg", 4, 0) == 4);
  REQUIRE(wait_queued(s.get(), 7) == 7);
  char buf[16];
  REQUIRE_THAT(sys(::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(7));
  REQUIRE(std::memcmp(buf, "abcdefg", 7) == 0);
}

BEHAVIOUR("inet.tcp.siocinq-on-listener-fails-einval", "[linux-specific]",
          "SIOCINQ (FIONREAD) on a listening TCP socket fails with EINVAL",
          "tcp(7) Ioctls (SIOCINQ: the socket must not be in LISTEN state, otherwise EINVAL)") {
  Fd l = tcp_listener();
  int n = 0;
  REQUIRE_THAT(sys(::ioctl(l.get(), FIONREAD, &n)), FailsWith(EINVAL));
}

BEHAVIOUR("inet.tcp.close-makes-peer-read-zero", "[posix]",
          "after one end of a connection closes (with nothing unread), the other end reads the queued data and then 0",
          "tcp(7) DESCRIPTION; POSIX.1-2017 recv() (orderly shutdown: returns 0)") {
  auto [c, s] = tcp_connected_pair();
  REQUIRE(::send(s.get(), "bye", 3, 0) == 3);
  s.reset();
  char buf[8];
  REQUIRE(wait_queued(c.get(), 3) == 3);
  REQUIRE_THAT(sys(::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(3));
  REQUIRE_THAT(sys(recv_ready(c.get(), buf, sizeof buf)), Returns(0));
}

BEHAVIOUR("inet.tcp.shut-wr-half-closes", "[posix]",
          "after shutdown(SHUT_WR) the peer reads 0, and the half-closed end still receives what the peer sends",
          "shutdown(2) DESCRIPTION; tcp(7); POSIX.1-2017 shutdown()") {
  auto [c, s] = tcp_connected_pair();
  REQUIRE_THAT(sys(::shutdown(c.get(), SHUT_WR)), Returns(0));
  char buf[8];
  REQUIRE_THAT(sys(recv_ready(s.get(), buf, sizeof buf)), Returns(0));
  REQUIRE_THAT(sys(::send(s.get(), "late", 4, MSG_NOSIGNAL)), Returns(4));
  REQUIRE_THAT(sys(recv_ready(c.get(), buf, sizeof buf)), Returns(4));
  REQUIRE(std::memcmp(buf, "late", 4) == 0);
}

BEHAVIOUR("inet.tcp.close-with-unread-data-resets-peer", "[linux-specific]",
          "closing a TCP socket that still has unread received data sends a reset: the peer's recv fails with ECONNRESET",
          "RFC 1122 section 4.2.2.13 (CLOSE with data still unread sends a RST); POSIX.1-2017 recv() ERRORS (ECONNRESET)") {
  Fd c = reset_connection();
  char buf[8];
  REQUIRE_THAT(sys(::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT)), FailsWith(ECONNRESET));
}

BEHAVIOUR("inet.tcp.send-after-reset-fails-epipe", "[posix]",
          "once the reset has been reported, send with MSG_NOSIGNAL on the reset connection fails with EPIPE",
          "send(2) ERRORS (EPIPE: local end shut down on a connection-oriented socket); POSIX.1-2017 send() ERRORS") {
  Fd c = reset_connection();
  char buf[8];
  REQUIRE(::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT) == -1);  // consumes the pending ECONNRESET
  REQUIRE_THAT(sys(::send(c.get(), "x", 1, MSG_NOSIGNAL)), FailsWith(EPIPE));
}

BEHAVIOUR("inet.tcp.send-after-reset-raises-sigpipe", "[posix][signal]",
          "once the reset has been reported, send without MSG_NOSIGNAL on the reset connection raises SIGPIPE, killing a process with the default disposition",
          "send(2) ERRORS (EPIPE ... also receives SIGPIPE unless MSG_NOSIGNAL); POSIX.1-2017 send()") {
  Fd c = reset_connection();
  char buf[8];
  REQUIRE(::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT) == -1);  // consumes the pending ECONNRESET
  auto sent = call_in_child([fd = c.get()] { return ::send(fd, "x", 1, 0); });
  REQUIRE_THAT(sent.status, KilledBy(SIGPIPE));
}

BEHAVIOUR("inet.tcp.so-linger-zero-close-resets-peer", "[linux-specific]",
          "close of a TCP socket with SO_LINGER enabled and a zero timeout resets the connection: the peer's recv fails with ECONNRESET",
          "socket(7) SO_LINGER; RFC 793 ABORT (reset); POSIX.1-2017 recv() ERRORS (ECONNRESET)") {
  auto [c, s] = tcp_connected_pair();
  linger lg{1, 0};
  REQUIRE(::setsockopt(s.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  s.reset();
  REQUIRE(wait_poll(c.get(), POLLIN) != 0);
  char buf[8];
  REQUIRE_THAT(sys(::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT)), FailsWith(ECONNRESET));
}

BEHAVIOUR("inet.tcp.accept-blocks-until-a-client-connects", "[posix]",
          "accept on a listening TCP socket with no pending connection blocks until a client connects",
          "accept(2) DESCRIPTION; POSIX.1-2017 accept()") {
  Fd l = tcp_listener();
  auto addr = local_addr(l.get());
  auto server = Child::fork([lfd = l.get()]() -> int {
    int s = ::accept(lfd, nullptr, nullptr);  // SYS_accept on x86_64 glibc
    return s >= 0 ? 0 : 1;
  });
  REQUIRE(wait_blocked(server.pid(), SYS_accept));
  Fd c = tcp_connect(addr);
  REQUIRE_THAT(server.wait(), ExitedWith(0));
}

BEHAVIOUR("inet.tcp.nonblocking-accept-fails-eagain", "[posix]",
          "accept on a non-blocking TCP listener with no pending connection fails with EAGAIN",
          "accept(2) ERRORS (EAGAIN or EWOULDBLOCK); POSIX.1-2017 accept() ERRORS") {
  Fd l = tcp_listener();
  set_nonblock(l.get());
  REQUIRE_THAT(sys(::accept(l.get(), nullptr, nullptr)), FailsWith(EAGAIN));
}

BEHAVIOUR("inet.tcp.nodelay-is-settable", "[posix]",
          "TCP_NODELAY is off on a new TCP socket, can be set, and reads back as set",
          "tcp(7) Socket options (TCP_NODELAY); POSIX.1-2017 netinet/tcp.h (TCP_NODELAY)") {
  auto [c, s] = tcp_connected_pair();
  REQUIRE(int_opt(c.get(), IPPROTO_TCP, TCP_NODELAY) == 0);
  int on = 1;
  REQUIRE_THAT(sys(::setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on)), Returns(0));
  REQUIRE(int_opt(c.get(), IPPROTO_TCP, TCP_NODELAY) != 0);
}

BEHAVIOUR("inet.tcp.listener-reports-so-acceptconn", "[posix]",
          "SO_ACCEPTCONN is 1 on a listening TCP socket and 0 on the sockets of an established connection",
          "socket(7) SO_ACCEPTCONN; POSIX.1-2017 getsockopt() (SO_ACCEPTCONN)") {
  Fd l = tcp_listener();
  Fd c = tcp_connect(local_addr(l.get()));
  Fd s = accept_fd(l.get());
  REQUIRE(int_opt(l.get(), SOL_SOCKET, SO_ACCEPTCONN) == 1);
  REQUIRE(int_opt(c.get(), SOL_SOCKET, SO_ACCEPTCONN) == 0);
  REQUIRE(int_opt(s.get(), SOL_SOCKET, SO_ACCEPTCONN) == 0);
}
