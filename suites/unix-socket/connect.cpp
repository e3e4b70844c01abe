// unix-socket.connect.*: connecting to pathname sockets.
// Source: unix(7) ERRORS and "Pathname socket ownership and permissions"; connect(2);
// POSIX.1-2017 connect().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>
#include <vector>

using namespace fx;

BEHAVIOUR("unix-socket.connect.closed-socket-path-fails-econnrefused", "[posix]",
          "connect to a socket file whose socket has been closed (nobody listening) fails with ECONNREFUSED",
          "unix(7) ERRORS (ECONNREFUSED); POSIX.1-2017 connect() ERRORS (ECONNREFUSED)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  unix_listener(addr).reset();
  Fd c = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(ECONNREFUSED));
}

BEHAVIOUR("unix-socket.connect.bound-not-listening-fails-econnrefused", "[posix]",
          "connect to a bound stream socket that has not called listen fails with ECONNREFUSED",
          "unix(7) ERRORS (ECONNREFUSED: not a listening socket); POSIX.1-2017 connect() ERRORS") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd bound = unix_bound(addr);
  Fd c = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(ECONNREFUSED));
}

BEHAVIOUR("unix-socket.connect.missing-path-fails-enoent", "[posix]",
          "connect to a pathname that does not exist fails with ENOENT",
          "unix(7) ERRORS (ENOENT); POSIX.1-2017 connect() ERRORS (ENOENT)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "nothing-here");
  Fd c = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(ENOENT));
}

BEHAVIOUR("unix-socket.connect.regular-file-fails-econnrefused", "[linux-specific]",
          "connect to a pathname that is a regular file, not a socket, fails with ECONNREFUSED",
          "unix(7) ERRORS (ECONNREFUSED: also if the target pathname is not a socket)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "f");
  Fd f(::open(addr.pathname().c_str(), O_CREAT | O_EXCL | O_WRONLY, 0666));
  REQUIRE(f.valid());
  Fd c = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(ECONNREFUSED));
}

BEHAVIOUR("unix-socket.connect.type-mismatch-fails-eprototype", "[posix]",
          "a SOCK_STREAM connect to a path bound by a SOCK_DGRAM socket fails with EPROTOTYPE",
          "unix(7) ERRORS (EPROTOTYPE); POSIX.1-2017 connect() ERRORS (EPROTOTYPE)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd d = unix_bound(addr, SOCK_DGRAM);
  Fd c = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(EPROTOTYPE));
}

BEHAVIOUR("unix-socket.connect.without-write-permission-fails-eacces", "[linux-specific][unprivileged]",
          "an unprivileged connect to a stream socket file without write permission fails with EACCES",
          "unix(7) Pathname socket ownership and permissions (connecting requires write permission); connect(2) ERRORS (EACCES)") {
  TempDir dir;
  dir.chmod(0755);  // the dropped child must be able to search the directory
  auto open_addr = UnixAddr::path(dir / "open");
  auto closed_addr = UnixAddr::path(dir / "closed");
  Fd l_open = unix_listener(open_addr);
  Fd l_closed = unix_listener(closed_addr);
  REQUIRE(::chmod(open_addr.pathname().c_str(), 0666) == 0);
  REQUIRE(::chmod(closed_addr.pathname().c_str(), 0) == 0);
  struct Results {
    SysResult control, denied;
  };
  Shared<Results> r(Results{{0, 0}, {0, 0}});
  auto st = run_unprivileged([&]() -> int {
    int a = ::socket(AF_UNIX, SOCK_STREAM, 0), b = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (a < 0 || b < 0) return 1;
    r->control = sys(::connect(a, open_addr.get(), open_addr.len));
    r->denied = sys(::connect(b, closed_addr.get(), closed_addr.len));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  // The same child reaches a writable socket in the same directory: the refusal is the
  // socket file's mode, not the path.
  REQUIRE_THAT(r->control, Returns(0));
  REQUIRE_THAT(r->denied, FailsWith(EACCES));
}

BEHAVIOUR("unix-socket.connect.unlinked-path-keeps-connection", "[linux-specific]",
          "unlinking the socket file leaves an established connection working in both directions",
          "unix(7) NOTES (the socket can be unlinked at any time)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd l = unix_listener(addr);
  Fd c = unix_connect(addr);
  Fd s = accept_fd(l.get());
  REQUIRE(::unlink(addr.pathname().c_str()) == 0);
  char buf[4];
  REQUIRE_THAT(sys(::send(c.get(), "ab", 2, 0)), Returns(2));
  REQUIRE_THAT(sys(::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(2));
  REQUIRE_THAT(sys(::send(s.get(), "cd", 2, 0)), Returns(2));
  REQUIRE_THAT(sys(::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(2));
  AND_THEN("a new connect to the removed path fails with ENOENT") {
    Fd c2 = make_socket(AF_UNIX, SOCK_STREAM);
    REQUIRE_THAT(sys(::connect(c2.get(), addr.get(), addr.len)), FailsWith(ENOENT));
  }
}

BEHAVIOUR("unix-socket.connect.nonblocking-full-backlog-fails-eagain", "[linux-specific]",
          "a non-blocking connect to a listener whose backlog is full fails with EAGAIN (not EINPROGRESS)",
          "connect(2) ERRORS (EAGAIN: nonblocking UNIX domain socket; EINPROGRESS: UNIX domain sockets fail with EAGAIN instead)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd l = unix_listener(addr, SOCK_STREAM, 1);
  // Nobody accepts, so pending connections fill the backlog after a few connects; the
  // bound keeps a kernel that never reports a full queue from looping forever.
  std::vector<Fd> pending;
  SysResult last{0, 0};
  for (int i = 0; i < 64; ++i) {
    Fd c = make_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
    last = sys(::connect(c.get(), addr.get(), addr.len));
    if (last.value != 0) break;
    pending.push_back(std::move(c));
  }
  REQUIRE(!pending.empty());
  REQUIRE_THAT(last, FailsWith(EAGAIN));
}
