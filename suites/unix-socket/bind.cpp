// unix-socket.bind.*: binding AF_UNIX sockets to pathnames.
// Source: unix(7) "Pathname sockets", "Pathname socket ownership and permissions", NOTES,
// ERRORS; bind(2); POSIX.1-2017 bind().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

using namespace fx;

BEHAVIOUR("unix-socket.bind.creates-socket-file", "[linux-specific]",
          "bind to a pathname creates a filesystem object of type socket (S_IFSOCK) at that path",
          "unix(7) DESCRIPTION (bound to a filesystem pathname, marked as being of type socket)") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd s = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::bind(s.get(), addr.get(), addr.len)), Returns(0));
  struct stat st{};
  REQUIRE_THAT(sys(::lstat(addr.pathname().c_str(), &st)), Returns(0));
  REQUIRE(S_ISSOCK(st.st_mode));
}

BEHAVIOUR("unix-socket.bind.file-mode-is-0777-less-umask", "[linux-specific]",
          "the socket file that bind creates has all permissions enabled except those turned off by the umask",
          "unix(7) Pathname socket ownership and permissions") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Shared<unsigned> mode(0);
  // The umask is process-wide: change it only in a child.
  auto st = run_in_child([&]() -> int {
    ::umask(027);
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || ::bind(s, addr.get(), addr.len) != 0) return 1;
    struct stat sb{};
    if (::lstat(addr.pathname().c_str(), &sb) != 0) return 2;
    *mode = sb.st_mode & 07777;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(*mode == (0777u & ~027u));
}

BEHAVIOUR("unix-socket.bind.existing-socket-path-fails-eaddrinuse", "[posix]",
          "bind to a pathname where a socket file already exists fails with EADDRINUSE",
          "unix(7) ERRORS (EADDRINUSE: the filesystem socket object already exists); POSIX.1-2017 bind() ERRORS") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  Fd first = unix_listener(addr);
  Fd second = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::bind(second.get(), addr.get(), addr.len)), FailsWith(EADDRINUSE));
}

BEHAVIOUR("unix-socket.bind.stale-socket-file-still-fails-eaddrinuse", "[linux-specific]",
          "bind to the path of a socket file whose socket was closed still fails with EADDRINUSE: the file must be unlinked first",
          "unix(7) ERRORS (EADDRINUSE) and NOTES (the file must be deleted with unlink(2))") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  unix_bound(addr).reset();
  Fd again = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::bind(again.get(), addr.get(), addr.len)), FailsWith(EADDRINUSE));
}

BEHAVIOUR("unix-socket.bind.existing-regular-file-fails-eaddrinuse", "[linux-specific]",
          "bind to a pathname where a regular file exists fails with EADDRINUSE and leaves the file alone",
          "unix(7) ERRORS (EADDRINUSE); bind(2) ERRORS") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "f");
  Fd f(::open(addr.pathname().c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600));
  REQUIRE(f.valid());
  Fd s = make_socket(AF_UNIX, SOCK_STREAM);
  REQUIRE_THAT(sys(::bind(s.get(), addr.get(), addr.len)), FailsWith(EADDRINUSE));
  struct stat st{};
  REQUIRE(::lstat(addr.pathname().c_str(), &st) == 0);
  REQUIRE(S_ISREG(st.st_mode));
}

BEHAVIOUR("unix-socket.bind.socket-file-survives-close", "[linux-specific]",
          "closing a bound socket does not remove its socket file",
          "unix(7) NOTES (the socket must be deleted by the caller with unlink(2))") {
  TempDir dir;
  auto addr = UnixAddr::path(dir / "s");
  unix_listener(addr).reset();
  struct stat st{};
  REQUIRE_THAT(sys(::lstat(addr.pathname().c_str(), &st)), Returns(0));
  REQUIRE(S_ISSOCK(st.st_mode));
}

BEHAVIOUR("unix-socket.bind.already-bound-socket-fails-einval", "[posix]",
          "bind on a socket that is already bound fails with EINVAL",
          "bind(2) ERRORS (EINVAL: the socket is already bound); POSIX.1-2017 bind() ERRORS") {
  TempDir dir;
  Fd s = unix_bound(UnixAddr::path(dir / "a"));
  auto other = UnixAddr::path(dir / "b");
  REQUIRE_THAT(sys(::bind(s.get(), other.get(), other.len)), FailsWith(EINVAL));
}

BEHAVIOUR("unix-socket.bind.without-directory-write-permission-fails-eacces", "[linux-specific][unprivileged]",
          "an unprivileged bind in a directory it may search but not write fails with EACCES",
          "unix(7) Pathname socket ownership and permissions; bind(2) ERRORS (EACCES)") {
  TempDir dir;
  // Searchable and readable for everyone, writable by no one: the dropped child can reach
  // the directory, so the error can only come from the missing write permission.
  dir.chmod(0555);
  auto addr = UnixAddr::path(dir / "s");
  Shared<SysResult> r(SysResult{0, 0});
  auto st = run_unprivileged([&]() -> int {
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) return 1;
    *r = sys(::bind(s, addr.get(), addr.len));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*r, FailsWith(EACCES));
}
