#include "common/wire.h"

#include "common/host_allow_list.h"
#include "common/json_reader.h"
#include "common/wire_stats.h"

namespace loadd {
namespace {

constexpr int64_t kMaxI = int64_t{1} << 50;
constexpr size_t kMaxAllowHosts = 4096;

void Write(JsonWriter* w, const HelloMsg& m) {
  WriteField(w, "host", m.host);
  WriteField(w, "instance", m.instance);
  WriteField(w, "cpu", m.cpu);
  WriteField(w, "cores", m.cores);
  WriteField(w, "pid", m.pid);
  WriteField(w, "version", m.version);
  WriteField(w, "run_id", m.run_id);
  // Only when there are labels: a coordinator older than labels refuses the
  // field (its log names $.labels), and one without labels it still takes.
  if (!m.labels.empty()) WriteLabels(w, "labels", m.labels);
}
void Write(JsonWriter* w, const WelcomeMsg& m) {
  WriteField(w, "worker_id", m.worker_id);
  WriteField(w, "heartbeat_ms", m.heartbeat_ms);
  if (m.heartbeat_timeout_ms > 0)
    WriteField(w, "heartbeat_timeout_ms", m.heartbeat_timeout_ms);
}
void Write(JsonWriter* w, const HeartbeatMsg& m) {
  WriteField(w, "run_id", m.run_id);
  WriteField(w, "users", m.users);
  w->Key("cpu_percent");
  w->Double(m.cpu_percent);
}
void Write(JsonWriter*, const PingMsg&) {}
void WriteChanges(JsonWriter* w, const char* key,
                  const std::vector<ShareChange>& changes) {
  w->Key(key);
  w->StartArray();
  for (const ShareChange& c : changes) {
    w->StartObject();
    w->Key("add");
    w->Bool(c.add);
    WriteField(w, "modulus", c.modulus);
    WriteField(w, "residue", c.residue);
    WriteField(w, "rank_modulus", c.rank_modulus);
    WriteField(w, "rank_residue", c.rank_residue);
    WriteField(w, "at_ms", c.at_ms);
    w->EndObject();
  }
  w->EndArray();
}
void Write(JsonWriter* w, const AssignMsg& m) {
  WriteField(w, "run_id", m.run_id);
  w->Key("plan");
  WritePlanForWorkers(m.plan, w);
  WriteChanges(w, "share", m.share);
  w->Key("handover_rate");
  w->Double(m.handover_rate);
  WriteField(w, "run_time_ms", m.run_time_ms);
  if (!m.allow_hosts.empty()) {
    w->Key("allow_hosts");
    w->StartArray();
    for (const std::string& entry : m.allow_hosts)
      w->String(entry.data(), static_cast<rapidjson::SizeType>(entry.size()));
    w->EndArray();
  }
}
void Write(JsonWriter* w, const ReshareMsg& m) {
  WriteField(w, "run_id", m.run_id);
  WriteChanges(w, "changes", m.changes);
  w->Key("handover_rate");
  w->Double(m.handover_rate);
}
void Write(JsonWriter* w, const StopMsg& m) { WriteField(w, "run_id", m.run_id); }
void Write(JsonWriter* w, const ProfileMsg& m) {
  WriteField(w, "run_id", m.run_id);
  WriteField(w, "at_ms", m.at_ms);
  w->Key("knots");  // [[t_ns, value], ...]
  w->StartArray();
  for (const LoadProfile::Knot& k : m.knots) {
    w->StartArray();
    w->Int64(k.t_ns);
    w->Double(k.value);
    w->EndArray();
  }
  w->EndArray();
}
void Write(JsonWriter* w, const GoodbyeMsg& m) { WriteField(w, "reason", m.reason); }
void Write(JsonWriter* w, const StatsMsg& m) {
  WriteField(w, "run_id", m.run_id);
  WriteField(w, "seq", m.seq);
  WriteField(w, "users", m.users);
  w->Key("cpu_percent");
  w->Double(m.cpu_percent);
  w->Key("final");
  w->Bool(m.final);
  WriteField(w, "dropped", m.dropped);
  WriteField(w, "interval_ms", m.interval_ms);
  w->Key("endpoints");
  w->StartArray();
  for (const EndpointStats& e : m.endpoints) {
    w->StartObject();
    WriteField(w, "name", e.name);
    WriteField(w, "requests", e.requests);
    WriteField(w, "failures", e.failures);
    WriteField(w, "bytes_in", e.bytes_in);
    w->Key("errors");
    w->StartArray();
    for (int64_t n : e.errors) w->Int64(n);
    w->EndArray();
    WriteField(w, "latency_us", e.latency_us.EncodeBase64());
    if (e.service_us.TotalCount() > 0)
      WriteField(w, "service_us", e.service_us.EncodeBase64());
    w->EndObject();
  }
  w->EndArray();
  if (!m.checks.empty()) {
    w->Key("checks");
    w->StartArray();
    for (const CheckCount& c : m.checks) {
      w->StartObject();
      WriteField(w, "name", c.name);
      WriteField(w, "passed", c.passed);
      WriteField(w, "failed", c.failed);
      w->EndObject();
    }
    w->EndArray();
  }
}

Status Read(ObjectReader* r, HelloMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("host", &m->host, true));
  if (m->host.empty() || m->host.size() > 253) {
    return Status::Invalid(r->FieldPath("host"), "must be 1 to 253 bytes");
  }
  LOADD_RETURN_IF_ERROR(r->Int("instance", &m->instance, 0, 65535, true));
  LOADD_RETURN_IF_ERROR(r->Int("cpu", &m->cpu, -1, 65535));
  LOADD_RETURN_IF_ERROR(r->Int("cores", &m->cores, 1, 65536));
  LOADD_RETURN_IF_ERROR(r->Int("pid", &m->pid, 0, kMaxI));
  LOADD_RETURN_IF_ERROR(r->String("version", &m->version));
  LOADD_RETURN_IF_ERROR(r->String("run_id", &m->run_id));
  return ReadLabels(r, "labels", &m->labels);  // absent from older workers
}
Status Read(ObjectReader* r, WelcomeMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("worker_id", &m->worker_id, true));
  LOADD_RETURN_IF_ERROR(r->Int("heartbeat_ms", &m->heartbeat_ms, 10, 60000));
  return r->Int("heartbeat_timeout_ms", &m->heartbeat_timeout_ms, 0, 3'600'000);
}
Status Read(ObjectReader* r, HeartbeatMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("run_id", &m->run_id));
  LOADD_RETURN_IF_ERROR(r->Int("users", &m->users, 0, kMaxI));
  m->cpu_percent = 0;
  const rapidjson::Value* cpu = r->Get("cpu_percent");
  if (cpu != nullptr && cpu->IsNumber()) m->cpu_percent = cpu->GetDouble();
  return Status::Ok();
}
Status Read(ObjectReader*, PingMsg*) { return Status::Ok(); }
Status ReadChanges(ObjectReader* r, const char* key, std::vector<ShareChange>* out) {
  const rapidjson::Value* list = r->Get(key);
  std::string path = r->FieldPath(key);
  if (list == nullptr || !list->IsArray() || list->Empty() ||
      list->Size() > kMaxShareChanges) {
    return Status::Invalid(path, "must be an array of 1 to 4096 share changes");
  }
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    ObjectReader c((*list)[i], JsonPathIndex(path, i));
    ShareChange change;
    LOADD_RETURN_IF_ERROR(c.Bool("add", &change.add));
    LOADD_RETURN_IF_ERROR(c.Int("modulus", &change.modulus, 1, kMaxI, true));
    LOADD_RETURN_IF_ERROR(c.Int("residue", &change.residue, 0, change.modulus - 1, true));
    LOADD_RETURN_IF_ERROR(c.Int("rank_modulus", &change.rank_modulus, 1, kMaxI));
    LOADD_RETURN_IF_ERROR(c.Int("rank_residue", &change.rank_residue, 0, kMaxI));
    LOADD_RETURN_IF_ERROR(c.Int("at_ms", &change.at_ms, -1, kMaxI));
    LOADD_RETURN_IF_ERROR(c.Finish());
    out->push_back(change);
  }
  return Status::Ok();
}
Status ReadHandoverRate(ObjectReader* r, double* rate) {
  return r->Number("handover_rate", rate, 0, Plan::kMaxRate);
}
// Optional; each entry as --allow-host takes it (HostAllowList::Parse).
Status ReadAllowHosts(ObjectReader* r, std::vector<std::string>* out) {
  const rapidjson::Value* list = r->Get("allow_hosts");
  if (list == nullptr) return Status::Ok();
  std::string path = r->FieldPath("allow_hosts");
  if (!list->IsArray() || list->Size() > kMaxAllowHosts) {
    return Status::Invalid(path, "must be an array of at most " +
                                     std::to_string(kMaxAllowHosts) + " entries");
  }
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const rapidjson::Value& v = (*list)[i];
    if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > 300) {
      return Status::Invalid(JsonPathIndex(path, i),
                             "must be a string of 1 to 300 bytes");
    }
    out->emplace_back(v.GetString(), v.GetStringLength());
  }
  Result<HostAllowList> parsed = HostAllowList::Parse(*out, path);
  return parsed.ok() ? Status::Ok() : parsed.status();
}
Status Read(ObjectReader* r, AssignMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("run_id", &m->run_id, true));
  const rapidjson::Value* plan = r->Get("plan");
  if (plan == nullptr) return Status::Invalid(r->FieldPath("plan"), "is required");
  Result<Plan> parsed = PlanFromJson(*plan);
  if (!parsed.ok()) return parsed.status();
  m->plan = std::move(*parsed);
  LOADD_RETURN_IF_ERROR(ReadChanges(r, "share", &m->share));
  LOADD_RETURN_IF_ERROR(ReadHandoverRate(r, &m->handover_rate));
  LOADD_RETURN_IF_ERROR(r->Int("run_time_ms", &m->run_time_ms, -60000, kMaxI));
  return ReadAllowHosts(r, &m->allow_hosts);
}
Status Read(ObjectReader* r, ReshareMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("run_id", &m->run_id, true));
  LOADD_RETURN_IF_ERROR(ReadChanges(r, "changes", &m->changes));
  return ReadHandoverRate(r, &m->handover_rate);
}
Status Read(ObjectReader* r, StopMsg* m) { return r->String("run_id", &m->run_id, true); }
// Knots in time order from t = 0, values users or arrivals/s within the
// plan's bounds.
Status Read(ObjectReader* r, ProfileMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("run_id", &m->run_id, true));
  LOADD_RETURN_IF_ERROR(r->Int("at_ms", &m->at_ms, 0, kMaxI, true));
  const rapidjson::Value* list = r->Get("knots");
  const std::string path = r->FieldPath("knots");
  if (list == nullptr || !list->IsArray() || list->Size() < 2 ||
      list->Size() > kMaxProfileKnots) {
    return Status::Invalid(
        path, "must be an array of 2 to " + std::to_string(kMaxProfileKnots) + " knots");
  }
  int64_t last_ns = 0;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const rapidjson::Value& k = (*list)[i];
    if (!k.IsArray() || k.Size() != 2 || !k[0].IsInt64() || !k[1].IsNumber() ||
        k[0].GetInt64() < last_ns || k[0].GetInt64() > kMaxI || k[1].GetDouble() < 0 ||
        !(k[1].GetDouble() <= Plan::kMaxRate) || (i == 0 && k[0].GetInt64() != 0)) {
      return Status::Invalid(JsonPathIndex(path, i),
                             "must be [t_ns, value]: times from 0 in order, values "
                             "from 0 to 10000000");
    }
    last_ns = k[0].GetInt64();
    m->knots.push_back({last_ns, k[1].GetDouble()});
  }
  return Status::Ok();
}
Status Read(ObjectReader* r, GoodbyeMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("reason", &m->reason));
  if (m->reason.size() > 256)
    return Status::Invalid(r->FieldPath("reason"), "is too long");
  return Status::Ok();
}

Status ReadHistogram(ObjectReader* r, const char* key, bool required, HdrHistogram* out) {
  std::string text;
  LOADD_RETURN_IF_ERROR(r->String(key, &text, required));
  if (text.empty() && !required) return Status::Ok();
  Result<HdrHistogram> decoded = HdrHistogram::DecodeBase64(text, 1 << 20);
  if (!decoded.ok())
    return Status::Invalid(r->FieldPath(key), decoded.status().message());
  *out = std::move(*decoded);
  return Status::Ok();
}

Status ReadEndpoint(const rapidjson::Value& v, const std::string& path,
                    EndpointStats* e) {
  ObjectReader r(v, path);
  LOADD_RETURN_IF_ERROR(r.String("name", &e->name, true));
  if (e->name.size() > 1024) return Status::Invalid(r.FieldPath("name"), "is too long");
  LOADD_RETURN_IF_ERROR(r.Int("requests", &e->requests, 0, kMaxI));
  LOADD_RETURN_IF_ERROR(r.Int("failures", &e->failures, 0, kMaxI));
  LOADD_RETURN_IF_ERROR(r.Int("bytes_in", &e->bytes_in, 0, int64_t{1} << 62));
  const rapidjson::Value* errors = r.Get("errors");
  if (errors != nullptr) {
    if (!errors->IsArray() || errors->Size() > e->errors.size()) {
      return Status::Invalid(r.FieldPath("errors"), "must be an array of error counts");
    }
    for (rapidjson::SizeType i = 0; i < errors->Size(); ++i) {
      if (!(*errors)[i].IsInt64() || (*errors)[i].GetInt64() < 0) {
        return Status::Invalid(JsonPathIndex(r.FieldPath("errors"), i),
                               "must be a count");
      }
      e->errors[i] = (*errors)[i].GetInt64();
    }
  }
  LOADD_RETURN_IF_ERROR(ReadHistogram(&r, "latency_us", true, &e->latency_us));
  LOADD_RETURN_IF_ERROR(ReadHistogram(&r, "service_us", false, &e->service_us));
  return r.Finish();
}

Status ReadChecks(ObjectReader* r, std::vector<CheckCount>* out) {
  const rapidjson::Value* checks = r->Get("checks");
  if (checks == nullptr) return Status::Ok();
  std::string path = r->FieldPath("checks");
  if (!checks->IsArray() || checks->Size() > kMaxChecksPerStats) {
    return Status::Invalid(path, "must be an array of at most 1024 check counts");
  }
  for (rapidjson::SizeType i = 0; i < checks->Size(); ++i) {
    ObjectReader c((*checks)[i], JsonPathIndex(path, i));
    CheckCount count;
    LOADD_RETURN_IF_ERROR(c.String("name", &count.name, true));
    if (count.name.size() > 512)
      return Status::Invalid(c.FieldPath("name"), "is too long");
    LOADD_RETURN_IF_ERROR(c.Int("passed", &count.passed, 0, kMaxI));
    LOADD_RETURN_IF_ERROR(c.Int("failed", &count.failed, 0, kMaxI));
    LOADD_RETURN_IF_ERROR(c.Finish());
    out->push_back(std::move(count));
  }
  return Status::Ok();
}

Status Read(ObjectReader* r, StatsMsg* m) {
  LOADD_RETURN_IF_ERROR(r->String("run_id", &m->run_id, true));
  LOADD_RETURN_IF_ERROR(r->Int("seq", &m->seq, 0, kMaxI));
  LOADD_RETURN_IF_ERROR(r->Int("users", &m->users, 0, kMaxI));
  LOADD_RETURN_IF_ERROR(r->Bool("final", &m->final));
  LOADD_RETURN_IF_ERROR(r->Int("dropped", &m->dropped, 0, kMaxI));
  LOADD_RETURN_IF_ERROR(r->Int("interval_ms", &m->interval_ms, 10, 60000));
  const rapidjson::Value* cpu = r->Get("cpu_percent");
  if (cpu != nullptr && cpu->IsNumber()) m->cpu_percent = cpu->GetDouble();
  LOADD_RETURN_IF_ERROR(ReadChecks(r, &m->checks));
  const rapidjson::Value* endpoints = r->Get("endpoints");
  if (endpoints == nullptr) return Status::Ok();
  if (!endpoints->IsArray() || endpoints->Size() > kMaxEndpointsPerStats) {
    return Status::Invalid(r->FieldPath("endpoints"), "must be an array of at most 256");
  }
  m->endpoints.resize(endpoints->Size());
  for (rapidjson::SizeType i = 0; i < endpoints->Size(); ++i) {
    LOADD_RETURN_IF_ERROR(ReadEndpoint(
        (*endpoints)[i], JsonPathIndex(r->FieldPath("endpoints"), i), &m->endpoints[i]));
  }
  return Status::Ok();
}

// The message table: wire name and the variant alternative it selects.
template <typename T>
Result<Message> DecodeAs(const rapidjson::Value& doc) {
  T msg;
  ObjectReader r(doc, "$");
  r.Get("type");
  r.Get("v");
  LOADD_RETURN_IF_ERROR(Read(&r, &msg));
  LOADD_RETURN_IF_ERROR(r.Finish());
  return Message(std::move(msg));
}

struct MessageType {
  const char* name;
  Result<Message> (*decode)(const rapidjson::Value&);
};
// Order matches the Message variant's alternatives.
constexpr MessageType kMessageTypes[] = {
    {"hello", DecodeAs<HelloMsg>},         {"welcome", DecodeAs<WelcomeMsg>},
    {"heartbeat", DecodeAs<HeartbeatMsg>}, {"ping", DecodeAs<PingMsg>},
    {"assign", DecodeAs<AssignMsg>},       {"stop", DecodeAs<StopMsg>},
    {"stats", DecodeAs<StatsMsg>},         {"reshare", DecodeAs<ReshareMsg>},
    {"goodbye", DecodeAs<GoodbyeMsg>},     {"profile", DecodeAs<ProfileMsg>},
};
static_assert(std::size(kMessageTypes) == std::variant_size_v<Message>);

}  // namespace

const char* ErrorKindName(ErrorKind kind) {
  static constexpr const char* kNames[] = {"connect", "timeout", "status",
                                           "io",      "parse",   "interrupted"};
  return kNames[static_cast<int>(kind)];
}

const char* MessageTypeName(const Message& msg) {
  return kMessageTypes[msg.index()].name;
}

std::string EncodeMessage(const Message& msg) {
  if (const auto* stats = std::get_if<StatsMsg>(&msg)) return EncodeBinaryStats(*stats);
  return EncodeMessageAsJson(msg);
}

std::string EncodeMessageAsJson(const Message& msg) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  WriteField(&w, "type", MessageTypeName(msg));
  WriteField(&w, "v", kWireVersion);
  std::visit([&w](const auto& m) { Write(&w, m); }, msg);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Message> DecodeMessage(std::string_view bytes) {
  if (bytes.size() > kMaxWireMessageBytes) {
    return Status(StatusCode::kResourceExhausted, "bus message larger than 16 MiB");
  }
  if (IsBinaryStats(bytes)) {
    Result<StatsMsg> stats = DecodeBinaryStats(bytes);
    if (!stats.ok()) return stats.status();
    return Message(std::move(*stats));
  }
  rapidjson::Document doc;
  LOADD_RETURN_IF_ERROR(ParseJson(bytes, &doc, 16));
  if (!doc.IsObject() || !doc.HasMember("type") || !doc["type"].IsString()) {
    return Status::Invalid("$.type", "bus message without a type");
  }
  std::string_view type(doc["type"].GetString(), doc["type"].GetStringLength());
  for (const MessageType& t : kMessageTypes) {
    if (type == t.name) return t.decode(doc);
  }
  return Status::Invalid("$.type",
                         "unknown bus message type \"" + std::string(type) + "\"");
}

}  // namespace loadd
