#include "common/run_filter.h"

#include <algorithm>

namespace loadd {
namespace {

// The comma-separated pieces of `value`; an empty piece is kept (and
// refused by the caller).
std::vector<std::string_view> Pieces(std::string_view value) {
  std::vector<std::string_view> pieces;
  for (;;) {
    size_t comma = value.find(',');
    pieces.push_back(value.substr(0, comma));
    if (comma == std::string_view::npos) return pieces;
    value.remove_prefix(comma + 1);
  }
}

bool IsLowerWord(std::string_view s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

}  // namespace

Status AddFilterLabels(std::string_view value, const std::string& where,
                       RunFilter* filter) {
  Labels labels = filter->labels;
  for (std::string_view piece : Pieces(value)) {
    LOADD_RETURN_IF_ERROR(AddLabelArg(piece, where, &labels));
  }
  filter->labels = std::move(labels);
  return Status::Ok();
}

Status AddFilterStates(std::string_view value, const std::string& where,
                       const std::function<bool(std::string_view)>& known,
                       const std::string& known_names, RunFilter* filter) {
  std::vector<std::string> states = filter->states;
  for (std::string_view piece : Pieces(value)) {
    // The name is hostile: quote at most its first 40 bytes.
    std::string shown = "\"" + std::string(piece.substr(0, 40)) + "\"";
    if (known ? !known(piece) : !IsLowerWord(piece)) {
      return Status::Invalid(
          where, shown + " is not a run state" +
                     (known_names.empty() ? "" : " (one of " + known_names + ")"));
    }
    if (std::find(states.begin(), states.end(), piece) != states.end()) continue;
    if (states.size() >= kMaxFilterStates) {
      return Status::Invalid(where,
                             "more than " + std::to_string(kMaxFilterStates) + " states");
    }
    states.emplace_back(piece);
  }
  filter->states = std::move(states);
  return Status::Ok();
}

bool RunFilterMatches(const RunFilter& filter, std::string_view state,
                      const Labels& labels) {
  if (!filter.states.empty() && std::find(filter.states.begin(), filter.states.end(),
                                          state) == filter.states.end()) {
    return false;
  }
  for (const auto& [key, value] : filter.labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

std::string RunFilterQuery(const RunFilter& filter) {
  // Label keys and values and state names hold no '&', '%', '+' or '#'
  // (common/labels.h), so only '=' needs encoding.
  std::string query;
  for (const auto& [key, value] : filter.labels) {
    query += (query.empty() ? "" : "&") + std::string("label=") + key + "%3D" + value;
  }
  for (const std::string& state : filter.states) {
    query += (query.empty() ? "" : "&") + std::string("state=") + state;
  }
  return query;
}

}  // namespace loadd
