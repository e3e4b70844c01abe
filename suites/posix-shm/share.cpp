// posix-shm.share.*: one object, many processes. Sources: shm_overview(7), shm_open(3),
// mmap(2) MAP_SHARED; POSIX.1-2017 shm_open(), mmap().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"
#include "fx/spawn.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace fx;

namespace {
Program helper(std::vector<std::string> const& args) {
  return Program::start(helper_path("ipcsuite-posix-helper"), args);
}
}  // namespace

BEHAVIOUR("posix-shm.share.forked-process-sees-writes-both-ways", "[posix]",
          "after fork, a MAP_SHARED mapping of a shared memory object carries writes from child to "
          "parent and from parent to child",
          "shm_overview(7); mmap(2) MAP_SHARED (Updates to the mapping are visible to other processes)") {
  auto obj = make_shm_object(page_size());
  auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  Checkpoints cp;
  auto child = Child::fork([&, p = m.get()] {
    std::memcpy(p, "from-child", 10);
    cp.wake(0);
    if (!cp.wait(1)) return 1;
    return std::memcmp(p + 100, "from-parent", 11) == 0 ? 0 : 2;
  });
  REQUIRE(cp.wait(0));
  REQUIRE(std::memcmp(m.get(), "from-child", 10) == 0);
  std::memcpy(m.get() + 100, "from-parent", 11);
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
}

BEHAVIOUR("posix-shm.share.unrelated-processes-share-by-name", "[posix]",
          "an unrelated (exec'd) process that shm_opens and maps the same name sees this process's "
          "writes, and this process sees its writes",
          "shm_open(3) DESCRIPTION (a handle which can be used by unrelated processes to mmap(2) the "
          "same region); shm_overview(7)") {
  auto obj = make_shm_object(page_size());
  auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  REQUIRE_THAT(helper({"shm-write", obj.name.str(), "written-by-helper"}).wait().status, ExitedWith(0));
  REQUIRE(std::string(m.get(), 17) == "written-by-helper");
  std::memcpy(m.get(), "parent-text", 11);
  auto r = helper({"shm-read", obj.name.str(), "11"}).wait();
  REQUIRE_THAT(r.status, ExitedWith(0));
  REQUIRE(r.out == "parent-text");
}

BEHAVIOUR("posix-shm.share.mapping-survives-close-of-descriptor", "[posix]",
          "closing the descriptor after mmap leaves the mapping of the object working",
          "shm_open(3) DESCRIPTION (After a call to mmap(2) the file descriptor may be closed "
          "without affecting the memory mapping); POSIX.1-2017 mmap()") {
  auto obj = make_shm_object(page_size());
  auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  obj.fd.reset();
  std::memcpy(m.get(), "kept", 4);
  int fd = ::shm_open(obj.name.c_str(), O_RDONLY, 0);
  REQUIRE(fd >= 0);
  Fd again(fd);
  char buf[4];
  REQUIRE_THAT(sys(::pread(again.get(), buf, 4, 0)), Returns(4));
  REQUIRE(std::memcmp(buf, "kept", 4) == 0);
}
