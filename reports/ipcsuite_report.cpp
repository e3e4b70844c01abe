// ipcsuite-report: turns ctest's JUnit output and the behaviour metadata that every test
// binary dumps (<build>/**/*.behaviours.json) into a conformance report for one run.
//
//   ipcsuite-report --junit results.xml --behaviours <build dir> [--out <dir>] [--target NAME]
//                   [--expect reports/expectations/<target>.json]
//
// Prints a summary per mechanism and every behaviour that did not hold; with --out, also
// writes report.md and report.json there. With --expect it is also the CI gate: a failure
// listed there counts as an expected failure (xfail); the exit status is 1 on any failure
// not listed, on any listed expectation that did not happen (a stale entry: the behaviour
// now passes, or fails where a skip was expected), and on any test that did not run at all.
// The gate's verdict is written to gate.md (for a CI job page) and is the last line printed.
#include <pugixml.hpp>

#include <nlohmann/json.hpp>

#include <sys/utsname.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct Behaviour {
  std::string id, mechanism, statement, source, file, scope;
  int line = 0;
};

struct Result {
  std::string id, outcome, reason, output;
  double seconds = 0;
};

struct Expectation {
  std::string outcome, reason, evidence;  // outcome: fail | unsupported | skip
};

std::map<std::string, Expectation> load_expectations(fs::path const& file) {
  std::map<std::string, Expectation> out;
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open " + file.string());
  json doc = json::parse(in);
  for (auto const& e : doc.at("expectations")) {
    Expectation x{e.at("outcome"), e.at("reason"), e.value("evidence", "")};
    if (x.outcome != "fail" && x.outcome != "unsupported" && x.outcome != "skip")
      throw std::runtime_error(file.string() + ": outcome of " + std::string(e.at("id")) +
                               " must be fail, unsupported or skip");
    if (x.reason.empty() || x.evidence.empty())
      throw std::runtime_error(file.string() + ": " + std::string(e.at("id")) + " needs a reason and evidence");
    out[e.at("id")] = x;
  }
  return out;
}

// The outcome a test had, in the words of the expectation files.
std::string as_expected_word(std::string const& outcome) {
  if (outcome == "failed") return "fail";
  if (outcome == "skipped") return "skip";
  return outcome;
}

std::string marker_reason(std::string const& out, std::string const& marker) {
  auto p = out.find(marker);
  if (p == std::string::npos) return {};
  auto e = out.find('\n', p);
  return out.substr(p + marker.size(), e == std::string::npos ? std::string::npos : e - p - marker.size());
}

// ctest -S (dashboard mode) stores each test's output zlib-compressed and base64-encoded in
// the JUnit file; plain ctest stores it as text. Returns the text either way.
std::string test_output(std::string const& raw) {
  if (raw.empty() || raw.size() % 4 != 0) return raw;
  static const std::string kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bin;
  unsigned val = 0;
  int bits = -8;
  for (char c : raw) {
    if (c == '=') break;
    auto p = kB64.find(c);
    if (p == std::string::npos) return raw;  // not base64: plain text
    val = (val << 6) | static_cast<unsigned>(p);
    bits += 6;
    if (bits >= 0) {
      bin.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return raw;
  zs.next_in = reinterpret_cast<Bytef*>(bin.data());
  zs.avail_in = static_cast<uInt>(bin.size());
  std::string out;
  char buf[65536];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : raw;
}

// The first failure Catch2 printed: from the "FAILED:" line to the next blank line.
std::string first_failure(std::string const& out) {
  auto p = out.find("FAILED:");
  if (p == std::string::npos) p = out.find("Timeout");
  if (p == std::string::npos) return {};
  auto s = out.rfind('\n', p);
  s = s == std::string::npos ? 0 : s + 1;
  auto e = out.find("\n\n", p);
  std::string f = out.substr(s, e == std::string::npos ? std::string::npos : e - s);
  return f.size() > 2000 ? f.substr(0, 2000) + "..." : f;
}

std::map<std::string, Behaviour> load_behaviours(fs::path const& dir) {
  std::map<std::string, Behaviour> out;
  for (auto const& e : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied)) {
    auto name = e.path().filename().string();
    if (!e.is_regular_file() || name.size() < 16 || name.substr(name.size() - 16) != ".behaviours.json") continue;
    std::ifstream in(e.path());
    json doc = json::parse(in);
    for (auto const& b : doc) {
      Behaviour x;
      x.id = b.at("id");
      x.mechanism = b.at("mechanism");
      x.statement = b.at("statement");
      x.source = b.at("source");
      x.file = b.at("file");
      x.line = b.at("line");
      for (auto const& t : b.at("tags"))
        if (t == "posix" || t == "linux-specific") x.scope = t;
      out[x.id] = x;
    }
  }
  return out;
}

std::vector<Result> load_junit(fs::path const& file) {
  pugi::xml_document doc;
  auto ok = doc.load_file(file.c_str());
  if (!ok) throw std::runtime_error("cannot parse " + file.string() + ": " + ok.description());
  std::vector<Result> out;
  for (auto tc : doc.select_nodes("//testcase")) {
    auto n = tc.node();
    Result r;
    r.id = n.attribute("name").value();
    r.seconds = n.attribute("time").as_double();
    r.output = test_output(n.child("system-out").text().get());
    std::string status = n.attribute("status").value();
    if (status == "run") {
      r.outcome = "passed";
    } else if (status == "fail") {
      r.outcome = "failed";
      r.reason = first_failure(r.output);
      if (r.reason.empty()) r.reason = n.child("failure").attribute("message").value();
    } else {
      std::string why = n.child("skipped").attribute("message").value();
      if (auto s = marker_reason(r.output, "IPCSUITE-UNSUPPORTED: "); !s.empty()) {
        r.outcome = "unsupported";
        r.reason = s;
      } else if (auto s2 = marker_reason(r.output, "IPCSUITE-SKIP: "); !s2.empty()) {
        r.outcome = "skipped";
        r.reason = s2;
      } else {
        // Not run for another reason (missing binary, disabled): never counted as passed.
        r.outcome = "not-run";
        r.reason = why.empty() ? status : why;
      }
    }
    out.push_back(r);
  }
  return out;
}

std::string md_escape(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += " ";
    else o += c;
  }
  return o;
}

std::string html_escape(std::string const& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Self-contained page: inline style, no script, no external asset.
char const* kStyle = R"(<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:90em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}code,pre{font-family:ui-monospace,monospace;font-size:90%}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.passed{background:#e6f4e6}.failed{background:#fbdada}.xfail{background:#fdf0d0}.skipped,.unsupported,.not-run{background:#eceff4}
.missing{background:#fff}.diff td:first-child{font-weight:bold}
</style>)";

void write_html(fs::path const& file, json const& report, std::vector<std::string> const& outcomes) {
  std::ofstream h(file);
  std::string target = report.at("target");
  h << "<!doctype html><html lang=en><head><meta charset=utf-8><title>IPC conformance: " << html_escape(target)
    << "</title>" << kStyle << "</head><body>\n<h1>IPC conformance report: " << html_escape(target) << "</h1>\n<p>Kernel: <code>"
    << html_escape(report.at("kernel")) << "</code>. Tests: " << report.at("results").size() << ".</p>\n";
  if (report.contains("gate")) h << "<p><strong>" << html_escape(report["gate"]) << "</strong></p>\n";
  h << "<table><tr><th>mechanism</th>";
  for (auto const& o : outcomes) h << "<th>" << o << "</th>";
  h << "</tr>\n";
  for (auto const& [m, c] : report.at("by_mechanism").items()) {
    h << "<tr><td>" << html_escape(m) << "</td>";
    for (auto const& o : outcomes) h << "<td class=n>" << c.value(o, 0) << "</td>";
    h << "</tr>\n";
  }
  h << "</table>\n<h2>Did not hold</h2>\n";
  int n = 0;
  for (auto const& r : report.at("results")) {
    std::string o = r.at("outcome");
    if (o != "failed" && o != "xfail") continue;
    ++n;
    h << "<h3 class=" << o << "><code>" << html_escape(r.at("id")) << "</code>"
      << (o == "xfail" ? " (expected on this target)" : "") << "</h3>\n";
    if (r.contains("statement"))
      h << "<p>" << html_escape(r["statement"]) << "<br><small>" << html_escape(r["source"]) << "; "
        << html_escape(r["scope"]) << "; <code>" << html_escape(r["file"]) << "</code></small></p>\n";
    h << "<pre>" << html_escape(r.value("reason", "")) << "</pre>\n";
  }
  if (n == 0) h << "<p>Every behaviour that ran held.</p>\n";
  h << "<h2>All behaviours</h2>\n<table><tr><th>behaviour</th><th>outcome</th><th>scope</th><th>statement</th><th>reason</th></tr>\n";
  for (auto const& r : report.at("results")) {
    std::string o = r.at("outcome");
    h << "<tr class=" << o << "><td><code>" << html_escape(r.at("id")) << "</code></td><td>" << o << "</td><td>"
      << html_escape(r.value("scope", "")) << "</td><td>" << html_escape(r.value("statement", "")) << "</td><td>"
      << (o == "passed" ? "" : html_escape(r.value("reason", "").substr(0, 300))) << "</td></tr>\n";
  }
  h << "</table>\n";
  if (!report.at("tests_without_statement").empty()) {
    h << "<h2>Tests without a statement or source</h2><ul>\n";
    for (auto const& id : report.at("tests_without_statement")) h << "<li><code>" << html_escape(id) << "</code></li>\n";
    h << "</ul>\n";
  }
  h << "</body></html>\n";
}

// ipcsuite-report --compare A/report.json B/report.json ... --out DIR: a matrix of behaviours
// by target, the behaviours whose outcome differs between targets first.
int compare(std::vector<std::string> const& files, std::string const& outdir) {
  std::vector<json> runs;
  for (auto const& f : files) {
    std::ifstream in(f);
    if (!in) {
      std::cerr << "ipcsuite-report: cannot open " << f << "\n";
      return 2;
    }
    runs.push_back(json::parse(in));
  }
  std::map<std::string, std::vector<std::string>> matrix;  // id -> outcome per run
  std::map<std::string, json> meta;
  for (size_t i = 0; i < runs.size(); ++i)
    for (auto const& r : runs[i].at("results")) {
      auto& row = matrix[r.at("id")];
      row.resize(runs.size(), "-");
      row[i] = r.at("outcome");
      if (r.contains("statement")) meta[r.at("id")] = r;
    }
  std::vector<std::string> differ, same;
  for (auto& [id, row] : matrix) {
    row.resize(runs.size(), "-");
    bool d = false;
    for (auto const& o : row) d |= o != row[0];
    (d ? differ : same).push_back(id);
  }
  fs::create_directories(outdir);
  json j = {{"targets", json::array()}, {"differences", json::array()}, {"matrix", json::object()}};
  for (auto const& r : runs) j["targets"].push_back({{"target", r.at("target")}, {"kernel", r.at("kernel")}, {"totals", r.at("totals")}});
  for (auto const& id : differ) j["differences"].push_back(id);
  for (auto const& [id, row] : matrix) j["matrix"][id] = row;
  std::ofstream(fs::path(outdir) / "compare.json") << j.dump(2) << "\n";

  std::ofstream md(fs::path(outdir) / "compare.md");
  md << "# IPC conformance: comparison of " << runs.size() << " runs\n\n" << differ.size()
     << " behaviours differ between targets; " << same.size() << " agree.\n\n| behaviour |";
  for (auto const& r : runs) md << " " << std::string(r.at("target")) << " |";
  md << "\n|---|";
  for (size_t i = 0; i < runs.size(); ++i) md << "---|";
  md << "\n";
  auto mdrow = [&](std::string const& id) {
    md << "| `" << id << "` |";
    for (auto const& o : matrix[id]) md << " " << o << " |";
    md << "\n";
  };
  for (auto const& id : differ) mdrow(id);
  if (!same.empty()) md << "| *the same on every target:* |" << std::string(runs.size() * 3, ' ') << "\n";
  for (auto const& id : same) mdrow(id);

  std::ofstream h(fs::path(outdir) / "compare.html");
  h << "<!doctype html><html lang=en><head><meta charset=utf-8><title>IPC conformance comparison</title>" << kStyle
    << "</head><body>\n<h1>IPC conformance: " << runs.size() << " targets side by side</h1>\n<table><tr><th>target</th><th>kernel</th>";
  for (auto const& o : {"passed", "failed", "xfail", "skipped", "unsupported", "not-run"}) h << "<th>" << o << "</th>";
  h << "</tr>\n";
  for (auto const& r : runs) {
    h << "<tr><td>" << html_escape(r.at("target")) << "</td><td><code>" << html_escape(r.at("kernel")) << "</code></td>";
    for (auto const& o : {"passed", "failed", "xfail", "skipped", "unsupported", "not-run"})
      h << "<td class=n>" << r.at("totals").value(o, 0) << "</td>";
    h << "</tr>\n";
  }
  h << "</table>\n<h2>" << differ.size() << " behaviours that differ</h2>\n";
  auto table = [&](std::vector<std::string> const& ids, bool diff) {
    h << "<table><tr><th>behaviour</th>";
    for (auto const& r : runs) h << "<th>" << html_escape(r.at("target")) << "</th>";
    h << "<th>statement</th></tr>\n";
    for (auto const& id : ids) {
      h << "<tr" << (diff ? " class=diff" : "") << "><td><code>" << html_escape(id) << "</code></td>";
      for (auto const& o : matrix[id]) h << "<td class=\"" << (o == "-" ? "missing" : o) << "\">" << o << "</td>";
      h << "<td>" << (meta.count(id) ? html_escape(meta[id].value("statement", "")) : "") << "</td></tr>\n";
    }
    h << "</table>\n";
  };
  table(differ, true);
  h << "<h2>" << same.size() << " behaviours with the same outcome everywhere</h2>\n";
  table(same, false);
  h << "</body></html>\n";
  std::cout << "compared " << runs.size() << " runs: " << differ.size() << " behaviours differ; wrote "
            << outdir << "/compare.{md,html,json}\n";
  for (auto const& id : differ) {
    std::cout << "  " << id << ":";
    for (size_t i = 0; i < runs.size(); ++i) std::cout << " " << std::string(runs[i].at("target")) << "=" << matrix[id][i];
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string junit, bdir, outdir, expect, target = "native";
  if (argc > 1 && std::string(argv[1]) == "--compare") {
    std::vector<std::string> files;
    std::string out = ".";
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) == "--out" && i + 1 < argc) out = argv[++i];
      else files.push_back(argv[i]);
    }
    if (files.size() < 2) {
      std::cerr << "usage: ipcsuite-report --compare A/report.json B/report.json... [--out DIR]\n";
      return 2;
    }
    return compare(files, out);
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--junit") junit = argv[i + 1];
    else if (a == "--behaviours") bdir = argv[i + 1];
    else if (a == "--out") outdir = argv[i + 1];
    else if (a == "--target") target = argv[i + 1];
    else if (a == "--expect") expect = argv[i + 1];
    else { std::cerr << "unknown option " << a << "\n"; return 2; }
  }
  if (junit.empty() || bdir.empty()) {
    std::cerr << "usage: ipcsuite-report --junit FILE --behaviours BUILD_DIR [--out DIR] [--target NAME] [--expect FILE]\n"
                 "       ipcsuite-report --compare A/report.json B/report.json... [--out DIR]\n";
    return 2;
  }
  std::map<std::string, Behaviour> behaviours;
  std::vector<Result> results;
  std::map<std::string, Expectation> expectations;
  try {
    behaviours = load_behaviours(bdir);
    results = load_junit(junit);
    if (!expect.empty()) expectations = load_expectations(expect);
  } catch (std::exception const& e) {
    std::cerr << "ipcsuite-report: " << e.what() << "\n";
    return 2;
  }
  // Apply the expectations: a failure that is expected becomes "xfail"; an expectation that
  // did not come true is stale.
  std::vector<std::string> stale;
  // An entry that names no behaviour of this build is a typo or a removed test.
  for (auto const& [id, e] : expectations)
    if (!behaviours.count(id)) stale.push_back(id + ": names no behaviour of this build");
  for (auto& r : results) {
    auto it = expectations.find(r.id);
    if (it == expectations.end()) continue;
    if (as_expected_word(r.outcome) == it->second.outcome) {
      if (r.outcome == "failed") r.outcome = "xfail";
      r.reason = "expected: " + it->second.reason + "\n" + r.reason;
    } else {
      stale.push_back(r.id + ": expected " + it->second.outcome + ", got " + r.outcome);
    }
  }

  utsname u{};
  ::uname(&u);
  std::string kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;

  static const std::vector<std::string> kOutcomes = {"passed", "failed", "xfail", "skipped", "unsupported", "not-run"};
  std::map<std::string, std::map<std::string, int>> counts;  // mechanism -> outcome -> n
  std::map<std::string, int> totals;
  std::vector<Result const*> deviations, notrun;
  std::set<std::string> seen;
  json jresults = json::array();
  for (auto const& r : results) {
    auto it = behaviours.find(r.id);
    std::string mech = it != behaviours.end() ? it->second.mechanism : r.id.substr(0, r.id.find('.'));
    if (it == behaviours.end() && mech == "fixtures") mech = "selftest";
    counts[mech][r.outcome]++;
    totals[r.outcome]++;
    seen.insert(r.id);
    if (r.outcome == "failed" || r.outcome == "xfail") deviations.push_back(&r);
    else if (r.outcome != "passed") notrun.push_back(&r);
    json j = {{"id", r.id}, {"mechanism", mech}, {"outcome", r.outcome}, {"seconds", r.seconds}};
    if (it != behaviours.end()) {
      j["statement"] = it->second.statement;
      j["source"] = it->second.source;
      j["scope"] = it->second.scope;
      j["file"] = it->second.file + ":" + std::to_string(it->second.line);
    }
    if (!r.reason.empty()) j["reason"] = r.reason;
    jresults.push_back(j);
  }

  auto stmt = [&](std::string const& id) -> Behaviour const* {
    auto it = behaviours.find(id);
    return it == behaviours.end() ? nullptr : &it->second;
  };

  // Console summary.
  std::ostringstream con;
  con << "IPC conformance: target " << target << ", kernel " << kernel << ", " << results.size() << " tests\n\n";
  con << std::left << std::setw(14) << "mechanism";
  for (auto const& o : kOutcomes) con << std::right << std::setw(12) << o;
  con << "\n";
  for (auto const& [m, c] : counts) {
    con << std::left << std::setw(14) << m;
    for (auto const& o : kOutcomes) con << std::right << std::setw(12) << (c.count(o) ? c.at(o) : 0);
    con << "\n";
  }
  con << std::left << std::setw(14) << "all";
  for (auto const& o : kOutcomes) con << std::right << std::setw(12) << totals[o];
  con << "\n";
  if (!deviations.empty()) {
    con << "\nDid not hold (" << deviations.size() << "):\n";
    for (auto r : deviations) {
      auto b = stmt(r->id);
      con << "  " << r->id << (r->outcome == "xfail" ? "  (expected on this target)" : "") << "\n";
      if (b) con << "      " << b->statement << "  [" << b->source << "; " << b->scope << "]\n";
      std::istringstream lines(r->reason);
      for (std::string l; std::getline(lines, l);) con << "      | " << l << "\n";
    }
  }
  if (!notrun.empty()) {
    con << "\nNot run here (" << notrun.size() << "):\n";
    for (auto r : notrun) con << "  " << std::left << std::setw(12) << r->outcome << r->id << ": " << r->reason << "\n";
  }
  std::cout << con.str();

  bool ok = true;
  std::string gate_md, verdict, closing_line;
  if (!expect.empty()) {
    // The gate (with --expect).
    std::vector<std::string> unexpected, missing_run;
    for (auto const& r : results) {
      if (r.outcome == "failed" && !expectations.count(r.id)) unexpected.push_back(r.id);
      if (r.outcome == "not-run") missing_run.push_back(r.id + ": " + r.reason);
    }
    ok = unexpected.empty() && stale.empty() && missing_run.empty();
    std::ostringstream g;
    g << "## IPC conformance gate: " << target << ": " << (ok ? "PASS" : "FAIL") << "\n\n";
    g << totals["passed"] << " held, " << totals["xfail"] << " expected failures, " << unexpected.size()
      << " unexpected failures, " << stale.size() << " stale expectations, " << totals["skipped"] << " skipped, "
      << totals["unsupported"] << " unsupported, " << missing_run.size() << " not run (expectations: " << expect << ")\n";
    auto list = [&](char const* title, std::vector<std::string> const& v) {
      if (v.empty()) return;
      g << "\n" << title << ":\n";
      for (auto const& x : v) g << "- `" << x << "`\n";
    };
    list("Unexpected failures", unexpected);
    list("Stale expectations (update reports/expectations)", stale);
    list("Did not run", missing_run);
    verdict = std::string("gate ") + (ok ? "PASS" : "FAIL") + ": " + std::to_string(totals["passed"]) +
                          " held, " + std::to_string(totals["xfail"]) + " expected failures, " +
                          std::to_string(unexpected.size()) + " unexpected failures, " + std::to_string(stale.size()) +
                          " stale expectations";
    // One closing line in the form CI log readers know: expected failures, skips and
    // unsupported behaviours are not counted as passed.
    std::ostringstream closing;
    closing << "gate: " << totals["passed"] << " passed, " << unexpected.size() + stale.size() + missing_run.size()
              << " failed, " << totals["xfail"] + totals["skipped"] + totals["unsupported"] << " skipped\n";

    gate_md = g.str();
    closing_line = closing.str();
  }
  if (!outdir.empty()) {
    fs::create_directories(outdir);
    json report = {{"target", target}, {"kernel", kernel}, {"totals", totals}, {"by_mechanism", counts},
                   {"results", jresults}};
    json missing = json::array();
    for (auto const& [id, b] : behaviours)
      if (!seen.count(id)) missing.push_back(id);
    report["behaviours_not_in_this_run"] = missing;
    // Every test should carry its statement and source (fx/behaviour.hpp); list those that don't.
    json without = json::array();
    for (auto const& r : results)  // the fixtures' self-tests are no behaviours
      if (!behaviours.count(r.id) && r.id.rfind("fixtures.", 0) != 0) without.push_back(r.id);
    report["tests_without_statement"] = without;
    if (!expect.empty()) {
      report["gate"] = verdict;
      report["expectations"] = expect;
    }
    std::ofstream(fs::path(outdir) / "report.json") << report.dump(2) << "\n";

    write_html(fs::path(outdir) / "report.html", report, kOutcomes);
    if (!gate_md.empty()) std::ofstream(fs::path(outdir) / "gate.md") << gate_md;

    std::ofstream md(fs::path(outdir) / "report.md");
    md << "# IPC conformance report: " << target << "\n\nKernel: `" << kernel << "`. Tests: " << results.size() << ".\n\n";
    if (!verdict.empty()) md << "**" << verdict << "** (expectations: `" << expect << "`)\n\n";
    md << "| mechanism |";
    for (auto const& o : kOutcomes) md << " " << o << " |";
    md << "\n|---|";
    for (size_t i = 0; i < kOutcomes.size(); ++i) md << "---:|";
    md << "\n";
    for (auto const& [m, c] : counts) {
      md << "| " << m << " |";
      for (auto const& o : kOutcomes) md << " " << (c.count(o) ? c.at(o) : 0) << " |";
      md << "\n";
    }
    md << "\n## Did not hold\n\n";
    if (deviations.empty()) md << "Every behaviour that ran held.\n";
    for (auto r : deviations) {
      auto b = stmt(r->id);
      md << "### `" << r->id << "`" << (r->outcome == "xfail" ? " (expected on this target)" : "") << "\n\n";
      if (b) md << b->statement << " (" << b->source << "; " << b->scope << "; `" << b->file << ":" << b->line << "`)\n\n";
      md << "```\n" << r->reason << "\n```\n\n";
    }
    md << "\n## Not run here\n\n";
    if (notrun.empty()) md << "None.\n";
    else md << "| behaviour | outcome | reason |\n|---|---|---|\n";
    for (auto r : notrun) md << "| `" << r->id << "` | " << r->outcome << " | " << md_escape(r->reason) << " |\n";
    if (!without.empty()) {
      md << "\n## Tests without a statement or source\n\n";
      for (auto const& id : without) md << "- `" << std::string(id) << "`\n";
    }
  }
  if (!gate_md.empty()) std::cout << "\n" << gate_md;
  if (!outdir.empty()) std::cout << "\nreport: " << outdir << "/report.{md,html,json}\n";
  if (!closing_line.empty()) std::cout << closing_line;
  return ok ? 0 : 1;
}
