#include "ctl/start_command.h"

#include <unistd.h>

#include <algorithm>

#include "ctl/api_calls.h"
#include "ctl/files.h"
#include "ctl/junit_report.h"
#include "ctl/live_view.h"
#include "ctl/progress.h"
#include "ctl/report.h"
#include "ctl/run_view.h"
#include "ctl/verdict.h"

namespace loadd {
namespace {

// Progress: plain lines, one per poll; or, on a terminal that can take it,
// the live view (ctl/live_view.h) redrawn in place, the cursor hidden while
// it shows.
class ProgressPrinter {
 public:
  // fd: the descriptor behind out, for its terminal's size.
  ProgressPrinter(std::ostream* out, bool live, int fd,
                  void (*terminal_size)(int, int*, int*))
      : out_(out), live_(live), fd_(fd), terminal_size_(terminal_size) {}
  ~ProgressPrinter() { Break(); }

  bool live() const { return live_; }

  void Show(const std::string& line, const LiveSnapshot& snapshot) {
    if (!live_) {
      *out_ << line << '\n' << std::flush;
      return;
    }
    int columns = 80, rows = 24;
    if (terminal_size_ != nullptr) terminal_size_(fd_, &columns, &rows);
    LiveViewOptions options;
    options.width = columns;
    options.max_rows = MaxTableRows(rows);
    std::vector<std::string> lines = RenderLiveFrame(snapshot, options);
    std::string bytes;
    if (!drawn_) {
      bytes += kHideCursor;
      SetBytesBeforeSignalExit(fd_, kShowCursor.data(), kShowCursor.size());
    }
    bytes += RedrawFrame(prev_lines_, lines);
    *out_ << bytes << std::flush;
    prev_lines_ = static_cast<int>(lines.size());
    drawn_ = true;
  }
  // A line of its own that stays: above the live view, which the next Show
  // draws again below it.
  void Note(const std::string& line) {
    if (drawn_) {
      *out_ << RedrawFrame(prev_lines_, {line}) << std::flush;
      prev_lines_ = 0;
    } else {
      *out_ << line << '\n' << std::flush;
    }
  }
  // Leaves the live view where it is and shows the cursor again, so what
  // follows (on this stream or another) starts on a line of its own below.
  void Break() {
    if (!drawn_) return;
    *out_ << kShowCursor << std::flush;
    SetBytesBeforeSignalExit(-1, nullptr, 0);
    drawn_ = false;
    prev_lines_ = 0;
  }

 private:
  std::ostream* out_;
  bool live_;
  int fd_;
  void (*terminal_size_)(int, int*, int*);
  bool drawn_ = false;  // a frame shows and the cursor is hidden
  int prev_lines_ = 0;  // lines of the frame above the cursor
};

Status CheckStartOptions(const Options& options) {
  if (options.local && options.detach) {
    return Status::Invalid("--detach",
                           "cannot be combined with --local: the local fleet "
                           "ends when loadctl does");
  }
  if (options.local && !options.coordinator.empty()) {
    return Status::Invalid("--local", "cannot be combined with --coordinator");
  }
  // Both files describe the ended run, which --detach does not wait for.
  if (options.detach && !options.out_file.empty()) {
    return Status::Invalid("--out", "cannot be combined with --detach");
  }
  if (options.detach && !options.junit_file.empty()) {
    return Status::Invalid("--junit", "cannot be combined with --detach");
  }
  return ParseFileMode(options.file_mode).status();
}

// Where notices and progress go: stdout, unless --json keeps it for the JSON.
std::ostream* ProgressStream(const Options& options, Env* env) {
  return options.json ? env->err : env->out;
}

Status RequestStop(ApiClient* api, const std::string& id, Env* env,
                   ProgressPrinter* printer) {
  printer->Break();
  *env->err << "loadctl: stopping run " << id
            << " (Ctrl-C again to quit without waiting)\n";
  JsonReply reply;
  Status stopped = StopRun(api, id, &reply);
  // 409: the run ended before the stop arrived, which is what we wanted.
  if (stopped.code() == StatusCode::kFailedPrecondition) return Status::Ok();
  return stopped;
}

// No answer at all may be a blip; any answer that is wrong will stay wrong.
bool IsRetryable(const Status& status) {
  return status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kDeadlineExceeded;
}

int64_t IntMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

std::string StrMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// "200 users" or "arrival rate 500/s" (for stages of rates: their peak).
std::string PlanLoad(const Plan& plan) {
  if (plan.model == LoadModel::kClosed) return Plural(plan.users, "user");
  double rate = plan.stages.empty() ? plan.arrival_rate : plan.start_rate;
  for (const Stage& stage : plan.stages) rate = std::max(rate, stage.target);
  return "arrival rate " + FormatRate(rate);
}

// "Run r1 started: 200 users on 2 workers", or for a run that waits for
// expect_workers "Run r1 created: 200 users; waiting for 3 workers".
std::string CreatedLine(const std::string& id, const rapidjson::Value& created,
                        const Plan& plan) {
  if (StrMember(created, "state") == "queued") {
    return "Run " + id + " queued: " + PlanLoad(plan) + "; position " +
           std::to_string(IntMember(created, "queue_position")) +
           " in the run queue (its workers are busy; Ctrl-C cancels it)";
  }
  if (StrMember(created, "state") == "waiting") {
    return "Run " + id + " created: " + PlanLoad(plan) + "; waiting for " +
           Plural(plan.expect_workers, "worker");
  }
  return "Run " + id + " started: " + PlanLoad(plan) + " on " +
         Plural(IntMember(created, "workers"), "worker");
}

// Prints one successful poll: warnings new since the last poll as lines of
// their own, then the progress line. A waiting run's line needs the live
// workers, which /healthz knows; without an answer they show as unknown.
void ShowPoll(ApiClient* api, const JsonReply& reply, const RunView& run,
              ProgressTracker* tracker, ProgressPrinter* printer, Env* env) {
  for (const std::string& warning : tracker->NewWarnings(run)) {
    printer->Note("Warning: " + warning);
  }
  int64_t live_workers = -1;
  if (run.state == "waiting" && !FetchLiveWorkers(api, &live_workers).ok()) {
    live_workers = -1;
  }
  std::string line = tracker->Update(run, env->clock->NowNs(), live_workers);
  LiveSnapshot snapshot;
  snapshot.run = &run;
  snapshot.rps = tracker->rps();
  snapshot.live_workers = live_workers;
  if (printer->live()) snapshot.phases = PhasesOfPlan(reply.doc);
  printer->Show(line, snapshot);
}

// Writes --out (the run JSON) and --junit; both are tried, the first error
// is returned.
Status WriteResultFiles(const JsonReply& reply, const RunView& run,
                        const Options& options, Env* env) {
  Status status;
  Result<uint32_t> parsed = ParseFileMode(options.file_mode);  // checked at the start
  uint32_t mode = parsed.ok() ? *parsed : kReportFileMode;
  if (!options.out_file.empty()) {
    status = env->files->Write(options.out_file, reply.body, mode);
  }
  if (!options.junit_file.empty()) {
    Status junit = env->files->Write(options.junit_file, FormatJunit(run), mode);
    if (status.ok()) status = junit;
  }
  return status;
}

// Fetches the ended run with its timeline, prints it, writes the result
// files, and returns the verdict.
Result<Outcome> Conclude(ApiClient* api, const std::string& id, const Options& options,
                         Env* env) {
  JsonReply reply;
  RunView run;
  LOADD_RETURN_IF_ERROR(FetchRun(api, id, /*timeline=*/true, &reply, &run));
  if (options.json) {
    *env->out << reply.body << '\n';
  } else {
    *env->out << '\n' << FormatReport(run);
  }
  env->out->flush();
  Outcome verdict = VerdictOf(run);
  if (run.state == "failed" && !run.message.empty()) {
    *env->err << "loadctl: run " << id << " failed: " << run.message << '\n';
  } else if (verdict == Outcome::kThresholdsFailed) {
    *env->err << "loadctl: run " << id << " failed thresholds: " << FailedThresholds(run)
              << '\n';
  }
  LOADD_RETURN_IF_ERROR(WriteResultFiles(reply, run, options, env));
  return verdict;
}

}  // namespace

Status WatchRun(ApiClient* api, const std::string& id, const Options& options, Env* env) {
  bool tty = options.json ? env->err_is_tty : env->out_is_tty;
  ProgressPrinter printer(ProgressStream(options, env),
                          UseLiveView(tty, env->term, env->no_color, options.no_color),
                          options.json ? STDERR_FILENO : STDOUT_FILENO,
                          env->terminal_size);
  ProgressTracker tracker(env->clock->NowNs());
  int64_t next_ns = env->clock->NowNs() + kPollIntervalNs;
  bool stop_sent = false;
  int failures = 0;
  for (;;) {
    env->waiter->SleepNs(next_ns - env->clock->NowNs());
    if (env->waiter->Interrupted() && !stop_sent) {
      stop_sent = true;
      LOADD_RETURN_IF_ERROR(RequestStop(api, id, env, &printer));
    }
    JsonReply reply;
    RunView run;
    Status polled = FetchRun(api, id, /*timeline=*/false, &reply, &run);
    if (polled.ok()) {
      failures = 0;
      ShowPoll(api, reply, run, &tracker, &printer, env);
      if (IsFinalState(run.state)) return Status::Ok();
    } else if (!IsRetryable(polled) || ++failures > kMaxPollFailures) {
      return polled;
    } else {
      printer.Break();
      *env->err << FormatError(polled) << " (retrying)\n";
    }
    int64_t now_ns = env->clock->NowNs();
    next_ns += kPollIntervalNs;
    if (next_ns <= now_ns) next_ns = now_ns + kPollIntervalNs;  // a slow poll: no burst
  }
}

Result<Outcome> RunStart(const Options& options, Env* env) {
  LOADD_RETURN_IF_ERROR(CheckStartOptions(options));
  Result<ResolvedPlan> plan = ResolvePlan(options.plan, env->files);
  if (!plan.ok()) return plan.status();
  Result<ApiClient*> api = env->connector->Connect();
  if (!api.ok()) return api.status();
  JsonReply created;
  std::string id;
  Status status = CreateRun(*api, plan->json, &created, &id);
  if (status.code() == StatusCode::kInvalidArgument) return InvalidPlan(status);
  if (!status.ok()) return status;
  if (options.detach) {
    *env->out << (options.json ? created.body : id) << '\n';
    return Outcome::kSuccess;
  }
  *ProgressStream(options, env) << CreatedLine(id, created.doc, plan->plan) << '\n';
  LOADD_RETURN_IF_ERROR(WatchRun(*api, id, options, env));
  return Conclude(*api, id, options, env);
}

}  // namespace loadd
