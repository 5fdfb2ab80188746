#include "common/http_options.h"

#include "common/redact.h"

namespace loadd {
namespace {

// $.tls.ca, $.tls.cert, $.tls.key: {"name", "content"} (loadctl's inline
// form of {"file": ...}).
Status ReadPem(ObjectReader* tls, const char* field, const char* begins, PemFile* out) {
  const rapidjson::Value* value = tls->Get(field);
  if (value == nullptr) return Status::Ok();
  std::string at = tls->FieldPath(field);
  ObjectReader r(*value, at);
  if (r.Get("file") != nullptr) {
    return Status::Invalid(at + ".file",
                           "loadctl inlines PEM files; post the plan through "
                           "loadctl, or give name and content");
  }
  LOADD_RETURN_IF_ERROR(r.String("name", &out->name));
  LOADD_RETURN_IF_ERROR(r.String("content", &out->content, true));
  LOADD_RETURN_IF_ERROR(r.Finish());
  if (out->content.size() > PemFile::kMaxBytes) {
    return Status::Invalid(at + ".content", "is larger than 64 KiB");
  }
  // A stored run's key reads "(redacted)" (redact.h); ParsePlan refuses it
  // in a plan to run.
  if (std::string_view(field) == "key" && out->content == kRedacted) return Status::Ok();
  if (out->content.find(begins) == std::string::npos) {
    return Status::Invalid(at + ".content",
                           std::string("is not PEM: no \"") + begins + "\" line" +
                               (out->name.empty() ? "" : " in " + out->name));
  }
  return Status::Ok();
}

Status ReadTls(const rapidjson::Value& value, TlsOptions* out) {
  ObjectReader r(value, "$.tls");
  LOADD_RETURN_IF_ERROR(ReadPem(&r, "ca", "-----BEGIN CERTIFICATE-----", &out->ca));
  LOADD_RETURN_IF_ERROR(ReadPem(&r, "cert", "-----BEGIN CERTIFICATE-----", &out->cert));
  LOADD_RETURN_IF_ERROR(ReadPem(&r, "key", "PRIVATE KEY-----", &out->key));
  LOADD_RETURN_IF_ERROR(r.Bool("insecure", &out->insecure));
  LOADD_RETURN_IF_ERROR(r.Finish());
  if (out->cert.empty() != out->key.empty()) {
    return Status::Invalid(out->cert.empty() ? "$.tls.cert" : "$.tls.key",
                           "a client certificate needs both cert and key");
  }
  if (out->insecure && !out->ca.empty()) {
    return Status::Invalid("$.tls.insecure", "cannot be combined with ca: choose one");
  }
  return Status::Ok();
}

void WritePem(const char* key, const PemFile& pem, JsonWriter* w) {
  if (pem.empty()) return;
  w->Key(key);
  w->StartObject();
  w->Key("name");
  WriteString(w, pem.name);
  w->Key("content");
  WriteString(w, pem.content);
  w->EndObject();
}

}  // namespace

const char* HttpVersionName(HttpOptions::Version v) {
  switch (v) {
    case HttpOptions::Version::kHttp11:
      return "1.1";
    case HttpOptions::Version::kHttp2:
      return "2";
    case HttpOptions::Version::kAuto:
      break;
  }
  return "auto";
}

bool HttpOptions::NeedsCurl() const { return version == Version::kHttp2; }

Status CheckHttpVersionFor(const HttpOptions& options, const Url& url,
                           const std::string& at) {
  if (options.version != HttpOptions::Version::kHttp2 || url.scheme == "https") {
    return Status::Ok();
  }
  return Status::Invalid(at,
                         "is http://, but $.http_version \"2\" needs https:// (HTTP/2 is "
                         "negotiated in TLS; cleartext h2c is not supported)");
}

Status ReadHttpOptions(ObjectReader* r, HttpOptions* out) {
  LOADD_RETURN_IF_ERROR(r->Bool("cookies", &out->cookies));
  std::string version = "auto";
  LOADD_RETURN_IF_ERROR(r->String("http_version", &version));
  if (version == "auto") {
    out->version = HttpOptions::Version::kAuto;
  } else if (version == "1.1") {
    out->version = HttpOptions::Version::kHttp11;
  } else if (version == "2") {
    out->version = HttpOptions::Version::kHttp2;
  } else {
    return Status::Invalid("$.http_version", "\"" + version + "\" is not auto, 1.1 or 2");
  }
  const rapidjson::Value* tls = r->Get("tls");
  if (tls != nullptr) LOADD_RETURN_IF_ERROR(ReadTls(*tls, &out->tls));
  return Status::Ok();
}

void WriteHttpOptions(const HttpOptions& options, JsonWriter* w) {
  if (!options.cookies) {
    w->Key("cookies");
    w->Bool(false);
  }
  if (options.version != HttpOptions::Version::kAuto) {
    w->Key("http_version");
    w->String(HttpVersionName(options.version));
  }
  const TlsOptions& tls = options.tls;
  if (tls.ca.empty() && tls.cert.empty() && !tls.insecure) return;
  w->Key("tls");
  w->StartObject();
  WritePem("ca", tls.ca, w);
  WritePem("cert", tls.cert, w);
  WritePem("key", tls.key, w);
  if (tls.insecure) {
    w->Key("insecure");
    w->Bool(true);
  }
  w->EndObject();
}

}  // namespace loadd
