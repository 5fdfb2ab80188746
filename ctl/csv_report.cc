#include "ctl/csv_report.h"

#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

namespace loadd {
namespace {

constexpr char kStatsHeader[] =
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n";
constexpr char kHistoryHeader[] =
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%,Max Response Time,"
    "Total Request Count,Total Failure Count\n";
constexpr const char* kMethods[] = {"GET",   "POST", "PUT",    "DELETE",
                                    "PATCH", "HEAD", "OPTIONS"};

std::string Fixed2(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", value);
  return buf;
}

std::string Row(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + CsvField(fields[i]);
  return line + "\n";
}

// Locust's Type and Name: the method, and the name without it.
std::pair<std::string, std::string> TypeAndName(const EndpointView& e) {
  std::string method = e.method;
  for (const char* m : kMethods) {
    if (method.empty() && e.name.starts_with(std::string(m) + " ")) method = m;
  }
  if (!method.empty() && e.name.starts_with(method + " ")) {
    return {method, e.name.substr(method.size() + 1)};
  }
  return {method, e.name};
}

std::string StatsRow(const EndpointView& e, const std::string& type,
                     const std::string& name) {
  const LatencyView& l = e.latency;
  double failures_per_s =
      e.requests > 0 ? e.rps * static_cast<double>(e.failures) / e.requests : 0;
  int64_t content_bytes = e.requests > 0 ? e.bytes_in / e.requests : 0;
  return Row({type,
              name,
              std::to_string(e.requests),
              std::to_string(e.failures),
              FormatCsvMillis(l.p50_us),
              FormatCsvMillis(l.mean_us),
              FormatCsvMillis(l.min_us),
              FormatCsvMillis(l.max_us),
              std::to_string(content_bytes),
              Fixed2(e.rps),
              Fixed2(failures_per_s),
              FormatCsvMillis(l.p50_us),
              "",
              "",
              "",
              FormatCsvMillis(l.p90_us),
              FormatCsvMillis(l.p95_us),
              "",
              FormatCsvMillis(l.p99_us),
              FormatCsvMillis(l.p999_us),
              "",
              FormatCsvMillis(l.max_us)});
}

// "2026-11-23T01:02:03Z" as Unix seconds; -1 when it is not that form.
int64_t UnixSeconds(const std::string& iso) {
  std::tm tm{};
  char zone = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &zone) != 7 ||
      zone != 'Z') {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string FormatCsvMillis(double us) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", us / 1000);
  std::string text = buf;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string FormatStatsCsv(const RunView& run) {
  std::string out = kStatsHeader;
  for (const EndpointView& e : run.endpoints) {
    auto [type, name] = TypeAndName(e);
    out += StatsRow(e, type, name);
  }
  return out + StatsRow(run.aggregated, "", "Aggregated");
}

std::string FormatHistoryCsv(const RunView& run) {
  std::string out = kHistoryHeader;
  int64_t start_s = UnixSeconds(run.created_at);
  int64_t total_requests = 0, total_failures = 0;
  for (const TimelineEntry& e : run.timeline) {
    total_requests += e.requests;
    total_failures += e.failures;
    out +=
        Row({std::to_string(start_s < 0 ? e.t : start_s + e.t), std::to_string(e.users),
             "", "Aggregated", Fixed2(e.rps), Fixed2(static_cast<double>(e.failures)),
             FormatCsvMillis(e.p50_us), FormatCsvMillis(e.p95_us),
             FormatCsvMillis(e.p99_us), FormatCsvMillis(e.max_us),
             std::to_string(total_requests), std::to_string(total_failures)});
  }
  return out;
}

}  // namespace loadd
