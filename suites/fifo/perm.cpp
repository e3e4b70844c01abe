// fifo.perm.*: opening a FIFO is subject to its permission bits like any file.
// Sources: open(2) ERRORS (EACCES); pipe(7) DESCRIPTION ("assuming the file permissions allow
// it"); POSIX.1-2017 open() ERRORS.
#include "fx/fifo_extra.hpp"
#include "fx/fx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

using namespace fx;

namespace {
// A FIFO with exactly `mode`, in a directory that an unprivileged child (nobody, when the
// test runs as root) may search, so that any EACCES comes from the FIFO's own mode.
struct GuardedFifo {
  TempDir dir;
  std::string path;
  explicit GuardedFifo(mode_t mode) : path(dir / "f") {
    dir.chmod(0755);
    make_fifo(path, 0600);
    if (::chmod(path.c_str(), mode) != 0) throw std::system_error(errno, std::generic_category(), "chmod");
  }
};

struct PermReport {
  SysResult reach{-2, 0};  // stat of the FIFO: the path resolves for the child
  SysResult read{-2, 0}, write{-2, 0};
};
}  // namespace

BEHAVIOUR("fifo.perm.open-for-reading-without-read-permission-fails-eacces", "[posix][unprivileged]",
          "an unprivileged open of a FIFO for reading fails with EACCES when its mode grants "
          "the caller no read permission",
          "open(2) ERRORS (EACCES); POSIX.1-2017 open() ERRORS") {
  // Mode 0: no read permission for the owner (a non-root run owns the FIFO) nor for others
  // (a root run's child, nobody). O_NONBLOCK, so that a wrongly granted open cannot block.
  GuardedFifo f(0);
  Shared<PermReport> rep;
  auto st = run_unprivileged([&] {
    struct stat s {};
    rep->reach = sys(::stat(f.path.c_str(), &s));
    int fd = ::open(f.path.c_str(), O_RDONLY | O_NONBLOCK);
    rep->read = sys(fd);
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(rep->reach, Returns(0));
  REQUIRE_THAT(rep->read, FailsWith(EACCES));
}

BEHAVIOUR("fifo.perm.open-for-writing-without-write-permission-fails-eacces", "[posix][unprivileged]",
          "an unprivileged open of a FIFO for writing fails with EACCES when its mode grants "
          "the caller read but not write permission, even though a reader exists",
          "open(2) ERRORS (EACCES); POSIX.1-2017 open() ERRORS") {
  // Mode 0444: read for everyone, write for no one. The child's own read end makes the
  // non-blocking write open otherwise succeed, so neither ENXIO nor blocking can stand in
  // for the permission check.
  GuardedFifo f(0444);
  Shared<PermReport> rep;
  auto st = run_unprivileged([&] {
    struct stat s {};
    rep->reach = sys(::stat(f.path.c_str(), &s));
    rep->read = sys(::open(f.path.c_str(), O_RDONLY | O_NONBLOCK));
    rep->write = sys(::open(f.path.c_str(), O_WRONLY | O_NONBLOCK));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(rep->reach, Returns(0));
  REQUIRE_THAT(rep->read, Succeeds());
  REQUIRE_THAT(rep->write, FailsWith(EACCES));
}
