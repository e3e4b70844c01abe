#include "stress.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

namespace stress {
namespace {

// A payload byte depends on writer, seq and offset, so bytes of two records never agree by
// accident over a run of more than a few bytes.
inline unsigned char payload_byte(uint32_t writer, uint64_t seq, size_t off) {
  uint64_t x = (static_cast<uint64_t>(writer) << 40) ^ (seq * 0x9E3779B97F4A7C15ull) ^ (off * 0xBF58476D1CE4E5B9ull);
  x ^= x >> 29;
  return static_cast<unsigned char>(x ^ (x >> 8));
}

uint32_t checksum(unsigned char const* p, size_t n) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

}  // namespace

void make_record(unsigned char* buf, size_t len, uint32_t writer, uint64_t seq) {
  for (size_t i = kHeader; i < len; ++i) buf[i] = payload_byte(writer, seq, i);
  RecordHeader h{kMagic, writer, seq, static_cast<uint32_t>(len), checksum(buf + kHeader, len - kHeader)};
  std::memcpy(buf, &h, kHeader);
}

bool check_record(unsigned char const* buf, size_t len, std::string* why) {
  RecordHeader h;
  std::memcpy(&h, buf, kHeader);
  std::ostringstream o;
  if (h.magic != kMagic) {
    o << "bad magic 0x" << std::hex << h.magic;
    *why = o.str();
    return false;
  }
  if (h.len != len) {
    o << "writer " << h.writer << " seq " << h.seq << ": header says " << h.len << " bytes, record slot is " << len;
    *why = o.str();
    return false;
  }
  for (size_t i = kHeader; i < len; ++i) {
    if (buf[i] != payload_byte(h.writer, h.seq, i)) {
      o << "writer " << h.writer << " seq " << h.seq << ": byte at offset " << i << " is 0x" << std::hex
        << int(buf[i]) << ", expected 0x" << int(payload_byte(h.writer, h.seq, i));
      *why = o.str();
      return false;
    }
  }
  if (checksum(buf + kHeader, len - kHeader) != h.sum) {
    o << "writer " << h.writer << " seq " << h.seq << ": checksum mismatch";
    *why = o.str();
    return false;
  }
  return true;
}

unsigned char small_byte(uint32_t writer, uint64_t seq) { return payload_byte(writer, seq, 0); }

bool OrderChecker::accept(uint32_t writer, uint64_t seq, std::string* why) {
  uint64_t& next = next_[writer];
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
    auto it = next_.find(w);
    uint64_t got = it == next_.end() ? 0 : it->second;
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
      "\"interleavings\": %llu, \"verified\": %s}\n",
      m.mechanism.c_str(), m.variant.c_str(), m.processes, m.record_size, (unsigned long long)m.records,
      (unsigned long long)m.bytes, m.seconds, rps, mbps, (unsigned long long)m.violations,
      (unsigned long long)m.interleavings, m.verified ? "true" : "false");
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
  if (m.violations <= 20) std::cerr << "VIOLATION " << m.mechanism << "/" << m.variant << ": " << what << "\n";
  if (m.violations == 20) std::cerr << "(further violations counted, not printed)\n";
}

}  // namespace stress
