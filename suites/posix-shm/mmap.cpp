// posix-shm.mmap.*: what mappings share and what they do not, and how mmap refuses.
// Sources: mmap(2) DESCRIPTION, ERRORS and NOTES; POSIX.1-2017 mmap().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace fx;

namespace {
// A regular file of `size` bytes (zeros) in a fresh temporary directory.
struct TempFile {
  TempDir dir;
  std::string path;
  Fd fd;
  explicit TempFile(size_t size, int oflag = O_RDWR) : path(dir / "file") {
    Fd create(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600));
    if (!create || ::ftruncate(create.get(), static_cast<off_t>(size)) != 0)
      throw std::runtime_error("creating " + path);
    fd = Fd(::open(path.c_str(), oflag));
    if (!fd) throw std::runtime_error("opening " + path);
  }
};

void* try_map(size_t len, int prot, int flags, int fd, off_t off = 0) {
  return ::mmap(nullptr, len, prot, flags, fd, off);
}
SysResult mapped(void* p, size_t len) {
  SysResult r = sys(reinterpret_cast<long>(p));
  if (p != MAP_FAILED) ::munmap(p, len);
  return r;
}
}  // namespace

BEHAVIOUR("posix-shm.mmap.shared-file-writes-seen-by-other-mappings-and-read", "[posix]",
          "a store through a MAP_SHARED mapping of a file is seen through another mapping of it "
          "and by read(2)",
          "mmap(2) MAP_SHARED (Updates to the mapping are visible to other processes mapping the "
          "same region, and ... carried through to the underlying file)") {
  TempFile f(page_size());
  auto a = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get());
  auto b = map_memory(page_size(), PROT_READ, MAP_SHARED, f.fd.get());
  std::memcpy(a.get() + 8, "shared", 6);
  REQUIRE(std::memcmp(b.get() + 8, "shared", 6) == 0);
  Fd reader(::open(f.path.c_str(), O_RDONLY));
  REQUIRE(reader);
  char buf[6];
  REQUIRE_THAT(sys(::pread(reader.get(), buf, 6, 8)), Returns(6));
  REQUIRE(std::memcmp(buf, "shared", 6) == 0);
}

BEHAVIOUR("posix-shm.mmap.write-through-file-seen-by-shared-mapping", "[posix]",
          "a write(2) to a file is seen through an existing MAP_SHARED mapping of it",
          "POSIX.1-2017 mmap() DESCRIPTION (MAP_SHARED: changes are shared); mmap(2) MAP_SHARED") {
  TempFile f(page_size());
  auto m = map_memory(page_size(), PROT_READ, MAP_SHARED, f.fd.get());
  REQUIRE(::pwrite(f.fd.get(), "written", 7, 16) == 7);
  REQUIRE(std::memcmp(m.get() + 16, "written", 7) == 0);
}

BEHAVIOUR("posix-shm.mmap.private-writes-not-seen-by-others-or-read", "[posix]",
          "a store through a MAP_PRIVATE mapping is seen neither through a MAP_SHARED mapping of "
          "the file nor by read(2)",
          "mmap(2) MAP_PRIVATE (Updates to the mapping are not visible to other processes mapping "
          "the same file, and are not carried through to the underlying file)") {
  TempFile f(page_size());
  auto priv = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, f.fd.get());
  auto shared = map_memory(page_size(), PROT_READ, MAP_SHARED, f.fd.get());
  std::memcpy(priv.get(), "private", 7);
  REQUIRE(std::memcmp(priv.get(), "private", 7) == 0);
  char zeros[7] = {};
  REQUIRE(std::memcmp(shared.get(), zeros, 7) == 0);
  char buf[7];
  REQUIRE_THAT(sys(::pread(f.fd.get(), buf, 7, 0)), Returns(7));
  REQUIRE(std::memcmp(buf, zeros, 7) == 0);
}

BEHAVIOUR("posix-shm.mmap.anonymous-shared-is-shared-across-fork", "[linux-specific]",
          "a MAP_SHARED|MAP_ANONYMOUS mapping made before fork carries a child's stores to the parent",
          "mmap(2) MAP_ANONYMOUS, MAP_SHARED (MAP_ANONYMOUS is not in POSIX.1-2017)") {
  auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  auto st = run_in_child([p = m.get()] { std::memcpy(p, "child", 5); });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(std::memcmp(m.get(), "child", 5) == 0);
}

BEHAVIOUR("posix-shm.mmap.anonymous-private-is-copy-on-write-across-fork", "[linux-specific]",
          "a MAP_PRIVATE|MAP_ANONYMOUS mapping is copied on write across fork: the child sees the "
          "parent's earlier contents, and neither sees the other's later stores",
          "mmap(2) MAP_PRIVATE (copy-on-write mapping), MAP_ANONYMOUS; fork(2)") {
  auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  std::memcpy(m.get(), "before", 6);
  Checkpoints cp;
  auto child = Child::fork([&, p = m.get()] {
    if (std::memcmp(p, "before", 6) != 0) return 1;
    std::memcpy(p, "child!", 6);
    cp.wake(0);
    if (!cp.wait(1)) return 2;
    return std::memcmp(p, "child!", 6) == 0 ? 0 : 3;  // the parent's store stayed out
  });
  REQUIRE(cp.wait(0));
  REQUIRE(std::memcmp(m.get(), "before", 6) == 0);
  std::memcpy(m.get(), "parent", 6);
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
}

BEHAVIOUR("posix-shm.mmap.access-to-whole-page-past-eof-raises-sigbus", "[posix][signal]",
          "touching a page of a mapping that lies wholly past the end of the file raises SIGBUS",
          "mmap(2) Use of a mapped region (SIGBUS); POSIX.1-2017 mmap() DESCRIPTION (whole pages "
          "following the end of an object shall result in delivery of a SIGBUS signal)") {
  auto obj = make_shm_object(page_size());
  auto m = map_memory(2 * page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  // The first page is inside the object: reading it is fine.
  REQUIRE(m.get()[page_size() - 1] == 0);
  auto st = run_in_child([p = m.get() + page_size()] {
    reset_signals();
    *static_cast<volatile char*>(p) = 1;
  });
  REQUIRE_THAT(st, KilledBy(SIGBUS));
}

BEHAVIOUR("posix-shm.mmap.growing-the-object-makes-pages-past-old-eof-usable", "[posix]",
          "after ftruncate grows the object, a page of an existing mapping that lay past the end "
          "becomes accessible and zero",
          "POSIX.1-2017 mmap() DESCRIPTION; ftruncate(2); mmap(2) NOTES") {
  auto obj = make_shm_object(page_size());
  auto m = map_memory(2 * page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  REQUIRE(::ftruncate(obj.fd.get(), static_cast<off_t>(2 * page_size())) == 0);
  auto st = run_in_child([p = m.get() + page_size()] {
    reset_signals();
    if (*static_cast<volatile char*>(p) != 0) return 1;
    *static_cast<volatile char*>(p) = 7;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(m.get()[page_size()] == 7);
}

BEHAVIOUR("posix-shm.mmap.partial-page-past-eof-reads-zero", "[posix]",
          "the bytes of the last mapped page beyond the end of a shared memory object read as zero",
          "mmap(2) NOTES (remaining bytes in the partial page at the end of the mapping are zeroed); "
          "POSIX.1-2017 mmap() (the system shall always zero-fill any partial page at the end of an object)") {
  auto obj = make_shm_object(10);
  REQUIRE(::pwrite(obj.fd.get(), "0123456789", 10, 0) == 10);
  auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  REQUIRE(m.get()[9] == '9');
  REQUIRE(m.get()[10] == 0);
  REQUIRE(m.get()[page_size() - 1] == 0);
}

// A POSIX shm object lives on tmpfs (/dev/shm), whose page cache is the object itself: a store
// past the end stays in the page, and Linux does not zero it when ftruncate later grows the
// object. ext4 and other disk filesystems zero the tail on growth, which is why this claim is
// made for shm objects, not for a file in $TMPDIR, whose filesystem varies.
BEHAVIOUR("posix-shm.mmap.store-past-eof-not-seen-after-growth", "[posix]",
          "a store into the partial page past the end of a shared memory object is not part of the "
          "object: when ftruncate grows the object, the new bytes read as zero",
          "POSIX.1-2017 mmap() (the system shall never write out any modified portions of the last page "
          "of an object which are beyond its end); POSIX.1-2017 ftruncate() (the extended area shall "
          "appear as if it were zero-filled); mmap(2) NOTES") {
  auto obj = make_shm_object(10);
  REQUIRE(::pwrite(obj.fd.get(), "0123456789", 10, 0) == 10);
  {
    auto m = map_memory(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
    m.get()[10] = 'X';
  }
  REQUIRE(::ftruncate(obj.fd.get(), 11) == 0);
  char c = '?';
  REQUIRE_THAT(sys(::pread(obj.fd.get(), &c, 1, 10)), Returns(1));
  REQUIRE(c == 0);
}

BEHAVIOUR("posix-shm.mmap.length-zero-fails-einval", "[posix]",
          "mmap with length 0 fails with EINVAL",
          "mmap(2) ERRORS (EINVAL (since Linux 2.6.12) length was 0); POSIX.1-2017 mmap() ERRORS") {
  auto obj = make_shm_object(page_size());
  REQUIRE_THAT(mapped(try_map(0, PROT_READ, MAP_SHARED, obj.fd.get()), 0), FailsWith(EINVAL));
}

BEHAVIOUR("posix-shm.mmap.neither-shared-nor-private-fails-einval", "[posix]",
          "mmap with flags containing neither MAP_SHARED nor MAP_PRIVATE fails with EINVAL",
          "mmap(2) ERRORS (EINVAL flags contained none of MAP_PRIVATE, MAP_SHARED); POSIX.1-2017 mmap()") {
  auto obj = make_shm_object(page_size());
  REQUIRE_THAT(mapped(try_map(page_size(), PROT_READ, 0, obj.fd.get()), page_size()), FailsWith(EINVAL));
}

BEHAVIOUR("posix-shm.mmap.unaligned-offset-fails-einval", "[posix]",
          "mmap with an offset that is not a multiple of the page size fails with EINVAL",
          "mmap(2) DESCRIPTION (offset must be a multiple of the page size) and ERRORS; POSIX.1-2017 mmap()") {
  auto obj = make_shm_object(2 * page_size());
  REQUIRE_THAT(mapped(try_map(page_size(), PROT_READ, MAP_SHARED, obj.fd.get(), 1), page_size()),
               FailsWith(EINVAL));
}

BEHAVIOUR("posix-shm.mmap.shared-writable-on-rdonly-fd-fails-eacces", "[posix]",
          "mmap with PROT_WRITE and MAP_SHARED of a file descriptor opened O_RDONLY fails with EACCES",
          "mmap(2) ERRORS (EACCES MAP_SHARED was requested and PROT_WRITE is set, but fd is not open "
          "in read/write (O_RDWR) mode); POSIX.1-2017 mmap() ERRORS") {
  TempFile f(page_size(), O_RDONLY);
  REQUIRE_THAT(mapped(try_map(page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get()), page_size()),
               FailsWith(EACCES));
}

BEHAVIOUR("posix-shm.mmap.private-writable-on-rdonly-fd-succeeds", "[posix]",
          "mmap with PROT_WRITE and MAP_PRIVATE of a file descriptor opened O_RDONLY succeeds",
          "POSIX.1-2017 mmap() DESCRIPTION (write permission is needed for PROT_WRITE unless "
          "MAP_PRIVATE is specified); mmap(2) ERRORS") {
  TempFile f(page_size(), O_RDONLY);
  void* p = try_map(page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, f.fd.get());
  REQUIRE_THAT(sys(reinterpret_cast<long>(p)), Succeeds());
  Mapping m(p, page_size());
  m.get()[0] = 'w';
}

BEHAVIOUR("posix-shm.mmap.write-to-read-only-mapping-raises-sigsegv", "[posix][signal]",
          "a store into a mapping made with PROT_READ only raises SIGSEGV",
          "mmap(2) Use of a mapped region (SIGSEGV Attempted write into a region mapped as read-only); "
          "POSIX.1-2017 mmap()") {
  auto obj = make_shm_object(page_size());
  auto m = map_memory(page_size(), PROT_READ, MAP_SHARED, obj.fd.get());
  auto st = run_in_child([p = m.get()] {
    reset_signals();
    *static_cast<volatile char*>(p) = 1;
  });
  REQUIRE_THAT(st, KilledBy(SIGSEGV));
}

BEHAVIOUR("posix-shm.mmap.access-after-munmap-raises-sigsegv", "[posix][signal]",
          "touching an address range after munmap raises SIGSEGV",
          "munmap(2) DESCRIPTION (further references to addresses within the range generate invalid "
          "memory references); POSIX.1-2017 munmap()") {
  auto obj = make_shm_object(page_size());
  auto st = run_in_child([fd = obj.fd.get()] {
    reset_signals();
    void* p = ::mmap(nullptr, ::sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return 1;
    if (::munmap(p, ::sysconf(_SC_PAGESIZE)) != 0) return 2;
    *static_cast<volatile char*>(p) = 1;
    return 0;
  });
  REQUIRE_THAT(st, KilledBy(SIGSEGV));
}
