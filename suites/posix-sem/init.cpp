// posix-sem.init.*: unnamed semaphores. Sources: sem_init(3), sem_overview(7) Unnamed
// semaphores; POSIX.1-2017 sem_init().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <thread>

using namespace fx;

BEHAVIOUR("posix-sem.init.pshared-in-shared-memory-syncs-forked-processes", "[posix]",
          "a semaphore made by sem_init(pshared=1) in MAP_SHARED memory blocks a forked child in "
          "sem_wait until the parent posts",
          "sem_init(3) DESCRIPTION (pshared nonzero: shared between processes); sem_overview(7)") {
  auto mem = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  auto* s = reinterpret_cast<sem_t*>(mem.get());
  REQUIRE_THAT(sys(::sem_init(s, 1, 0)), Returns(0));
  auto child = Child::fork([s] {
    if (::sem_wait(s) != 0) return 1;
    return ::sem_post(s) == 0 ? 0 : 2;  // hand one back: the parent sees it
  });
  REQUIRE(wait_blocked(child.pid(), SYS_futex));
  REQUIRE(::sem_post(s) == 0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(sem_value(s) == 1);
  ::sem_destroy(s);
}

BEHAVIOUR("posix-sem.init.pshared-zero-syncs-threads", "[posix]",
          "a semaphore made by sem_init(pshared=0) blocks a thread of the process in sem_wait until "
          "another thread posts",
          "sem_init(3) DESCRIPTION (pshared 0: shared between the threads of a process)") {
  sem_t s;
  REQUIRE_THAT(sys(::sem_init(&s, 0, 0)), Returns(0));
  std::atomic<pid_t> tid{0};
  std::atomic<int> rc{-2};
  std::thread waiter([&] {
    tid = ::gettid();
    rc = ::sem_wait(&s);
  });
  struct Joiner {
    std::thread& t;
    sem_t* s;
    ~Joiner() {
      if (t.joinable()) { ::sem_post(s); t.join(); }  // never leave a thread behind
    }
  } joiner{waiter, &s};
  REQUIRE(wait_until([&] { return tid != 0; }));
  REQUIRE(wait_blocked(::getpid(), SYS_futex, deadline(), tid));
  REQUIRE(rc == -2);
  REQUIRE(::sem_post(&s) == 0);
  waiter.join();
  REQUIRE(rc == 0);
  ::sem_destroy(&s);
}

BEHAVIOUR("posix-sem.init.value-above-sem-value-max-fails-einval", "[posix]",
          "sem_init with a value above SEM_VALUE_MAX fails with EINVAL",
          "sem_init(3) ERRORS; POSIX.1-2017 sem_init() ERRORS") {
  sem_t s;
  REQUIRE_THAT(sys(::sem_init(&s, 0, static_cast<unsigned>(SEM_VALUE_MAX) + 1u)), FailsWith(EINVAL));
}

BEHAVIOUR("posix-sem.init.pshared-in-shm-object-works-through-another-mapping", "[posix]",
          "a pshared semaphore placed in a POSIX shared memory object works through a second, "
          "independent mapping of that object",
          "sem_overview(7) Unnamed semaphores (placed in a POSIX shared memory object); sem_init(3)") {
  auto obj = make_shm_object(page_size());
  auto first = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  auto* s = reinterpret_cast<sem_t*>(first.get());
  REQUIRE(::sem_init(s, 1, 0) == 0);
  // The child maps the object anew (after exec nothing would be inherited either).
  auto child = Child::fork([name = obj.name.str()] {
    int fd = ::shm_open(name.c_str(), O_RDWR, 0);
    if (fd < 0) return 1;
    void* p = ::mmap(nullptr, ::sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return 2;
    return ::sem_wait(static_cast<sem_t*>(p)) == 0 ? 0 : 3;
  });
  REQUIRE(wait_blocked(child.pid(), SYS_futex));
  REQUIRE(::sem_post(s) == 0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  ::sem_destroy(s);
}
