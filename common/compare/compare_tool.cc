// compare_tool: the comparison statistics on histograms read as JSON, for
// the independent check in tests/e2e/test_compare_stats.py (scipy). Reads
// from stdin
//   {"base": [SECOND...], "candidate": [SECOND...], "percentiles": [50, ...],
//    "replicates": 1000, "seed": 1}
// with SECOND = {"requests": N, "failures": N, "buckets": [[value_us, count], ...]}
// and prints the measures, the bootstrap p-values and the rank tests.
#include <iostream>
#include <iterator>
#include <string>

#include "common/compare/compare_stats.h"
#include "common/json.h"

namespace loadd {
namespace {

Series ReadSeries(const rapidjson::Value& seconds) {
  Series out;
  int64_t t = 0;
  for (const auto& s : seconds.GetArray()) {
    Second second;
    second.t = t++;
    second.requests = s["requests"].GetInt64();
    second.failures = s["failures"].GetInt64();
    for (const auto& b : s["buckets"].GetArray()) {
      second.latency_us.emplace_back(b[0].GetInt64(), b[1].GetInt64());
    }
    out.push_back(std::move(second));
  }
  return out;
}

void WriteList(JsonWriter* w, const char* key, const std::vector<double>& values) {
  w->Key(key);
  w->StartArray();
  for (double v : values) w->Double(v);
  w->EndArray();
}

int Main() {
  std::string input(std::istreambuf_iterator<char>(std::cin), {});
  rapidjson::Document doc;
  if (Status s = ParseJson(input, &doc, 64); !s.ok()) {
    std::cerr << s.ToString() << '\n';
    return 2;
  }
  Series base = ReadSeries(doc["base"]), candidate = ReadSeries(doc["candidate"]);
  std::vector<double> percentiles;
  for (const auto& p : doc["percentiles"].GetArray())
    percentiles.push_back(p.GetDouble());
  BootstrapOptions options;
  options.replicates = doc["replicates"].GetInt();
  options.seed = doc["seed"].GetUint64();
  Measures mb = Measure(base, percentiles), mc = Measure(candidate, percentiles);
  BootstrapResult boot = BlockBootstrap(base, candidate, percentiles, options);
  auto all = [](const Series& series) {
    std::vector<const Buckets*> parts;
    for (const Second& s : series) parts.push_back(&s.latency_us);
    return MergeBuckets(parts);
  };
  std::optional<RankTest> rank = MannWhitney(all(base), all(candidate));
  std::cout << ToJson([&](JsonWriter* w) {
    w->StartObject();
    WriteList(w, "base_percentiles", mb.percentiles_us);
    WriteList(w, "candidate_percentiles", mc.percentiles_us);
    w->Key("bootstrap_p");
    w->StartArray();
    for (const auto& p : boot.p_values) p ? w->Double(*p) : w->Null();
    w->EndArray();
    w->Key("block_s");
    w->Int(boot.block_s);
    w->Key("mann_whitney_p");
    w->Double(rank ? rank->p_value : 1);
    w->Key("prob_greater");
    w->Double(rank ? rank->prob_greater : 0.5);
    w->EndObject();
  }) << '\n';
  return 0;
}

}  // namespace
}  // namespace loadd

int main() { return loadd::Main(); }
