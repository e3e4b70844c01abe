// Pipe and FIFO stress: PIPE_BUF atomicity under many writers, every record verified.
//
//   ipcsuite-stress-pipe --writers N --size BYTES [--readers R] [--variant V] [--nonblock 1]
//                        [--one-page 1] [--seconds S | --records N] [--raw]
//   ipcsuite-stress-pipe --bench [--seconds S]          ramp writers x sizes, verified and raw
//
// Claim under test, pipe(7) PIPE_BUF and POSIX.1-2017 write() DESCRIPTION: a write of at most
// PIPE_BUF bytes to a pipe or FIFO is atomic, its bytes are not interleaved with data from
// other writes, also with O_NONBLOCK (where such a write either writes everything or fails
// with EAGAIN, never partially). Variants (--variant):
//   anon      an anonymous pipe shared by forked writers (default)
//   fifo      a FIFO opened by unrelated processes: this program exec'd again in writer mode
//             through Boost.Process (fx::Program), never forked copies
// with --nonblock 1 (O_NONBLOCK writers: EAGAIN retried after poll(POLLOUT)) and --one-page 1
// (the pipe shrunk to one page with F_SETPIPE_SZ, Linux: every write waits for the reader).
//
// Records (stress/common): header {magic, writer, seq, len, checksum} + payload that is a
// function of (writer, seq, offset). Records shorter than the header (size 1 .. 23) use a
// small scheme, see SmallRecord below.
//
// One reader reassembles the byte stream at record boundaries: a torn or spliced record is
// a payload mismatch at a named offset, and per-writer order, loss and duplication are
// checked against each writer's own count of what it wrote.
//
// Several readers (--readers R > 1, records >= header size) each read() exactly one record
// size at a time. POSIX read(): a read from a pipe returns fewer bytes than asked only when
// fewer are available (or a signal interrupts it; none is delivered here). Since every
// write is one whole record and every read takes one record size, the pipe always holds a
// whole number of records while writes are atomic, so each read returns exactly one whole
// record; a short read is itself a violation (a partial record was in the pipe). Readers
// race, so each reader sees a subsequence of each writer's records: per reader, a writer's
// sequence numbers must strictly increase (the pipe is first-in first-out and one reader's
// reads are ordered); over all readers, each writer's count, sum of sequence numbers and
// sum of their squares must be those of 0 .. sent-1, which catches loss and duplication.
//
// Positive control: --size above PIPE_BUF. POSIX allows such writes to interleave; the
// checker counts torn records as interleavings (not violations), resynchronises on the next
// header, and still requires that no byte is lost. If it sees no interleaving it says so
// (WARNING on stderr and "warning" in the JSON): the detector was not exercised.
//
// --inject-fault split (hidden, for the checker's own tests): writer 0 writes record 3 in two
// halves around record 4 (a size-1 record is written twice instead); the run must exit 1.
//
// Exit: 0 every record verified, 1 a violation (each printed as a VIOLATION line), 2 usage
// or set-up error. IPCSUITE-UNSUPPORTED: when the kernel refuses F_SETPIPE_SZ.
#include "common/stress.hpp"

#include "fx/child.hpp"
#include "fx/deadline.hpp"
#include "fx/fd.hpp"
#include "fx/spawn.hpp"
#include "fx/tempdir.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using stress::kHeader;

constexpr unsigned kMaxWriters = 256;
constexpr unsigned kMaxReaders = 16;
constexpr unsigned kMaxSmallWriters = 64;  // 6 bits of writer id in a small record's tag
constexpr uint64_t kFaultSeq = 3;
constexpr uint64_t kUnknown = ~uint64_t(0);  // a writer that died: its count is unknown          // --inject-fault hits this record of writer 0
// Slack added to the run's own duration for draining and exits: a hung kernel fails the
// run (exit 1) long before ctest's TIMEOUT.
constexpr auto kSlack = std::chrono::seconds(20);

[[noreturn]] void usage_error(std::string const& m) {
  std::fprintf(stderr, "ipcsuite-stress-pipe: %s\n", m.c_str());
  std::exit(2);
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Small records (size < header): byte 0 is a tag, (writer << 2) | (seq & 3); bytes 1 .. n-1
// are stress::small_byte of (writer, seq * 32 + i), checked against the sequence number the
// reader expects next from that writer. A lost, duplicated or reordered record changes the
// low sequence bits in the tag (unless exactly a multiple of 4 records go missing at once),
// and for sizes above 1 also the payload, which is a function of the full sequence number.
// At the end each writer's count of records seen must equal its count of records written,
// which catches what the two bits cannot. A torn record shifts the stream: the next tag
// read is a payload byte or another writer's, which the same checks trip on.
struct SmallRecord {
  static unsigned char tag(uint32_t w, uint64_t seq) { return static_cast<unsigned char>((w << 2) | (seq & 3)); }
  static unsigned char body(uint32_t w, uint64_t seq, size_t i) { return stress::small_byte(w, seq * 32 + i); }
  static void make(unsigned char* buf, size_t len, uint32_t w, uint64_t seq) {
    buf[0] = tag(w, seq);
    for (size_t i = 1; i < len; ++i) buf[i] = body(w, seq, i);
  }
};

void make_any(unsigned char* buf, size_t len, uint32_t w, uint64_t seq) {
  if (len < kHeader) SmallRecord::make(buf, len, w, seq);
  else stress::make_record(buf, len, w, seq);
}

// ---------------------------------------------------------------------------------------
// Writers

struct WriterConfig {
  int fd = -1;
  uint32_t id = 0;
  size_t size = 0;
  uint64_t max_records = 0;  // 0: by time only
  double seconds = 0;        // 0: by count only
  bool nonblock = false;
  bool fault = false;  // write record kFaultSeq torn (split, or duplicated for size 1)
};

struct WriterResult {
  uint64_t sent = 0;        // whole records written
  uint64_t violations = 0;  // partial writes of <= PIPE_BUF bytes
  int error = 0;            // errno of a failure that stopped the writer (EPIPE: reader gone)
};

// Writes buf[0, n) completely. A write of n <= PIPE_BUF bytes must be all or nothing
// (pipe(7)); a partial one is reported and the rest is still written so the stream stays
// checkable. Returns 0 or the errno that stopped it.
int write_record(WriterConfig const& c, unsigned char const* buf, size_t n, uint64_t seq, WriterResult& r) {
  size_t done = 0;
  auto give_up = Clock::now() + kSlack + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.seconds));
  while (done < n) {
    ssize_t w = ::write(c.fd, buf + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (Clock::now() > give_up) return ETIMEDOUT;
        pollfd p{c.fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      return errno;
    }
    if (done == 0 && static_cast<size_t>(w) < n && n <= PIPE_BUF) {
      ++r.violations;
      std::fprintf(stderr,
                   "VIOLATION pipe write: writer %u seq %" PRIu64 ": write of %zu bytes (<= PIPE_BUF %d) returned %zd%s\n",
                   c.id, seq, n, PIPE_BUF, w, c.nonblock ? " with O_NONBLOCK (must be all or EAGAIN)" : "");
    }
    done += static_cast<size_t>(w);
  }
  return 0;
}

WriterResult run_writer(WriterConfig const& c) {
  WriterResult r;
  std::vector<unsigned char> buf(c.size), next(c.size);
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.seconds));
  for (uint64_t seq = 0;; ++seq) {
    if (c.max_records && seq >= c.max_records) break;
    // The clock is read every 16 records; a faulty writer goes on past its fault record.
    if (c.seconds > 0 && (seq & 15) == 0 && Clock::now() >= end && !(c.fault && seq <= kFaultSeq + 1)) break;
    make_any(buf.data(), c.size, c.id, seq);
    if (c.fault && seq == kFaultSeq) {
      if (c.size == 1) {
        // One byte cannot be split: the fault is a duplicated record.
        if ((r.error = write_record(c, buf.data(), 1, seq, r))) return r;
        if ((r.error = write_record(c, buf.data(), 1, seq, r))) return r;
        ++r.sent;
        continue;
      }
      // The first half, the whole next record, then the second half: a torn record, on
      // any kernel and whatever the other writers do.
      size_t half = c.size / 2;
      make_any(next.data(), c.size, c.id, seq + 1);
      if ((r.error = write_record(c, buf.data(), half, seq, r))) return r;
      if ((r.error = write_record(c, next.data(), c.size, seq + 1, r))) return r;
      if ((r.error = write_record(c, buf.data() + half, c.size - half, seq, r))) return r;
      r.sent += 2;
      ++seq;
      continue;
    }
    if ((r.error = write_record(c, buf.data(), c.size, seq, r))) return r;
    ++r.sent;
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// Readers

struct RunConfig {
  std::string mechanism = "pipe", variant = "anon";
  unsigned writers = 2, readers = 1;
  size_t size = 4096;
  uint64_t records = 0;
  double seconds = 1.0;
  bool nonblock = false, one_page = false, raw = false, fault = false;
};

bool positive_control(RunConfig const& c) { return c.size > PIPE_BUF; }

// Single reader: reassembles the stream at record boundaries.
class StreamChecker {
 public:
  StreamChecker(RunConfig const& c, stress::Metrics& m) : c_(c), m_(m), small_next_(kMaxSmallWriters, 0) {}

  // Consumes buf[0, n); returns how many bytes it used (the rest is an incomplete record).
  size_t feed(unsigned char const* buf, size_t n) {
    size_t p = 0;
    if (c_.size < kHeader) {
      for (; p + c_.size <= n; p += c_.size) small(buf + p);
      return p;
    }
    while (p + c_.size <= n) {
      if (resync_) {
        // After a torn record: skip to the next header magic (a 2^-32 chance per offset of
        // meeting one by accident in a payload, and then the record check fails again).
        unsigned char const* q = find_magic(buf + p, n - p);
        if (!q) return n >= 3 ? std::max(p, n - 3) : p;
        p = static_cast<size_t>(q - buf);
        resync_ = false;
        continue;
      }
      record(buf + p);
      if (resync_) p += 1;
      else p += c_.size;
    }
    return p;
  }

  void add_offset(uint64_t n) { offset_ += n; }

  // Per-writer completeness against the writers' own counts.
  void finish(std::vector<uint64_t> const& sent, uint64_t leftover) {
    // In a positive control the checker may have stopped mid-record while resynchronising;
    // there completeness is the byte count (check_totals).
    if (leftover && !positive_control(c_)) {
      std::ostringstream o;
      o << "the stream ends with " << leftover << " bytes, a partial record (record size " << c_.size << ")";
      stress::violation(m_, o.str());
    }
    if (positive_control(c_)) return;  // completeness is checked on the byte count there
    for (unsigned w = 0; w < c_.writers; ++w) {
      if (sent[w] == kUnknown) continue;  // already reported as a dead writer
      uint64_t got = c_.size < kHeader ? small_next_[w] : order_.next(w);
      if (got != sent[w]) {
        std::ostringstream o;
        o << "writer " << w << ": " << got << " records arrived in order, the writer wrote " << sent[w]
          << (got < sent[w] ? " (lost)" : " (duplicated)");
        stress::violation(m_, o.str());
      }
    }
  }

 private:
  static unsigned char const* find_magic(unsigned char const* p, size_t n) {
    unsigned char m[4];
    std::memcpy(m, &stress::kMagic, 4);
    void const* q = ::memmem(p, n, m, 4);
    return static_cast<unsigned char const*>(q);
  }

  uint64_t here(unsigned char const* rec) const { return offset_ + static_cast<uint64_t>(rec - base_); }

  void small(unsigned char const* rec) {
    ++m_.records;
    unsigned w = rec[0] >> 2;
    if (w >= c_.writers) {
      bad(rec, "tag byte 0x" + hex(rec[0]) + " names writer " + std::to_string(w) + ", only " +
                   std::to_string(c_.writers) + " write");
      return;
    }
    uint64_t& seq = small_next_[w];
    if ((rec[0] & 3) != (seq & 3)) {
      bad(rec, "writer " + std::to_string(w) + ": sequence low bits " + std::to_string(rec[0] & 3) + ", expected seq " +
                   std::to_string(seq) + " (low bits " + std::to_string(seq & 3) + "): lost, duplicated or reordered");
      // Resynchronise on what the bits most likely mean, so that one fault is one
      // violation: one behind is a duplicate of the last record (expect the same again),
      // otherwise records were lost and this is the one the bits name.
      unsigned d = ((rec[0] & 3) - (seq & 3)) & 3;
      if (d != 3) seq += d + 1;
      return;
    }
    for (size_t i = 1; i < c_.size; ++i) {
      if (rec[i] != SmallRecord::body(w, seq, i)) {
        bad(rec, "writer " + std::to_string(w) + " seq " + std::to_string(seq) + ": byte at offset " +
                     std::to_string(i) + " is 0x" + hex(rec[i]) + ", expected 0x" + hex(SmallRecord::body(w, seq, i)));
        break;
      }
    }
    ++seq;
  }

  void record(unsigned char const* rec) {
    ++m_.records;
    if (!stress::check_record(rec, c_.size, &why_)) {
      if (positive_control(c_)) ++m_.interleavings;
      else bad(rec, why_);
      resync_ = true;
      return;
    }
    stress::RecordHeader h;
    std::memcpy(&h, rec, kHeader);
    if (h.writer >= c_.writers) {
      bad(rec, "record names writer " + std::to_string(h.writer) + ", only " + std::to_string(c_.writers) + " write");
      return;
    }
    // Records torn by an allowed interleaving are gone in a positive control: no order check.
    if (!positive_control(c_) && !order_.accept(h.writer, h.seq, &why_)) bad(rec, why_);
  }

  void bad(unsigned char const* rec, std::string const& why) {
    std::ostringstream o;
    o << "record at stream offset " << here(rec) << " (" << c_.size << "-byte records): " << why;
    stress::violation(m_, o.str());
  }

  static std::string hex(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "%02x", v);
    return b;
  }

 public:
  unsigned char const* base_ = nullptr;  // start of the buffer being fed (for offsets)

 private:
  RunConfig const& c_;
  stress::Metrics& m_;
  stress::OrderChecker order_;
  std::vector<uint64_t> small_next_;
  std::string why_;
  bool resync_ = false;
  uint64_t offset_ = 0;
};

// What each of several readers reports to the parent (fx::Shared memory).
struct ReaderReport {
  uint64_t records, bytes, violations;
  uint64_t count[kMaxWriters], sum[kMaxWriters], sumsq[kMaxWriters];
  int done;
};
struct ReaderReports {
  ReaderReport r[kMaxReaders];
};

// One of several readers: one record per read, see the head of this file.
int multi_reader(int fd, RunConfig const& c, unsigned id, ReaderReport& out, Clock::time_point give_up) {
  stress::Metrics m;
  m.mechanism = c.mechanism;
  m.variant = c.variant + "/reader-" + std::to_string(id);
  std::vector<unsigned char> rec(c.size);
  std::vector<int64_t> last(c.writers, -1);
  std::string why;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int pr = ::poll(&p, 1, 200);
    if (pr == 0) {
      if (Clock::now() > give_up) {
        stress::violation(m, "reader " + std::to_string(id) + ": no end of file before the deadline (hung?)");
        break;
      }
      continue;
    }
    ssize_t n = ::read(fd, rec.data(), c.size);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      std::fprintf(stderr, "reader %u: read: %s\n", id, std::strerror(errno));
      return 2;
    }
    if (n == 0) break;
    out.bytes += static_cast<uint64_t>(n);
    if (c.raw) continue;
    ++out.records;
    if (static_cast<size_t>(n) != c.size) {
      stress::violation(m, "reader " + std::to_string(id) + ": read of " + std::to_string(c.size) + " bytes returned " +
                               std::to_string(n) + " while every write is one whole record: a partial record was in the pipe");
      continue;
    }
    if (!stress::check_record(rec.data(), c.size, &why)) {
      stress::violation(m, "reader " + std::to_string(id) + " read " + std::to_string(n) + " bytes: " + why);
      continue;
    }
    stress::RecordHeader h;
    std::memcpy(&h, rec.data(), kHeader);
    if (h.writer >= c.writers) {
      stress::violation(m, "reader " + std::to_string(id) + ": record names writer " + std::to_string(h.writer));
      continue;
    }
    if (static_cast<int64_t>(h.seq) <= last[h.writer]) {
      stress::violation(m, "reader " + std::to_string(id) + ": writer " + std::to_string(h.writer) + " seq " +
                               std::to_string(h.seq) + " after seq " + std::to_string(last[h.writer]) +
                               " on the same reader (duplicated or reordered)");
    }
    last[h.writer] = static_cast<int64_t>(h.seq);
    ++out.count[h.writer];
    out.sum[h.writer] += h.seq;
    out.sumsq[h.writer] += h.seq * h.seq;
  }
  out.violations = m.violations;
  out.done = 1;
  return m.violations ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// One configuration

struct Outcome {
  stress::Metrics m;
  bool setup_error = false, unsupported = false;
};

// The single reader's loop, shared by the pipe and FIFO variants. Reads until end of file.
void single_reader(int fd, RunConfig const& c, stress::Metrics& m, StreamChecker& chk, Clock::time_point give_up,
                   uint64_t& leftover) {
  std::vector<unsigned char> buf(1 << 18);
  size_t have = 0;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int pr = ::poll(&p, 1, 200);
    if (pr == 0) {
      if (Clock::now() > give_up) {
        stress::violation(m, "reader: no end of file before the deadline (hung writer or kernel)");
        break;
      }
      continue;
    }
    ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw std::runtime_error(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    m.bytes += static_cast<uint64_t>(n);
    if (c.raw) continue;
    have += static_cast<size_t>(n);
    chk.base_ = buf.data();
    size_t used = chk.feed(buf.data(), have);
    chk.add_offset(used);
    std::memmove(buf.data(), buf.data() + used, have - used);
    have -= used;
  }
  leftover = have;
  if (c.raw) m.records = m.bytes / c.size;
}

std::string describe(RunConfig const& c) {
  std::ostringstream o;
  o << c.variant << (c.nonblock ? "-nonblock" : "") << (c.one_page ? "-one-page" : "")
    << (c.readers > 1 ? "-" + std::to_string(c.readers) + "-readers" : "") << (positive_control(c) ? "-positive-control" : "");
  return o.str();
}

void check_totals(RunConfig const& c, stress::Metrics& m, std::vector<uint64_t> const& sent) {
  if (!positive_control(c) || c.raw) return;
  uint64_t want = 0;
  for (auto s : sent) {
    if (s == kUnknown) return;
    want += s * c.size;
  }
  if (m.bytes != want) {
    stress::violation(m, "the reader got " + std::to_string(m.bytes) + " bytes, the writers wrote " + std::to_string(want));
  }
}

Outcome run_anon(RunConfig const& c) {
  Outcome out;
  stress::Metrics& m = out.m;
  m.mechanism = c.mechanism;
  m.variant = describe(c);
  m.processes = c.writers + c.readers;
  m.record_size = c.size;
  m.verified = !c.raw;

  fx::Pipe p = fx::make_pipe(O_CLOEXEC);
  if (c.one_page) {
    long page = ::sysconf(_SC_PAGESIZE);
    // fcntl(2) Changing the capacity of a pipe: Linux 2.6.35+, rounds up to a page.
    if (::fcntl(p.w.get(), F_SETPIPE_SZ, static_cast<int>(page)) < 0 || ::fcntl(p.w.get(), F_GETPIPE_SZ) != page) {
      std::printf("IPCSUITE-UNSUPPORTED: F_SETPIPE_SZ to one page (%ld bytes): %s\n", page, std::strerror(errno));
      out.unsupported = true;
      return out;
    }
  }
  if (c.nonblock) fx::set_nonblock(p.w.get());

  struct Results {
    WriterResult w[kMaxWriters];
  };
  fx::Shared<Results> results;
  fx::Shared<ReaderReports> reports;
  // The start gate: writers block reading it until the parent closes its write end, so all
  // start together and the clock starts when they do.
  fx::Pipe gate = fx::make_pipe(O_CLOEXEC);

  std::vector<fx::Child> readers, writers;
  auto give_up = Clock::now() + kSlack + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.seconds * 2));
  if (c.readers > 1) {
    for (unsigned r = 0; r < c.readers; ++r) {
      readers.push_back(fx::Child::fork([&, r]() -> int {
        p.w.reset();
        gate.w.reset();
        return multi_reader(p.r.get(), c, r, reports->r[r], give_up);
      }));
    }
    p.r.reset();
  }
  for (unsigned w = 0; w < c.writers; ++w) {
    writers.push_back(fx::Child::fork([&, w]() -> int {
      ::signal(SIGPIPE, SIG_IGN);
      p.r.reset();
      gate.w.reset();
      char x;
      while (::read(gate.r.get(), &x, 1) < 0 && errno == EINTR) {
      }
      WriterConfig wc;
      wc.fd = p.w.get();
      wc.id = w;
      wc.size = c.size;
      wc.max_records = c.records;
      wc.seconds = c.seconds;
      wc.nonblock = c.nonblock;
      wc.fault = c.fault && w == 0;
      results->w[w] = run_writer(wc);
      return results->w[w].error ? 3 : results->w[w].violations ? 1 : 0;
    }));
  }
  p.w.reset();
  gate.r.reset();
  auto start = Clock::now();
  gate.w.reset();

  StreamChecker chk(c, m);
  uint64_t leftover = 0;
  if (c.readers == 1) single_reader(p.r.get(), c, m, chk, give_up, leftover);

  std::vector<uint64_t> sent(c.writers);
  for (unsigned w = 0; w < c.writers; ++w) {
    fx::WaitStatus st = writers[w].wait(fx::Deadline(std::chrono::seconds(10)));
    sent[w] = results->w[w].sent;
    m.violations += results->w[w].violations;  // already printed by the writer
    if (!st.exited() || (st.exit_code() != 0 && st.exit_code() != 1)) {
      stress::violation(m, "writer " + std::to_string(w) + " " + st.describe() +
                               (results->w[w].error ? std::string(": ") + std::strerror(results->w[w].error) : "") +
                               " (its records are not counted)");
      sent[w] = kUnknown;
    }
  }
  for (unsigned r = 0; r < readers.size(); ++r) {
    fx::WaitStatus st = readers[r].wait(fx::Deadline(std::chrono::seconds(10)));
    if (!st.exited() || st.exit_code() > 1 || !reports->r[r].done)
      stress::violation(m, "reader " + std::to_string(r) + " " + st.describe());
  }
  m.seconds = since(start);

  if (c.readers == 1) {
    if (!c.raw) chk.finish(sent, leftover);
  } else {
    for (unsigned r = 0; r < c.readers; ++r) {
      m.bytes += reports->r[r].bytes;
      m.records += reports->r[r].records;
      m.violations += reports->r[r].violations;
    }
    if (c.raw) m.records = m.bytes / c.size;
    for (unsigned w = 0; w < c.writers && !c.raw; ++w) {
      if (sent[w] == kUnknown) continue;
      uint64_t n = sent[w], cnt = 0, sum = 0, sumsq = 0;
      for (unsigned r = 0; r < c.readers; ++r) {
        cnt += reports->r[r].count[w];
        sum += reports->r[r].sum[w];
        sumsq += reports->r[r].sumsq[w];
      }
      // 0 + 1 + ... + (n-1) and the sum of their squares, modulo 2^64 like the readers' sums.
      unsigned __int128 N = n;
      uint64_t want_sum = n ? static_cast<uint64_t>(N * (N - 1) / 2) : 0;
      uint64_t want_sq = n ? static_cast<uint64_t>((N - 1) * N * (2 * N - 1) / 6) : 0;
      if (cnt != n || sum != want_sum || sumsq != want_sq) {
        stress::violation(m, "writer " + std::to_string(w) + ": the readers together saw " + std::to_string(cnt) +
                                 " records of the " + std::to_string(n) + " written, or not each of seq 0.." +
                                 std::to_string(n ? n - 1 : 0) + " exactly once (loss or duplication)");
      }
    }
  }
  check_totals(c, m, sent);
  return out;
}

Outcome run_fifo(RunConfig const& c, std::string const& self) {
  Outcome out;
  stress::Metrics& m = out.m;
  m.mechanism = c.mechanism;
  m.variant = describe(c);
  m.processes = c.writers + 1;
  m.record_size = c.size;
  m.verified = !c.raw;

  fx::TempDir dir;
  std::string path = dir / "fifo";
  fx::make_fifo(path);
  // fifo(7): O_RDONLY|O_NONBLOCK opens at once. The reader also holds a write end until
  // every writer has exited, so that it never sees end of file before the last writer
  // has even opened the FIFO.
  fx::Fd r(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!r) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
  fx::Fd hold(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!hold) throw std::runtime_error("open " + path + " for writing: " + std::strerror(errno));
  fx::set_nonblock(r.get(), false);
  if (c.one_page && ::fcntl(hold.get(), F_SETPIPE_SZ, static_cast<int>(::sysconf(_SC_PAGESIZE))) < 0) {
    std::printf("IPCSUITE-UNSUPPORTED: F_SETPIPE_SZ to one page: %s\n", std::strerror(errno));
    out.unsupported = true;
    return out;
  }

  auto start = Clock::now();
  std::vector<fx::Program> writers;
  for (unsigned w = 0; w < c.writers; ++w) {
    std::vector<std::string> args{"--role", "fifo-writer", "--fifo", path, "--writer-id", std::to_string(w),
                                  "--size", std::to_string(c.size), "--seconds", std::to_string(c.seconds),
                                  "--records", std::to_string(c.records), "--nonblock", c.nonblock ? "1" : "0",
                                  "--inject-fault", (c.fault && w == 0) ? "split" : "none"};
    writers.push_back(fx::Program::start(self, args));
  }
  auto give_up = Clock::now() + kSlack + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.seconds * 2));

  // A thread waits for the writers (their results come on their standard output), then
  // drops the reader's own write end: the reader then sees end of file once drained.
  std::vector<uint64_t> sent(c.writers), partial(c.writers);
  std::vector<std::string> writer_trouble;
  std::thread waiter([&] {
    for (unsigned w = 0; w < c.writers; ++w) {
      auto res = writers[w].wait(fx::Deadline(std::chrono::duration_cast<Clock::duration>(give_up - Clock::now())));
      unsigned long long s = 0, v = 0;
      if (std::sscanf(res.out.c_str(), "sent %llu violations %llu", &s, &v) != 2 || !res.status.exited() ||
          res.status.exit_code() > 1) {
        writer_trouble.push_back("writer " + std::to_string(w) + " " + res.status.describe() + ", said: \"" + res.out +
                                 "\" (its records are not counted)");
        s = kUnknown;
      }
      sent[w] = s;
      partial[w] = v;  // printed by the writer on its stderr
    }
    hold.reset();
  });
  StreamChecker chk(c, m);
  uint64_t leftover = 0;
  try {
    single_reader(r.get(), c, m, chk, give_up, leftover);
  } catch (...) {
    hold.reset();
    waiter.join();
    throw;
  }
  waiter.join();
  m.seconds = since(start);
  for (auto const& t : writer_trouble) stress::violation(m, t);
  for (auto v : partial) m.violations += v;
  if (!c.raw) chk.finish(sent, leftover);
  check_totals(c, m, sent);
  return out;
}

// Writer mode of this program for the FIFO variant: an unrelated process.
int fifo_writer_main(stress::Options const& o) {
  ::signal(SIGPIPE, SIG_IGN);
  auto get = [&](char const* k) {
    auto it = o.extra.find(k);
    if (it == o.extra.end()) usage_error(std::string("fifo-writer needs --") + k);
    return it->second;
  };
  std::string path = get("fifo");
  WriterConfig wc;
  wc.id = static_cast<uint32_t>(std::stoul(get("writer-id")));
  wc.size = o.size;
  wc.max_records = o.records;
  wc.seconds = o.seconds;
  wc.nonblock = o.extra.count("nonblock") && o.extra.at("nonblock") == "1";
  wc.fault = o.extra.count("inject-fault") && o.extra.at("inject-fault") != "none";
  // The reader already has the FIFO open, so this open does not block (fifo(7)).
  int fd = ::open(path.c_str(), O_WRONLY | (wc.nonblock ? O_NONBLOCK : 0));
  if (fd < 0) {
    std::fprintf(stderr, "fifo-writer %u: open %s: %s\n", wc.id, path.c_str(), std::strerror(errno));
    return 2;
  }
  wc.fd = fd;
  WriterResult r = run_writer(wc);
  ::close(fd);
  std::printf("sent %llu violations %llu\n", (unsigned long long)r.sent, (unsigned long long)r.violations);
  if (r.error) {
    std::fprintf(stderr, "fifo-writer %u: write: %s\n", wc.id, std::strerror(r.error));
    return 3;
  }
  return r.violations ? 1 : 0;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) usage_error("cannot read /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

Outcome run(RunConfig const& c) { return c.variant == "fifo" ? run_fifo(c, self_exe()) : run_anon(c); }

void validate(RunConfig const& c) {
  if (c.writers < 1 || c.writers > kMaxWriters) usage_error("--writers must be 1.." + std::to_string(kMaxWriters));
  if (c.readers < 1 || c.readers > kMaxReaders) usage_error("--readers must be 1.." + std::to_string(kMaxReaders));
  if (c.size < 1 || c.size > (1u << 20)) usage_error("--size must be 1..1048576");
  if (c.size < kHeader && c.writers > kMaxSmallWriters)
    usage_error("records shorter than " + std::to_string(kHeader) + " bytes carry 6 bits of writer id: at most 64 writers");
  if (c.readers > 1 && (c.size < kHeader || positive_control(c) || c.variant != "anon"))
    usage_error("several readers need an anonymous pipe and records of " + std::to_string(kHeader) + "..PIPE_BUF bytes");
  if (c.variant != "anon" && c.variant != "fifo") usage_error("--variant is anon or fifo");
  if (c.seconds <= 0 && c.records == 0) usage_error("give --seconds or --records");
  if (c.fault && c.records && c.records < kFaultSeq + 2) usage_error("--inject-fault needs --records >= 5");
}

int report(Outcome const& o, RunConfig const& c) {
  stress::Metrics m = o.m;
  if (positive_control(c) && !c.raw) {
    if (m.interleavings == 0) {
      m.warning = "positive control saw no interleaving: the interleaving detector was not exercised";
      std::fprintf(stderr, "WARNING: positive control saw no interleaving (%" PRIu64 " records of %zu bytes > PIPE_BUF)\n",
                   m.records, c.size);
      // Not a pass: ctest reports the test as skipped (SKIP_REGULAR_EXPRESSION).
      std::printf("IPCSUITE-SKIP: positive control saw no interleaving; the detector was not exercised\n");
    } else {
      std::fprintf(stderr, "positive control: %" PRIu64 " of %" PRIu64 " records torn by interleaving (allowed above PIPE_BUF)\n",
                   m.interleavings, m.records);
    }
  }
  stress::print_json(m);
  return m.violations ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// Benchmark: verified against raw for writers x sizes.

// Each configuration runs verified and raw alternately, kRepeats times each, and the table
// shows the medians: on a shared machine a single pair of runs says more about the
// neighbours than about the checker.
int bench(RunConfig base) {
  constexpr int kRepeats = 3;
  unsigned const writers[] = {1, 2, 4, 8, 16, 64};
  size_t const sizes[] = {1, 512, 4096};
  struct Row {
    unsigned w;
    size_t s;
    double verified, raw;
  };
  std::vector<Row> rows;
  int rc = 0;
  auto mbps = [](stress::Metrics const& m) { return m.seconds > 0 ? m.bytes / m.seconds / 1e6 : 0.0; };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  for (size_t s : sizes) {
    for (unsigned w : writers) {
      std::vector<double> verified, raw;
      for (int i = 0; i < kRepeats; ++i) {
        RunConfig c = base;
        c.writers = w;
        c.size = s;
        c.readers = 1;
        c.raw = false;
        Outcome v = run(c);
        stress::print_json(v.m);
        if (v.m.violations) rc = 1;
        verified.push_back(mbps(v.m));
        c.raw = true;
        Outcome r = run(c);
        stress::print_json(r.m);
        raw.push_back(mbps(r.m));
      }
      rows.push_back({w, s, median(verified), median(raw)});
    }
  }
  std::fprintf(stderr, "\n%s: median of %d runs of %.2f s each\n", base.variant.c_str(), kRepeats, base.seconds);
  std::fprintf(stderr, "%-8s %-8s %14s %14s %8s\n", "writers", "size", "verified MB/s", "raw MB/s", "ratio");
  for (auto const& r : rows)
    std::fprintf(stderr, "%-8u %-8zu %14.2f %14.2f %7.0f%%\n", r.w, r.s, r.verified, r.raw,
                 r.raw > 0 ? 100.0 * r.verified / r.raw : 0.0);
  return rc;
}

}  // namespace

int main(int argc, char** argv) try {
  // --bench is a bare flag; stress::parse takes --key value pairs.
  bool bench_mode = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--bench") == 0) bench_mode = true;
    else args.push_back(argv[i]);
  }
  argc = static_cast<int>(args.size());
  argv = args.data();
  stress::Options d;
  d.seconds = 1.0;
  d.writers = 2;
  d.size = PIPE_BUF;
  d.variant = "anon";
  stress::Options o = stress::parse(argc, argv, d);
  if (o.extra.count("role")) {
    if (o.extra.at("role") != "fifo-writer") usage_error("unknown --role");
    return fifo_writer_main(o);
  }
  auto flag = [&](char const* k) { return o.extra.count(k) && o.extra.at(k) != "0" && o.extra.at(k) != "none"; };
  RunConfig c;
  c.mechanism = o.variant == "fifo" ? "fifo" : "pipe";
  c.variant = o.variant;
  c.writers = o.writers;
  c.readers = o.readers;
  c.size = o.size;
  c.records = o.records;
  // --records alone runs by count; otherwise by time (default, --seconds or the environment).
  c.seconds = (o.records && !std::getenv("IPCSUITE_STRESS_SECONDS") && o.seconds == d.seconds) ? 0 : o.seconds;
  c.nonblock = flag("nonblock");
  c.one_page = flag("one-page");
  c.raw = o.raw;
  c.fault = flag("inject-fault");
  if (bench_mode) {
    c.seconds = o.seconds == d.seconds ? 0.3 : o.seconds;
    c.records = 0;
    return bench(c);
  }
  validate(c);
  Outcome out = run(c);
  if (out.unsupported) return 0;
  return report(out, c);
} catch (std::exception const& e) {
  std::fprintf(stderr, "ipcsuite-stress-pipe: set-up error: %s\n", e.what());
  return 2;
}
