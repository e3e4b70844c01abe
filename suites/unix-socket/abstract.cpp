// unix-socket.abstract.*: the Linux abstract socket namespace and autobind.
// Source: unix(7) Address format (abstract), "Abstract sockets", "Autobind feature".
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstring>

using namespace fx;

BEHAVIOUR("unix-socket.abstract.bind-creates-no-file", "[linux-specific]",
          "binding to an abstract name (leading NUL byte) creates no file, even when the rest of the name is a valid path",
          "unix(7) Address format (abstract: the name has no connection with filesystem pathnames)") {
  TempDir dir;
  // The name after the NUL is a path inside an empty directory of ours.
  std::string path = dir / "s";
  auto addr = UnixAddr::abstract(path + "." + std::to_string(::getpid()));
  Fd s = unix_bound(addr);
  struct stat st{};
  REQUIRE_THAT(sys(::lstat(path.c_str(), &st)), FailsWith(ENOENT));
  REQUIRE_THAT(sys(::lstat((path + "." + std::to_string(::getpid())).c_str(), &st)), FailsWith(ENOENT));
}

BEHAVIOUR("unix-socket.abstract.connect-by-name", "[linux-specific]",
          "a client connects to a listener by its abstract name and exchanges data",
          "unix(7) Address format (abstract)") {
  auto addr = UnixAddr::unique_abstract();
  Fd l = unix_listener(addr);
  Fd c = unix_connect(addr);
  Fd s = accept_fd(l.get());
  char b;
  REQUIRE(::send(c.get(), "a", 1, 0) == 1);
  REQUIRE_THAT(sys(::recv(s.get(), &b, 1, MSG_DONTWAIT)), Returns(1));
}

BEHAVIOUR("unix-socket.abstract.name-disappears-on-close", "[linux-specific]",
          "an abstract name disappears when its socket is closed: a connect then fails with ECONNREFUSED and the name can be bound again",
          "unix(7) Abstract sockets (automatically disappear when all open references are closed)") {
  auto addr = UnixAddr::unique_abstract();
  unix_listener(addr).reset();
  Fd c = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::connect(c.get(), addr.get(), addr.len)), FailsWith(ECONNREFUSED));
  Fd again = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::bind(again.get(), addr.get(), addr.len)), Returns(0));
}

BEHAVIOUR("unix-socket.abstract.bound-name-fails-eaddrinuse", "[linux-specific]",
          "binding a second socket to an abstract name in use fails with EADDRINUSE",
          "unix(7) ERRORS (EADDRINUSE: the specified local address is already in use)") {
  auto addr = UnixAddr::unique_abstract();
  Fd first = unix_bound(addr);
  Fd second = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::bind(second.get(), addr.get(), addr.len)), FailsWith(EADDRINUSE));
}

BEHAVIOUR("unix-socket.abstract.autobind-assigns-five-hex-digits", "[linux-specific]",
          "bind with addrlen sizeof(sa_family_t) autobinds to an abstract name: a NUL byte followed by 5 characters from [0-9a-f]",
          "unix(7) Autobind feature") {
  Fd s = make_socket(AF_UNIX, SOCK_DGRAM);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  REQUIRE_THAT(sys(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(sa_family_t))), Returns(0));
  sockaddr_un got{};
  socklen_t len = sizeof got;
  REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&got), &len) == 0);
  REQUIRE(len == offsetof(sockaddr_un, sun_path) + 6);
  REQUIRE(got.sun_path[0] == '\0');
  for (int i = 1; i <= 5; ++i) {
    char ch = got.sun_path[i];
    CAPTURE(i, ch);
    REQUIRE(((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')));
  }
}

BEHAVIOUR("unix-socket.abstract.so-passcred-autobinds-on-connect", "[linux-specific]",
          "a socket with SO_PASSCRED set and no explicit bind gets an autobound abstract name when it connects",
          "unix(7) Socket options (SO_PASSCRED: a unique abstract name is generated) and Autobind feature") {
  auto addr = UnixAddr::unique_abstract();
  Fd l = unix_listener(addr);
  Fd c = make_socket(AF_UNIX, SOCK_STREAM);
  int on = 1;
  REQUIRE(::setsockopt(c.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
  REQUIRE(::connect(c.get(), addr.get(), addr.len) == 0);
  sockaddr_un got{};
  socklen_t len = sizeof got;
  REQUIRE(::getsockname(c.get(), reinterpret_cast<sockaddr*>(&got), &len) == 0);
  REQUIRE(len == offsetof(sockaddr_un, sun_path) + 6);
  REQUIRE(got.sun_path[0] == '\0');
}
