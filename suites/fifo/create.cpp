// fifo.create.*: making FIFO special files with mkfifo(3) and mknod(2).
// Sources: mkfifo(3), mknod(2); POSIX.1-2017 mkfifo(), mknod().
#include "fx/fx.hpp"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

using namespace fx;

namespace {
// The umask is process-wide: the calls that depend on it run in a forked child, so the
// test process (and whatever else it runs) keeps its own.
SysResult in_child_with_umask(mode_t mask, auto fn) {
  Shared<SysResult> res(SysResult{-2, 0});
  auto st = run_in_child([&] {
    ::umask(mask);
    *res = fn();
  });
  if (!st.exited() || st.exit_code() != 0) FAIL("the child making the FIFO " << st.describe());
  return *res;
}

// mode & ~umask holds "in the absence of a default ACL" (mknod(2)); a default ACL inherited
// by the temporary directory would decide the mode instead.
void skip_if_default_acl(TempDir const& dir) {
  if (::getxattr(dir.path().c_str(), "system.posix_acl_default", nullptr, 0) >= 0)
    skip("the temporary directory has a default ACL, which replaces the umask (mknod(2))");
}
}  // namespace

BEHAVIOUR("fifo.create.mkfifo-makes-fifo-with-mode-minus-umask", "[posix]",
          "mkfifo makes a FIFO special file whose permission bits are mode & ~umask",
          "mkfifo(3) DESCRIPTION; POSIX.1-2017 mkfifo() DESCRIPTION") {
  TempDir dir;
  skip_if_default_acl(dir);
  std::string path = dir / "f";
  WHEN("a process with umask 027 calls mkfifo(path, 0666)") {
    auto r = in_child_with_umask(027, [&] { return sys(::mkfifo(path.c_str(), 0666)); });
    THEN("it succeeds and the file is a FIFO with mode 0640") {
      REQUIRE_THAT(r, Returns(0));
      struct stat st {};
      REQUIRE(::lstat(path.c_str(), &st) == 0);
      REQUIRE(S_ISFIFO(st.st_mode));
      REQUIRE((st.st_mode & 07777) == 0640);
    }
  }
}

BEHAVIOUR("fifo.create.mknod-s-ififo-makes-fifo-with-mode-minus-umask", "[posix]",
          "mknod(path, S_IFIFO | mode, 0) makes a FIFO whose permission bits are mode & ~umask",
          "mknod(2) DESCRIPTION; POSIX.1-2017 mknod() DESCRIPTION (the portable use: S_IFIFO, dev 0)") {
  TempDir dir;
  skip_if_default_acl(dir);
  std::string path = dir / "f";
  WHEN("a process with umask 022 calls mknod(path, S_IFIFO | 0606, 0)") {
    auto r = in_child_with_umask(022, [&] { return sys(::mknod(path.c_str(), S_IFIFO | 0606, 0)); });
    THEN("it succeeds and the file is a FIFO with mode 0604") {
      REQUIRE_THAT(r, Returns(0));
      struct stat st {};
      REQUIRE(::lstat(path.c_str(), &st) == 0);
      REQUIRE(S_ISFIFO(st.st_mode));
      REQUIRE((st.st_mode & 07777) == 0604);
    }
  }
}

BEHAVIOUR("fifo.create.mkfifo-existing-path-fails-eexist", "[posix]",
          "mkfifo on a path that already exists fails with EEXIST and leaves the file alone",
          "mkfifo(3) ERRORS; POSIX.1-2017 mkfifo() ERRORS") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path, 0600);
  REQUIRE_THAT(sys(::mkfifo(path.c_str(), 0644)), FailsWith(EEXIST));
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  REQUIRE(S_ISFIFO(st.st_mode));
  REQUIRE((st.st_mode & 07777) == 0600);
}

BEHAVIOUR("fifo.create.mkfifo-on-dangling-symlink-fails-eexist", "[posix]",
          "mkfifo on a path that is a dangling symbolic link fails with EEXIST and does not "
          "create the link's target",
          "mkfifo(3) ERRORS (EEXIST: includes a symbolic link, dangling or not); POSIX.1-2017 mkfifo() ERRORS") {
  TempDir dir;
  std::string link = dir / "link", target = dir / "target";
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  REQUIRE_THAT(sys(::mkfifo(link.c_str(), 0600)), FailsWith(EEXIST));
  struct stat st {};
  REQUIRE_THAT(sys(::lstat(target.c_str(), &st)), FailsWith(ENOENT));
}

BEHAVIOUR("fifo.create.mkfifo-missing-directory-fails-enoent", "[posix]",
          "mkfifo fails with ENOENT when a directory component of the path does not exist",
          "mkfifo(3) ERRORS; POSIX.1-2017 mkfifo() ERRORS") {
  TempDir dir;
  std::string path = dir / "no-such-dir/f";
  REQUIRE_THAT(sys(::mkfifo(path.c_str(), 0600)), FailsWith(ENOENT));
}

BEHAVIOUR("fifo.create.mkfifo-unwritable-directory-fails-eacces", "[posix][unprivileged]",
          "an unprivileged mkfifo in a directory it may search but not write fails with EACCES",
          "mknod(2) ERRORS (EACCES: parent directory does not allow write permission); "
          "POSIX.1-2017 mkfifo() ERRORS") {
  // mkfifo(3) only lists EACCES for search permission; mkfifo is mknod(S_IFIFO) in glibc, and
  // both mknod(2) and POSIX mkfifo() name write permission on the parent directory.
  TempDir dir;
  dir.chmod(0755);  // a root run drops to nobody, which must reach the subdirectories
  std::string ro = dir / "ro", rw = dir / "rw";
  REQUIRE(::mkdir(ro.c_str(), 0700) == 0);
  REQUIRE(::mkdir(rw.c_str(), 0700) == 0);
  REQUIRE(::chmod(ro.c_str(), 0555) == 0);  // searchable by all, writable by none
  REQUIRE(::chmod(rw.c_str(), 0777) == 0);  // the control: same caller, writable directory
  struct Result {
    SysResult search, denied, allowed;
  };
  Shared<Result> res;
  auto st = run_unprivileged([&] {
    res->search = sys(::access(ro.c_str(), X_OK));
    res->denied = sys(::mkfifo((ro + "/f").c_str(), 0600));
    res->allowed = sys(::mkfifo((rw + "/f").c_str(), 0600));
    return 0;
  });
  ::chmod(ro.c_str(), 0755);  // whatever happened, TempDir must be able to clean up inside
  REQUIRE_THAT(st, ExitedWith(0));
  THEN("the directory is searchable, so the EACCES is for write permission") {
    REQUIRE_THAT(res->search, Returns(0));
    REQUIRE_THAT(res->denied, FailsWith(EACCES));
    REQUIRE_THAT(res->allowed, Returns(0));
  }
}
