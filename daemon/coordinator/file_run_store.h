// FileRunStore: a RunStore in a state directory (`loadd coordinator
// --state-dir`, default /var/lib/loadd).
//
//   <dir>/lock               flock()ed while a coordinator uses the directory
//   <dir>/runs/<id>/state    replaced atomically: written to state.tmp,
//                            fsync, rename over state, fsync of the directory
//   <dir>/runs/<id>/seconds  appended, fsync before the state counting the
//                            new records is renamed into place
//
// Both files are sequences of records: payload length (4 bytes, little
// endian), CRC-32 of the payload (4 bytes), payload. The state file is one
// record whose payload starts with the byte length and record count of the
// seconds file it covers (8 bytes each) and goes on with the document. Bytes
// of the seconds file past that length are a Put that never completed (a
// torn record, or records whose state never landed): Get ignores them and
// the next Put cuts them off. A record that fails its CRC inside the
// covered length makes the run unreadable (Get names the file).
#ifndef LOADD_DAEMON_COORDINATOR_FILE_RUN_STORE_H_
#define LOADD_DAEMON_COORDINATOR_FILE_RUN_STORE_H_

#include <map>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "daemon/coordinator/run_store.h"

namespace loadd {

class FileRunStore final : public RunStore {
 public:
  // Creates dir (mode 0700, parents too) and dir/runs when missing and
  // takes dir/lock. Errors say what is wrong with the directory and name
  // the --state-dir flag.
  static Result<std::unique_ptr<FileRunStore>> Open(const std::string& dir);
  ~FileRunStore() override;

  Status Put(const std::string& id, std::string_view state, size_t first_second,
             const std::vector<std::string>& seconds) override;
  Result<StoredRun> Get(const std::string& id) override;
  // A run directory without a `state` file is a first Put cut short (the
  // coordinator died between its mkdir and its rename): nothing of that
  // run was ever stored, so List removes it (logged) instead of listing it.
  Result<std::vector<std::string>> List() override;
  Status Remove(const std::string& id) override;
  std::string Where(const std::string& id) const override { return RunDir(id); }

 private:
  // The part of a run's seconds file that its state covers.
  struct Covered {
    uint64_t bytes = 0;
    uint64_t records = 0;
  };
  FileRunStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  std::string RunDir(const std::string& id) const { return dir_ + "/runs/" + id; }
  // What the state on disk covers; zero when the run has no state yet.
  Result<Covered> CoveredOnDisk(const std::string& id);
  Status AppendSeconds(const std::string& id, const Covered& from,
                       const std::vector<std::string>& seconds, Covered* to);
  Status RemoveLocked(const std::string& id) EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string dir_;
  int lock_fd_;
  Mutex mu_;  // serializes Put, List and Remove
  std::map<std::string, Covered> covered_ GUARDED_BY(mu_);  // as last put
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_FILE_RUN_STORE_H_
