// unix-socket.dgram.*: addressing unix datagram sockets by pathname.
// Source: unix(7) ERRORS and "Pathname socket ownership and permissions"; sendto(2).
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <string>

using namespace fx;

BEHAVIOUR("unix-socket.dgram.sendto-missing-path-fails-enoent", "[linux-specific]",
          "sendto a pathname where nothing exists fails with ENOENT",
          "unix(7) ERRORS (ENOENT); sendto(2)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "nobody");
  Fd s = make_socket(AF_UNIX, SOCK_DGRAM);
  REQUIRE_THAT(sys(::sendto(s.get(), "x", 1, 0, addr.get(), addr.len)), FailsWith(ENOENT));
}

BEHAVIOUR("unix-socket.dgram.sendto-closed-socket-path-fails-econnrefused", "[linux-specific]",
          "sendto the socket file of a datagram socket that has been closed fails with ECONNREFUSED",
          "unix(7) ERRORS (ECONNREFUSED)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  unix_bound(addr, SOCK_DGRAM).reset();
  Fd s = make_socket(AF_UNIX, SOCK_DGRAM);
  REQUIRE_THAT(sys(::sendto(s.get(), "x", 1, 0, addr.get(), addr.len)), FailsWith(ECONNREFUSED));
}

BEHAVIOUR("unix-socket.dgram.recvfrom-reports-bound-sender-path", "[linux-specific]",
          "sendto a pathname delivers the datagram to the socket bound there, and recvfrom reports the sender's bound pathname",
          "unix(7) Address format (pathname: returned by recvfrom(2)); recvfrom(2)") {
  TempDir dir;
  auto raddr = UnixAddr::path(dir / "r");
  auto saddr = UnixAddr::path(dir / "s");
  Fd r = unix_bound(raddr, SOCK_DGRAM);
  Fd s = unix_bound(saddr, SOCK_DGRAM);
  REQUIRE_THAT(sys(::sendto(s.get(), "abc", 3, 0, raddr.get(), raddr.len)), Returns(3));
  char buf[8];
  sockaddr_un from{};
  socklen_t len = sizeof from;
  REQUIRE_THAT(sys(::recvfrom(r.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len)),
               Returns(3));
  REQUIRE(len == saddr.len);
  REQUIRE(std::string(from.sun_path) == saddr.pathname());
}

BEHAVIOUR("unix-socket.dgram.send-after-connected-receiver-closes-fails-econnrefused", "[linux-specific]",
          "after the datagram socket a socket is connected to closes, send on it fails with ECONNREFUSED",
          "unix(7) ERRORS (ECONNREFUSED; EPIPE is for stream sockets)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd r = unix_bound(addr, SOCK_DGRAM);
  Fd s = make_socket(AF_UNIX, SOCK_DGRAM);
  REQUIRE(::connect(s.get(), addr.get(), addr.len) == 0);
  REQUIRE_THAT(sys(::send(s.get(), "x", 1, 0)), Returns(1));
  r.reset();
  REQUIRE_THAT(sys(::send(s.get(), "x", 1, MSG_NOSIGNAL)), FailsWith(ECONNREFUSED));
}

BEHAVIOUR("unix-socket.dgram.sendto-without-write-permission-fails-eacces", "[linux-specific][unprivileged]",
          "an unprivileged sendto a datagram socket file without write permission fails with EACCES",
          "unix(7) Pathname socket ownership and permissions (sending a datagram requires write permission)") {
  TempDir dir;
  dir.chmod(0755);  // the dropped child must be able to search the directory
  auto open_addr = UnixAddr::path(dir / "open");
  auto closed_addr = UnixAddr::path(dir / "closed");
  Fd r_open = unix_bound(open_addr, SOCK_DGRAM);
  Fd r_closed = unix_bound(closed_addr, SOCK_DGRAM);
  REQUIRE(::chmod(open_addr.pathname().c_str(), 0666) == 0);
  REQUIRE(::chmod(closed_addr.pathname().c_str(), 0444) == 0);
  struct Results {
    SysResult control, denied;
  };
  Shared<Results> res(Results{{0, 0}, {0, 0}});
  auto st = run_unprivileged([&]() -> int {
    int s = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    if (s < 0) return 1;
    res->control = sys(::sendto(s, "x", 1, 0, open_addr.get(), open_addr.len));
    res->denied = sys(::sendto(s, "x", 1, 0, closed_addr.get(), closed_addr.len));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(res->control, Returns(1));
  REQUIRE_THAT(res->denied, FailsWith(EACCES));
  REQUIRE(fionread(r_closed.get()) == 0);
}
