// fifo.lifetime.*: the FIFO file versus the pipe object behind it. The file lives until
// unlink; the pipe object (and any data in it) lives while some process has it open.
// Sources: fifo(7) DESCRIPTION; POSIX.1-2017 close(), unlink().
#include "fx/fifo_extra.hpp"
#include "fx/fx.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace fx;

BEHAVIOUR("fifo.lifetime.file-persists-after-last-close", "[posix]",
          "closing every descriptor of a FIFO leaves the FIFO file in place, ready to be "
          "opened again",
          "fifo(7) DESCRIPTION (the filesystem entry is a reference point); POSIX.1-2017 "
          "mkfifo(), unlink()") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  {
    auto [r, w] = open_fifo_ends(path);
    write_all(w.get(), "x", 1);
  }
  struct stat st {};
  REQUIRE_THAT(sys(::lstat(path.c_str(), &st)), Returns(0));
  REQUIRE(S_ISFIFO(st.st_mode));
  auto again = sys(::open(path.c_str(), O_RDONLY | O_NONBLOCK));
  Fd r(static_cast<int>(again.value));
  REQUIRE_THAT(again, Succeeds());
}

BEHAVIOUR("fifo.lifetime.unread-data-discarded-when-last-opener-closes", "[posix]",
          "bytes left in a FIFO when every descriptor of it is closed are gone when it is "
          "opened again",
          "POSIX.1-2017 close() DESCRIPTION (data remaining in a pipe or FIFO is discarded); "
          "fifo(7) DESCRIPTION (one pipe object while the FIFO is open)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  {
    auto [r, w] = open_fifo_ends(path);
    write_all(w.get(), "stale", 5);
    REQUIRE(fionread(r.get()) == 5);
  }
  auto [r, w] = open_fifo_ends(path);
  int n = -1;
  REQUIRE_THAT(sys(::ioctl(r.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 0);
  char b[8];
  // EAGAIN: empty, with a writer (ours) present.
  REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), FailsWith(EAGAIN));
}

BEHAVIOUR("fifo.lifetime.st-size-is-zero-with-data-queued", "[linux-specific]",
          "stat and fstat of a FIFO report st_size 0, even while bytes are queued in it",
          "fifo(7) DESCRIPTION (the FIFO special file has no contents on the filesystem); "
          "POSIX.1-2017 <sys/stat.h> leaves st_size of a FIFO unspecified") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  write_all(w.get(), std::string(100, 'q').data(), 100);
  REQUIRE(fionread(r.get()) == 100);
  struct stat st {};
  REQUIRE_THAT(sys(::stat(path.c_str(), &st)), Returns(0));
  REQUIRE(st.st_size == 0);
  REQUIRE_THAT(sys(::fstat(r.get(), &st)), Returns(0));
  REQUIRE(st.st_size == 0);
  REQUIRE_THAT(sys(::fstat(w.get(), &st)), Returns(0));
  REQUIRE(st.st_size == 0);
}

BEHAVIOUR("fifo.lifetime.open-ends-work-after-unlink", "[posix]",
          "after the FIFO's name is unlinked, descriptors already open on it still pass data",
          "POSIX.1-2017 unlink() DESCRIPTION (removal of an open file is postponed until it is "
          "closed); unlink(2) DESCRIPTION (a FIFO's openers may continue to use it)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  REQUIRE_THAT(sys(::unlink(path.c_str())), Returns(0));
  struct stat st {};
  REQUIRE_THAT(sys(::lstat(path.c_str(), &st)), FailsWith(ENOENT));
  REQUIRE_THAT(sys(::write(w.get(), "still", 5)), Returns(5));
  char b[8];
  REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), Returns(5));
  REQUIRE(std::memcmp(b, "still", 5) == 0);
}
