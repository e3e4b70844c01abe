// sysv-ipc.ftok.*: keys from ftok(3). Source: ftok(3); POSIX.1-2017 ftok().
// ftok is a library function over stat(2); these behaviours are what a target's libc and
// stat together must give.
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

using namespace fx;

namespace {
std::string make_file(TempDir const& dir, std::string const& name) {
  std::string path = dir / name;
  Fd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644));
  if (!fd) throw std::runtime_error("cannot create " + path);
  return path;
}
}  // namespace

BEHAVIOUR("sysv-ipc.ftok.same-path-and-id-give-same-key", "[posix]",
          "ftok called twice with the same path and id returns the same key",
          "ftok(3) DESCRIPTION; POSIX.1-2017 ftok()") {
  TempDir dir;
  auto path = make_file(dir, "f");
  key_t k1 = ::ftok(path.c_str(), 'A');
  REQUIRE(k1 != -1);
  REQUIRE(::ftok(path.c_str(), 'A') == k1);
}

BEHAVIOUR("sysv-ipc.ftok.paths-naming-same-file-give-same-key", "[posix]",
          "every pathname naming the same file (a hard link, a path through '.') gives the same key",
          "ftok(3) DESCRIPTION (same for all pathnames that name the same file); POSIX.1-2017 ftok()") {
  TempDir dir;
  auto path = make_file(dir, "f");
  std::string link = dir / "hardlink";
  REQUIRE(::link(path.c_str(), link.c_str()) == 0);
  key_t k = ::ftok(path.c_str(), 7);
  REQUIRE(k != -1);
  REQUIRE(::ftok(link.c_str(), 7) == k);
  REQUIRE(::ftok((dir / "./f").c_str(), 7) == k);
}

BEHAVIOUR("sysv-ipc.ftok.ids-differing-in-low-8-bits-give-different-keys", "[posix]",
          "the same file with ids that differ in their low 8 bits gives different keys",
          "ftok(3) DESCRIPTION (should be different when the project IDs differ); POSIX.1-2017 ftok()") {
  TempDir dir;
  auto path = make_file(dir, "f");
  key_t a = ::ftok(path.c_str(), 1);
  key_t b = ::ftok(path.c_str(), 2);
  key_t c = ::ftok(path.c_str(), 0xff);
  REQUIRE(a != -1);
  REQUIRE(b != -1);
  REQUIRE(c != -1);
  REQUIRE(a != b);
  REQUIRE(a != c);
  REQUIRE(b != c);
}

BEHAVIOUR("sysv-ipc.ftok.only-low-8-bits-of-id-count", "[posix]",
          "ids that differ only above their low 8 bits give the same key",
          "ftok(3) DESCRIPTION and NOTES (only 8 bits are used); POSIX.1-2017 ftok() (only the "
          "low-order 8-bits of id are significant)") {
  TempDir dir;
  auto path = make_file(dir, "f");
  key_t k = ::ftok(path.c_str(), 0x41);
  REQUIRE(k != -1);
  REQUIRE(::ftok(path.c_str(), 0x141) == k);
  REQUIRE(::ftok(path.c_str(), 0x7f41) == k);
}

BEHAVIOUR("sysv-ipc.ftok.missing-path-fails-enoent", "[posix]",
          "ftok of a path that does not exist returns -1 with errno ENOENT, as stat would",
          "ftok(3) RETURN VALUE (errno as for stat(2)); stat(2) ERRORS (ENOENT)") {
  TempDir dir;
  REQUIRE_THAT(sys(::ftok((dir / "absent").c_str(), 'A')), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-ipc.ftok.non-directory-prefix-fails-enotdir", "[posix]",
          "ftok of a path whose prefix is a regular file returns -1 with errno ENOTDIR, as stat would",
          "ftok(3) RETURN VALUE (errno as for stat(2)); stat(2) ERRORS (ENOTDIR)") {
  TempDir dir;
  auto file = make_file(dir, "f");
  REQUIRE_THAT(sys(::ftok((file + "/x").c_str(), 'A')), FailsWith(ENOTDIR));
}

BEHAVIOUR("sysv-ipc.ftok.unsearchable-directory-fails-eacces", "[posix][unprivileged]",
          "ftok by an unprivileged process of a file in a directory it may not search returns -1 "
          "with errno EACCES, as stat would",
          "ftok(3) RETURN VALUE (errno as for stat(2)); stat(2) ERRORS (EACCES)") {
  TempDir top;
  // The unprivileged child (nobody in a root run) must reach top, but not search sub.
  top.chmod(0755);
  std::string sub = top / "sub";
  REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
  std::string file = sub + "/f";
  {
    Fd fd(::open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644));
    REQUIRE(fd.valid());
  }
  // Readable but not searchable by anyone without privilege, the owner included.
  REQUIRE(::chmod(sub.c_str(), 0600) == 0);
  auto st = run_unprivileged([&] {
    auto r = sys(::ftok(file.c_str(), 'A'));
    return r.value == -1 && r.err == EACCES ? 0 : 1;
  });
  // Give the owner its search permission back, so that TempDir can remove the tree.
  ::chmod(sub.c_str(), 0700);
  REQUIRE_THAT(st, ExitedWith(0));
}
