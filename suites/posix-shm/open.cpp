// posix-shm.open.*: creating and opening POSIX shared memory objects. Sources: shm_open(3),
// shm_overview(7); POSIX.1-2017 shm_open().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

using namespace fx;

namespace {
SysResult open_shm(std::string const& name, int oflag, mode_t mode = 0600) {
  int fd = ::shm_open(name.c_str(), oflag, mode);
  SysResult r = sys(fd);
  if (fd >= 0) ::close(fd);
  return r;
}
off_t size_of(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw std::runtime_error("fstat");
  return st.st_size;
}
}  // namespace

BEHAVIOUR("posix-shm.open.new-object-has-size-zero", "[posix]",
          "a shared memory object made by shm_open with O_CREAT has length 0",
          "shm_open(3) DESCRIPTION (A new shared memory object initially has zero length); "
          "POSIX.1-2017 shm_open()") {
  auto obj = make_shm_object(0);
  REQUIRE(size_of(obj.fd.get()) == 0);
}

BEHAVIOUR("posix-shm.open.ftruncate-sets-size-and-zero-fills", "[posix]",
          "ftruncate sets the object's size, and the new bytes read as zero through a mapping",
          "shm_open(3) DESCRIPTION (The newly allocated bytes ... are automatically initialized to 0); "
          "ftruncate(2)") {
  auto obj = make_shm_object(0);
  size_t len = 2 * page_size() + 10;
  REQUIRE_THAT(sys(::ftruncate(obj.fd.get(), static_cast<off_t>(len))), Returns(0));
  REQUIRE(size_of(obj.fd.get()) == static_cast<off_t>(len));
  auto m = map_memory(len, PROT_READ, MAP_SHARED, obj.fd.get());
  size_t nonzero = 0;
  for (size_t i = 0; i < len; ++i) nonzero += m.get()[i] != 0;
  REQUIRE(nonzero == 0);
}

BEHAVIOUR("posix-shm.open.create-excl-on-existing-name-fails-eexist", "[posix]",
          "shm_open with O_CREAT|O_EXCL of an existing name fails with EEXIST",
          "shm_open(3) ERRORS; POSIX.1-2017 shm_open() ERRORS") {
  auto obj = make_shm_object(0);
  REQUIRE_THAT(open_shm(obj.name.str(), O_CREAT | O_EXCL | O_RDWR), FailsWith(EEXIST));
}

BEHAVIOUR("posix-shm.open.missing-name-without-creat-fails-enoent", "[posix]",
          "shm_open without O_CREAT of a name that names no object fails with ENOENT",
          "shm_open(3) ERRORS; POSIX.1-2017 shm_open() ERRORS") {
  auto name = fresh_shm_name();
  REQUIRE_THAT(open_shm(name.str(), O_RDWR), FailsWith(ENOENT));
}

BEHAVIOUR("posix-shm.open.name-with-second-slash-fails-einval", "[linux-specific]",
          "a name with a slash after the leading one fails with EINVAL",
          "shm_open(3) DESCRIPTION (none of which are slashes) and ERRORS (EINVAL)") {
  // POSIX leaves the meaning of further slashes implementation-defined.
  ShmName owner(posix_name("shm"));
  REQUIRE_THAT(open_shm(owner.str() + "/x", O_CREAT | O_EXCL | O_RDWR), FailsWith(EINVAL));
}

BEHAVIOUR("posix-shm.open.slash-alone-fails-einval", "[linux-specific]",
          "the name \"/\" with nothing after the slash fails with EINVAL",
          "shm_open(3) DESCRIPTION (followed by one or more characters) and ERRORS (EINVAL)") {
  REQUIRE_THAT(open_shm("/", O_CREAT | O_RDWR), FailsWith(EINVAL));
}

BEHAVIOUR("posix-shm.open.name-longer-than-name-max-fails-enametoolong", "[linux-specific]",
          "a name of more than NAME_MAX (255) characters after the slash fails with ENAMETOOLONG",
          "shm_open(3) DESCRIPTION (up to NAME_MAX characters) and ERRORS (ENAMETOOLONG)") {
  std::string name = posix_name("shm");
  name += std::string(256 - (name.size() - 1), 'n');
  ShmName owner(name);
  REQUIRE_THAT(open_shm(name, O_CREAT | O_EXCL | O_RDWR), FailsWith(ENAMETOOLONG));
}

BEHAVIOUR("posix-shm.open.appears-in-dev-shm", "[linux-specific]",
          "a shared memory object /x is the file /dev/shm/x, owned by the creator, with the mode "
          "masked by the umask, and goes with shm_unlink",
          "shm_overview(7) Accessing shared memory objects via the filesystem; shm_open(3) O_CREAT") {
  mode_t old = ::umask(022);
  auto obj = make_shm_object(0, 0666);
  ::umask(old);
  struct stat st{};
  std::string path = "/dev/shm" + obj.name.str();
  REQUIRE_THAT(sys(::stat(path.c_str(), &st)), Returns(0));
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0644);
  CHECK(st.st_uid == ::geteuid());
  REQUIRE_THAT(sys(::shm_unlink(obj.name.c_str())), Returns(0));
  REQUIRE_THAT(sys(::stat(path.c_str(), &st)), FailsWith(ENOENT));
}

BEHAVIOUR("posix-shm.open.descriptor-has-fd-cloexec", "[posix]",
          "the descriptor shm_open returns has FD_CLOEXEC set",
          "shm_open(3) DESCRIPTION (The FD_CLOEXEC flag is set); POSIX.1-2017 shm_open()") {
  auto obj = make_shm_object(0);
  REQUIRE_THAT(sys(::fcntl(obj.fd.get(), F_GETFD)), Returns(FD_CLOEXEC));
}

BEHAVIOUR("posix-shm.open.trunc-empties-existing-object", "[posix]",
          "shm_open with O_TRUNC of an existing object truncates it to 0 bytes",
          "shm_open(3) DESCRIPTION (O_TRUNC); POSIX.1-2017 shm_open()") {
  auto obj = make_shm_object(page_size());
  int fd = ::shm_open(obj.name.c_str(), O_RDWR | O_TRUNC, 0);
  REQUIRE_THAT(sys(fd), Succeeds());
  Fd again(fd);
  REQUIRE(size_of(obj.fd.get()) == 0);
}

BEHAVIOUR("posix-shm.open.other-user-on-mode-0600-fails-eacces", "[posix][root][unprivileged]",
          "an unprivileged user who is not the owner cannot shm_open an object of mode 0600 (EACCES)",
          "shm_open(3) ERRORS (EACCES Permission was denied); POSIX.1-2017 shm_open()") {
  // Needs an object owned by someone else: root makes it, nobody opens it.
  require_root();
  auto obj = make_shm_object(page_size(), 0600);
  Shared<SysResult> rd, rw;
  auto st = run_unprivileged([&, name = obj.name.str()] {
    *rd = open_shm(name, O_RDONLY);
    *rw = open_shm(name, O_RDWR);
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*rd, FailsWith(EACCES));
  REQUIRE_THAT(*rw, FailsWith(EACCES));
}

BEHAVIOUR("posix-shm.open.trunc-without-write-permission-fails-eacces", "[posix][unprivileged]",
          "O_TRUNC on an object the unprivileged caller may read but not write fails with EACCES",
          "shm_open(3) ERRORS (EACCES ... O_TRUNC was specified and the caller does not have write "
          "permission)") {
  // 0444: readable by everyone, writable by no unprivileged caller (owner or not).
  auto obj = make_shm_object(page_size(), 0444);
  Shared<SysResult> plain, trunc;
  auto st = run_unprivileged([&, name = obj.name.str()] {
    *plain = open_shm(name, O_RDONLY);
    *trunc = open_shm(name, O_RDONLY | O_TRUNC);
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*plain, Succeeds());
  REQUIRE_THAT(*trunc, FailsWith(EACCES));
  REQUIRE(size_of(obj.fd.get()) == static_cast<off_t>(page_size()));
}

BEHAVIOUR("posix-shm.open.rdonly-descriptor-cannot-map-shared-writable", "[posix]",
          "an object opened O_RDONLY maps with PROT_READ but PROT_WRITE with MAP_SHARED fails with EACCES",
          "shm_open(3) DESCRIPTION (O_RDONLY ... can be mmap(2)ed only for read); mmap(2) ERRORS") {
  auto obj = make_shm_object(page_size());
  int fd = ::shm_open(obj.name.c_str(), O_RDONLY, 0);
  REQUIRE(fd >= 0);
  Fd ro(fd);
  void* p = ::mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, ro.get(), 0);
  REQUIRE_THAT(sys(reinterpret_cast<long>(p)), FailsWith(EACCES));
  p = ::mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, ro.get(), 0);
  REQUIRE_THAT(sys(reinterpret_cast<long>(p)), Succeeds());
  Mapping m(p, page_size());
}
