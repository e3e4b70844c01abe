// unix-socket.option.*: FIONREAD/SIOCINQ and buffer-size options on unix sockets.
// Source: unix(7) Ioctls and "Sockets API"; socket(7) SO_RCVBUF / SO_SNDBUF.
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <vector>

using namespace fx;

namespace {
// Non-blocking sends of 1 KiB until EAGAIN (bounded); returns the bytes queued.
long fill(int fd, long limit = 16L << 20) {
  std::vector<char> buf(1024, 'f');
  long total = 0;
  while (total < limit) {
    ssize_t w = ::send(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) break;
    total += w;
  }
  return total;
}

int get_int_opt(int fd, int opt) {
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(::getsockopt(fd, SOL_SOCKET, opt, &v, &len) == 0);
  return v;
}
}  // namespace

BEHAVIOUR("unix-socket.option.siocinq-counts-unread-stream-bytes", "[linux-specific]",
          "SIOCINQ (FIONREAD) on a unix stream socket returns the number of unread bytes, and drops as they are read",
          "unix(7) Ioctls (SIOCINQ)") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  int n = -1;
  REQUIRE_THAT(sys(::ioctl(b.get(), SIOCINQ, &n)), Returns(0));
  REQUIRE(n == 0);
  REQUIRE(::send(a.get(), "abc", 3, 0) == 3);
  REQUIRE(::send(a.get(), "de", 2, 0) == 2);
  REQUIRE_THAT(sys(::ioctl(b.get(), SIOCINQ, &n)), Returns(0));
  REQUIRE(n == 5);
  char buf[2];
  REQUIRE(::recv(b.get(), buf, 2, MSG_DONTWAIT) == 2);
  REQUIRE_THAT(sys(::ioctl(b.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 3);
}

BEHAVIOUR("unix-socket.option.siocinq-on-listener-fails-einval", "[linux-specific]",
          "SIOCINQ on a listening unix stream socket fails with EINVAL",
          "unix(7) Ioctls (SIOCINQ: the socket must not be in LISTEN state, otherwise EINVAL)") {
  TempDir dir;
  Fd l = unix_listener(UnixAddr::path(dir / "s"));
  int n = 0;
  REQUIRE_THAT(sys(::ioctl(l.get(), SIOCINQ, &n)), FailsWith(EINVAL));
}

BEHAVIOUR("unix-socket.option.so-rcvbuf-does-not-limit-stream-queue", "[linux-specific]",
          "SO_RCVBUF has no effect on a unix stream socket: with the receiver's buffer at its minimum, far more than that is still queued to it",
          "unix(7) Sockets API (the SO_RCVBUF option does not have an effect)") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  int one = 1;
  REQUIRE(::setsockopt(b.get(), SOL_SOCKET, SO_RCVBUF, &one, sizeof one) == 0);
  int rcvbuf = get_int_opt(b.get(), SO_RCVBUF);  // clamped up to the kernel minimum
  long queued = fill(a.get());
  CAPTURE(rcvbuf, queued);
  REQUIRE(queued > 8L * rcvbuf);
}

BEHAVIOUR("unix-socket.option.so-sndbuf-limits-stream-queue", "[linux-specific]",
          "SO_SNDBUF limits how much a unix stream socket can queue unread: with it at its minimum, a non-blocking send gets EAGAIN before more than SO_SNDBUF bytes are queued",
          "unix(7) Sockets API (the SO_SNDBUF socket option does have an effect); socket(7) SO_SNDBUF") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  int one = 1;
  REQUIRE(::setsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &one, sizeof one) == 0);
  int sndbuf = get_int_opt(a.get(), SO_SNDBUF);
  long queued = fill(a.get());
  CAPTURE(sndbuf, queued);
  REQUIRE(queued > 0);
  REQUIRE(queued <= sndbuf);
  REQUIRE_THAT(sys(::send(a.get(), "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL)), FailsWith(EAGAIN));
}

BEHAVIOUR("unix-socket.option.so-rcvbuf-set-value-is-doubled", "[linux-specific]",
          "getsockopt(SO_RCVBUF) returns twice the value set with setsockopt",
          "socket(7) SO_RCVBUF (the kernel doubles this value)") {
  Fd s = make_socket(AF_UNIX, SOCK_STREAM);
  int v = 8192;
  REQUIRE_THAT(sys(::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &v, sizeof v)), Returns(0));
  REQUIRE(get_int_opt(s.get(), SO_RCVBUF) == 2 * 8192);
}
