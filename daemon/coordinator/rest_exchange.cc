#include "daemon/coordinator/rest_exchange.h"

#include <strings.h>

#include <utility>

namespace loadd {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::vector<RestField> ParseQuery(std::string_view query) {
  std::vector<RestField> fields;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    fields.push_back({Decoded(name), Decoded(value)});
  }
  return fields;
}

std::vector<std::string> RestRequest::QueryAll(std::string_view name) const {
  std::vector<std::string> values;
  for (const RestField& q : query) {
    if (q.name == name) values.push_back(q.value);
  }
  return values;
}

std::optional<std::string> RestRequest::Header(std::string_view name) const {
  for (const RestField& h : headers) {
    if (SameName(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string> RestRequest::Query(std::string_view name) const {
  for (const RestField& q : query) {
    if (q.name == name) return q.value;
  }
  return std::nullopt;
}

RestResponse JsonResponse(int code, std::string json) {
  RestResponse response;
  response.code = code;
  response.content_type = "application/json";
  response.body = std::move(json) + "\n";
  return response;
}

}  // namespace loadd
