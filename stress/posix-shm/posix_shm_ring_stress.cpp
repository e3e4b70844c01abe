// POSIX shared memory stress: a ring buffer of fixed slots in a shm_open(3) object, between
// producer and consumer processes that each map the object themselves (shm_open by name,
// mmap MAP_SHARED: different addresses, one object). Synchronisation is by process-shared
// unnamed semaphores (sem_init(3) pshared != 0) living in the object itself:
//   empty (free slots), full (filled slots), and one mutex each for the head and the tail.
// A producer waits `empty`, fills slot head under the head mutex, posts `full`; a consumer
// waits `full`, copies slot tail out under the tail mutex, posts `empty`.
//
// What is checked: every payload is verified (length, bytes, checksum), so a write not
// visible through another mapping, a torn slot or a missed wake-up shows; exactly once over
// all consumers; each consumer sees every producer's records in increasing order (slots
// are taken in ring order), gapless with a single consumer ("mpsc"). Every semaphore wait
// is a sem_timedwait with a deadline (--wait-ms): a timeout is a violation (deadlock or a
// lost post), never a hang.
#include "common/mech_support.hpp"

#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>

#include <cerrno>
#include <map>

using namespace stress;
using namespace stress::mech;

namespace {

struct RingHeader {
  sem_t empty, full, head_lock, tail_lock;
  uint64_t head, tail;  // guarded by head_lock / tail_lock
  uint32_t nslots, slot_size;
};
// A slot: a 32-bit length, then the record.
size_t slot_stride(size_t slot_size) { return (sizeof(uint32_t) + slot_size + 63) / 64 * 64; }
size_t ring_bytes(size_t nslots, size_t slot_size) {
  return (sizeof(RingHeader) + 63) / 64 * 64 + nslots * slot_stride(slot_size);
}
unsigned char* slot_at(RingHeader* r, uint64_t i) {
  return reinterpret_cast<unsigned char*>(r) + (sizeof(RingHeader) + 63) / 64 * 64 + (i % r->nslots) * slot_stride(r->slot_size);
}

struct Params {
  unsigned producers, consumers;
  uint64_t records;  // per producer
  size_t max_size;   // slot size
  size_t nslots;
};

// Maps the ring by name, as an unrelated process would.
fx::Mapping map_ring(std::string const& name, size_t bytes) {
  fx::Fd fd(::shm_open(name.c_str(), O_RDWR, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "shm_open " + name);
  return fx::map_memory(bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
}

bool timed_wait(sem_t* s, std::chrono::milliseconds wait) {
  timespec dl = fx::realtime_in(wait);
  for (;;) {
    if (::sem_timedwait(s, &dl) == 0) return true;
    if (errno != EINTR) return false;
  }
}

std::string wait_failure(char const* what, std::chrono::milliseconds wait) {
  return std::string("sem_timedwait(") + what + ") " +
         (errno == ETIMEDOUT ? "timed out after " + std::to_string(wait.count()) + " ms (deadlock or lost post)"
                             : std::string("failed: ") + std::strerror(errno));
}

int producer(Run const& run, Params const& p, std::string const& name, uint32_t id, Tally& t, Metrics const& m) {
  fx::Mapping map = map_ring(name, ring_bytes(p.nslots, p.max_size));
  auto* r = reinterpret_cast<RingHeader*>(map.get());
  std::string who = "producer " + std::to_string(id);
  for (uint64_t i = 0; i < p.records; ++i) {
    uint64_t seq = (run.fault == Fault::Skip && id == 0 && i >= kFaultSeq) ? i + 1 : i;
    size_t len = record_len(id, seq, kHeader, p.max_size);
    if (!timed_wait(&r->empty, run.wait)) {
      report(t, m, who + ": " + wait_failure("empty", run.wait));
      return kWorkerViolation;
    }
    if (!timed_wait(&r->head_lock, run.wait)) {
      report(t, m, who + ": " + wait_failure("head lock", run.wait));
      return kWorkerViolation;
    }
    unsigned char* slot = slot_at(r, r->head++);
    uint32_t l32 = uint32_t(len);
    std::memcpy(slot, &l32, sizeof l32);
    make_record(slot + sizeof l32, len, id, seq);
    if (run.fault == Fault::Corrupt && id == 0 && i == kFaultSeq) slot[sizeof l32 + len / 2] ^= 0x80;
    ::sem_post(&r->head_lock);
    ::sem_post(&r->full);
    t.progress.fetch_add(1);
  }
  return kWorkerOk;
}

// Consumers take tickets, one per record produced, so each ticket's wait must succeed.
int consumer(Run const& run, Params const& p, std::string const& name, unsigned me, uint64_t total,
             std::atomic<uint64_t>& tickets, ExactlyOnce const& once, Tally& t, Metrics const& m) {
  fx::Mapping map = map_ring(name, ring_bytes(p.nslots, p.max_size));
  auto* r = reinterpret_cast<RingHeader*>(map.get());
  std::string who = "consumer " + std::to_string(me);
  std::vector<unsigned char> rec(p.max_size);
  std::map<uint32_t, uint64_t> next;
  OrderChecker order;
  bool bad = false;
  auto fail = [&](std::string const& what) {
    report(t, m, who + ": " + what);
    bad = true;
  };
  while (tickets.fetch_add(1) < total) {
    if (!timed_wait(&r->full, run.wait)) {
      fail(wait_failure("full", run.wait));
      return kWorkerViolation;
    }
    if (!timed_wait(&r->tail_lock, run.wait)) {
      fail(wait_failure("tail lock", run.wait));
      return kWorkerViolation;
    }
    uint64_t index = r->tail++;
    unsigned char* slot = slot_at(r, index);
    uint32_t len;
    std::memcpy(&len, slot, sizeof len);
    bool len_ok = len >= kHeader && len <= p.max_size;
    if (len_ok) std::memcpy(rec.data(), slot + sizeof len, len);
    ::sem_post(&r->tail_lock);
    ::sem_post(&r->empty);
    t.progress.fetch_add(1);

    std::string why;
    if (!len_ok) {
      fail("slot " + std::to_string(index % p.nslots) + " (ring index " + std::to_string(index) + ") holds length " +
           std::to_string(len));
      continue;
    }
    if (!check_record(rec.data(), len, &why)) {
      fail("ring index " + std::to_string(index) + ": " + why);
      continue;
    }
    RecordHeader h;
    std::memcpy(&h, rec.data(), kHeader);
    std::string id = "record producer " + std::to_string(h.writer) + " seq " + std::to_string(h.seq);
    switch (once.mark(h.writer, h.seq)) {
      case ExactlyOnce::kNew: break;
      case ExactlyOnce::kDuplicate: fail(id + " received twice (duplicate)"); break;
      case ExactlyOnce::kOutOfRange: fail(id + ": unknown producer or sequence number out of range"); break;
    }
    if (p.consumers == 1) {
      if (!order.accept(h.writer, h.seq, &why)) fail(id + ": ring order broken: " + why);
    } else {
      uint64_t& nx = next[h.writer];
      if (h.seq < nx) fail(id + " after seq " + std::to_string(nx - 1) + " (older record taken later)");
      nx = h.seq + 1;
    }
    t.records.fetch_add(1);
    t.bytes.fetch_add(len);
  }
  return bad ? kWorkerViolation : kWorkerOk;
}

// The semaphores in the object, destroyed (sem_destroy) once nobody uses them.
class RingSems {
 public:
  RingSems(RingHeader* r, unsigned nslots) : r_(r) {
    auto init = [](sem_t* s, unsigned v) {
      if (::sem_init(s, 1, v) != 0) throw std::system_error(errno, std::generic_category(), "sem_init pshared");
    };
    init(&r->empty, nslots);
    init(&r->full, 0);
    init(&r->head_lock, 1);
    init(&r->tail_lock, 1);
  }
  RingSems(RingSems const&) = delete;
  RingSems& operator=(RingSems const&) = delete;
  ~RingSems() {
    ::sem_destroy(&r_->empty);
    ::sem_destroy(&r_->full);
    ::sem_destroy(&r_->head_lock);
    ::sem_destroy(&r_->tail_lock);
  }

 private:
  RingHeader* r_;
};

void round(Run& run, Params const& p, Metrics& m) {
  SharedArray<Tally> tally(1);
  Tally& t = tally[0];
  SharedArray<std::atomic<uint64_t>> tickets(1);
  ExactlyOnce once(p.producers, p.records + 1);
  size_t bytes = ring_bytes(p.nslots, p.max_size);
  fx::ShmObject obj = fx::make_shm_object(bytes);
  fx::Mapping map = fx::map_memory(bytes, PROT_READ | PROT_WRITE, MAP_SHARED, obj.fd.get());
  auto* r = reinterpret_cast<RingHeader*>(map.get());
  r->nslots = uint32_t(p.nslots);
  r->slot_size = uint32_t(p.max_size);
  RingSems sems(r, unsigned(p.nslots));
  std::string const name = obj.name.str();
  uint64_t total = p.producers * p.records;

  {
    Workers w;  // destroyed (every worker gone) before the semaphores are
    for (unsigned i = 0; i < p.consumers; ++i)
      w.spawn("consumer " + std::to_string(i), [&, i] {
        return worker_main([&] { return consumer(run, p, name, i, total, tickets[0], once, t, m); });
      });
    for (uint32_t i = 0; i < p.producers; ++i)
      w.spawn("producer " + std::to_string(i), [&, i] { return worker_main([&] { return producer(run, p, name, i, t, m); }); });
    w.wait_all(run, m, t, run.wait + std::chrono::seconds(2));
  }

  if (run.completed) {
    int full = -1, empty = -1;
    ::sem_getvalue(&r->full, &full);
    ::sem_getvalue(&r->empty, &empty);
    if (full != 0 || empty != int(p.nslots) || r->head != total || r->tail != total)
      report(t, m, "after the run: full " + std::to_string(full) + ", empty " + std::to_string(empty) + ", head " +
                       std::to_string(r->head) + ", tail " + std::to_string(r->tail) + "; expected 0, " +
                       std::to_string(p.nslots) + ", " + std::to_string(total) + ", " + std::to_string(total));
    for (uint32_t w = 0; w < p.producers; ++w)
      for (uint64_t seq : once.missing(w, p.records))
        report(t, m, "record producer " + std::to_string(w) + " seq " + std::to_string(seq) + " never received (lost)");
  }
  m.records += t.records.load();
  m.bytes += t.bytes.load();
  m.violations += t.violations.load();
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main([&] {
    Options d;
    d.writers = 4;
    d.readers = 3;
    d.records = 30000;
    d.size = 2048;
    Run run(argc, argv, d);
    size_t nslots = std::stoul(run.extra("slots", "16"));
    run.no_more_options();
    if (run.opt.writers == 0 || run.opt.readers == 0 || run.opt.records == 0 || run.opt.size < kHeader || nslots == 0)
      throw SetupError("need writers, readers, records and slots > 0 and a size of at least a record header");
    if (run.fault != Fault::None && run.fault != Fault::Skip && run.fault != Fault::Corrupt)
      throw SetupError("posix-shm injects skip or corrupt");

    struct Cfg {
      std::string variant;
      unsigned consumers;
    };
    for (Cfg const& c : {Cfg{"ring-mpsc", 1}, Cfg{"ring-mpmc", run.opt.readers}}) {
      if (!run.selected(c.variant)) continue;
      Params p{run.opt.writers, c.consumers, run.opt.records, run.opt.size, nslots};
      Metrics base;
      base.mechanism = "posix-shm";
      base.variant = c.variant;
      base.processes = p.producers + p.consumers;
      base.record_size = p.max_size;
      run.configuration(base, [&](Metrics& m) { round(run, p, m); });
    }
    return run.verdict();
  });
}
