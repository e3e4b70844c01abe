// posix-shm.unlink.*: removing object names. Sources: shm_open(3) (shm_unlink);
// POSIX.1-2017 shm_unlink().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

using namespace fx;

BEHAVIOUR("posix-shm.unlink.name-goes-mappings-keep-working", "[posix]",
          "after shm_unlink the name no longer opens, while existing mappings still share the memory "
          "between processes",
          "shm_open(3) DESCRIPTION (shm_unlink ... once all processes have unmapped the object, "
          "deallocates); POSIX.1-2017 shm_unlink()") {
  auto obj = make_shm_object(page_size());
  auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  obj.fd.reset();
  REQUIRE_THAT(sys(::shm_unlink(obj.name.c_str())), Returns(0));
  REQUIRE_THAT(sys(::shm_open(obj.name.c_str(), O_RDWR, 0)), FailsWith(ENOENT));
  auto st = run_in_child([p = m.get()] { std::memcpy(p, "after-unlink", 12); });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(std::memcmp(m.get(), "after-unlink", 12) == 0);
}

BEHAVIOUR("posix-shm.unlink.name-reused-makes-a-distinct-object", "[posix]",
          "after shm_unlink, O_CREAT with the same name makes a new, empty object",
          "shm_open(3) DESCRIPTION (unless O_CREAT was specified, in which case a new, distinct "
          "object is created)") {
  auto obj = make_shm_object(page_size());
  REQUIRE(::shm_unlink(obj.name.c_str()) == 0);
  int fd = ::shm_open(obj.name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  REQUIRE_THAT(sys(fd), Succeeds());
  Fd fresh(fd);
  struct stat a{}, b{};
  REQUIRE(::fstat(fresh.get(), &a) == 0);
  REQUIRE(::fstat(obj.fd.get(), &b) == 0);
  CHECK(a.st_size == 0);
  CHECK(b.st_size == static_cast<off_t>(page_size()));
  CHECK(a.st_ino != b.st_ino);
}

BEHAVIOUR("posix-shm.unlink.missing-name-fails-enoent", "[posix]",
          "shm_unlink of a name that names no object fails with ENOENT",
          "shm_open(3) ERRORS (ENOENT An attempt was to made to shm_unlink() a name that does not "
          "exist); POSIX.1-2017 shm_unlink()") {
  auto name = fresh_shm_name();
  REQUIRE_THAT(sys(::shm_unlink(name.c_str())), FailsWith(ENOENT));
}
