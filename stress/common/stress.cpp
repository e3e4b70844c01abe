#include "stress.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace stress {
namespace {

// The payload is a sequence of 64-bit words, each a function of (writer, seq, word index):
// a per-record base (a bijective mix of writer and seq) XORed with a per-index constant.
// Two different records therefore differ in every word, so bytes of two records never agree
// over a run of more than a few bytes, and a record is generated and checked a word at a
// time (a few cycles per 8 bytes, no per-byte call), cheap enough for the reader to keep up
// with the writers (see the pipe benchmark).
inline uint64_t record_base(uint32_t writer, uint64_t seq) {
  uint64_t x = (static_cast<uint64_t>(writer) << 40) ^ (seq * 0x9E3779B97F4A7C15ull) ^ 0x2545F4914F6CDD1Dull;
  x ^= x >> 30;  // splitmix64 finaliser: a bijection
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t payload_word(uint64_t base, size_t index) { return base ^ (index * 0xD6E8FEB86659FD93ull); }

// Byte `off` of a record (offsets count from the start of the record, header included).
inline unsigned char payload_byte(uint64_t base, size_t off) {
  uint64_t w = payload_word(base, off >> 3);
  unsigned char b[8];
  std::memcpy(b, &w, 8);
  return b[off & 7];
}

inline uint32_t fold(uint64_t s) { return static_cast<uint32_t>(s ^ (s >> 32)); }

// Checksum of a payload: the sum of its 64-bit words (the tail zero-padded), folded to 32
// bits. Cheap; its job is to catch a header that lies, while the payload itself is compared
// with what make_record writes.
uint32_t checksum(unsigned char const* p, size_t n) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    s += w;
  }
  if (i < n) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, n - i);
    s += w;
  }
  return fold(s);
}

}  // namespace

static_assert(kHeader % 8 == 0, "the payload starts on a word boundary of the record");

void make_record(unsigned char* buf, size_t len, uint32_t writer, uint64_t seq) {
  uint64_t base = record_base(writer, seq);
  size_t i = kHeader;
  for (; i + 8 <= len; i += 8) {
    uint64_t w = payload_word(base, i >> 3);
    std::memcpy(buf + i, &w, 8);
  }
  for (; i < len; ++i) buf[i] = payload_byte(base, i);
  RecordHeader h{kMagic, writer, seq, static_cast<uint32_t>(len), checksum(buf + kHeader, len - kHeader)};
  std::memcpy(buf, &h, kHeader);
}

bool check_record(unsigned char const* buf, size_t len, std::string* why) {
  RecordHeader h;
  if (len < kHeader) {
    *why = "record slot of " + std::to_string(len) + " bytes is shorter than a header";
    return false;
  }
  std::memcpy(&h, buf, kHeader);
  if (h.magic != kMagic) {
    std::ostringstream o;
    o << "bad magic 0x" << std::hex << h.magic << " (header bytes are not the start of a record)";
    *why = o.str();
    return false;
  }
  if (h.len != len) {
    std::ostringstream o;
    o << "writer " << h.writer << " seq " << h.seq << ": header says " << h.len << " bytes, record slot is " << len;
    *why = o.str();
    return false;
  }
  // Fast path: one pass over the payload a word at a time, no branch per word.
  uint64_t base = record_base(h.writer, h.seq);
  uint64_t diff = 0, sum = 0;
  size_t i = kHeader;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, buf + i, 8);
    diff |= w ^ payload_word(base, i >> 3);
    sum += w;
  }
  if (i < len) {
    uint64_t w = 0, e = 0;
    std::memcpy(&w, buf + i, len - i);
    for (size_t j = i; j < len; ++j) reinterpret_cast<unsigned char*>(&e)[j - i] = payload_byte(base, j);
    diff |= w ^ e;
    sum += w;
  }
  if (diff != 0) {
    // Slow path, only on failure: the first byte that differs.
    for (size_t j = kHeader; j < len; ++j) {
      if (buf[j] != payload_byte(base, j)) {
        std::ostringstream o;
        o << "writer " << h.writer << " seq " << h.seq << ": byte at offset " << j << " of " << len << " is 0x"
          << std::hex << int(buf[j]) << ", expected 0x" << int(payload_byte(base, j));
        *why = o.str();
        return false;
      }
    }
  }
  if (fold(sum) != h.sum) {
    std::ostringstream o;
    o << "writer " << h.writer << " seq " << h.seq << ": checksum mismatch (header 0x" << std::hex << h.sum
      << ", payload 0x" << fold(sum) << ")";
    *why = o.str();
    return false;
  }
  return true;
}

unsigned char small_byte(uint32_t writer, uint64_t seq) { return payload_byte(record_base(writer, seq), 0); }

uint64_t& OrderChecker::slot(uint32_t writer) {
  if (writer < kDense) {
    if (writer >= dense_.size()) dense_.resize(writer + 1, 0);
    return dense_[writer];
  }
  return next_[writer];
}

uint64_t OrderChecker::next(uint32_t writer) const {
  if (writer < kDense) return writer < dense_.size() ? dense_[writer] : 0;
  auto it = next_.find(writer);
  return it == next_.end() ? 0 : it->second;
}

bool OrderChecker::accept(uint32_t writer, uint64_t seq, std::string* why) {
  uint64_t& next = slot(writer);
  ++total_;
  if (seq == next) {
    ++next;
    return true;
  }
  std::ostringstream o;
  o << "writer " << writer << ": got seq " << seq << ", expected " << next
    << (seq < next ? " (duplicate or reordered)" : " (lost or reordered)");
  *why = o.str();
  if (seq > next) next = seq + 1;
  return false;
}

bool OrderChecker::complete(uint32_t writers, uint64_t expected, std::string* why) const {
  std::ostringstream o;
  for (uint32_t w = 0; w < writers; ++w) {
    uint64_t got = next(w);
    if (got != expected) o << "writer " << w << ": " << got << " of " << expected << " records arrived; ";
  }
  *why = o.str();
  return why->empty();
}

void print_json(Metrics const& m) {
  double rps = m.seconds > 0 ? m.records / m.seconds : 0;
  double mbps = m.seconds > 0 ? m.bytes / m.seconds / 1e6 : 0;
  std::printf(
      "{\"mechanism\": \"%s\", \"variant\": \"%s\", \"processes\": %u, \"record_size\": %zu, \"records\": %llu, "
      "\"bytes\": %llu, \"seconds\": %.6f, \"records_per_s\": %.1f, \"mb_per_s\": %.3f, \"violations\": %llu, "
      "\"interleavings\": %llu, \"verified\": %s",
      m.mechanism.c_str(), m.variant.c_str(), m.processes, m.record_size, (unsigned long long)m.records,
      (unsigned long long)m.bytes, m.seconds, rps, mbps, (unsigned long long)m.violations,
      (unsigned long long)m.interleavings, m.verified ? "true" : "false");
  // The warning (free text without quotes or backslashes) only when there is one, so lines of
  // runs without one keep their shape.
  if (!m.warning.empty()) std::printf(", \"warning\": \"%s\"", m.warning.c_str());
  std::printf("}\n");
  std::fflush(stdout);
}

Options parse(int argc, char** argv, Options o) {
  if (char const* s = std::getenv("IPCSUITE_STRESS_SECONDS"); s && *s) o.seconds = std::atof(s);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") o.seconds = std::atof(val().c_str());
    else if (a == "--records") o.records = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--writers") o.writers = std::atoi(val().c_str());
    else if (a == "--readers") o.readers = std::atoi(val().c_str());
    else if (a == "--size") o.size = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--variant") o.variant = val();
    else if (a == "--raw") o.raw = true;
    else if (a.rfind("--", 0) == 0) o.extra[a.substr(2)] = val();
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

void violation(Metrics& m, std::string const& what) {
  ++m.violations;
  // One write per line: several processes of one run may report at once on one stderr.
  std::string line;
  if (m.violations <= 20) line = "VIOLATION " + m.mechanism + "/" + m.variant + ": " + what + "\n";
  if (m.violations == 20) line += "(further violations counted, not printed)\n";
  if (!line.empty()) (void)!::write(2, line.data(), line.size());
}

}  // namespace stress
