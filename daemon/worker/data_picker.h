// DataPicker: which row of the plan's data file this worker's next
// iteration uses (see common/data_file.h for the modes). The worker's
// stripe (i % modulus == residue) decides its rows, so over the fleet a
// shared row is used exactly once. Loop-thread only.
#ifndef LOADD_DAEMON_WORKER_DATA_PICKER_H_
#define LOADD_DAEMON_WORKER_DATA_PICKER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/data_file.h"

namespace loadd {

class DataPicker {
 public:
  DataPicker(const DataFile* data, int64_t modulus, int64_t residue)
      : data_(data), modulus_(modulus), residue_(residue) {
    int64_t rows = static_cast<int64_t>(data->row_count);
    block_begin_ = residue * rows / modulus;
    block_end_ = (residue + 1) * rows / modulus;
  }

  // The index of the next row in data->rows, or -1 when this worker's rows
  // are used up (mode stop).
  int64_t Next(std::mt19937_64* rng) {
    int64_t rows = static_cast<int64_t>(data_->row_count);
    int64_t row = -1;
    switch (data_->mode) {
      case DataFile::Mode::kRandom:
        row = static_cast<int64_t>((*rng)() % static_cast<uint64_t>(rows));
        break;
      case DataFile::Mode::kShared:
        row = residue_ + cursor_ * modulus_;
        if (row >= rows && data_->recycle && residue_ < rows) {
          cursor_ = 0;
          row = residue_;
        }
        break;
      case DataFile::Mode::kSharded:
        row = block_begin_ + cursor_;
        if (row >= block_end_ && data_->recycle && block_end_ > block_begin_) {
          cursor_ = 0;
          row = block_begin_;
        }
        if (row >= block_end_) row = rows;
        break;
    }
    if (row < 0 || row >= rows) return -1;
    ++cursor_;
    return row;
  }

 private:
  const DataFile* data_;
  int64_t modulus_;
  int64_t residue_;
  int64_t block_begin_ = 0;
  int64_t block_end_ = 0;
  int64_t cursor_ = 0;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_DATA_PICKER_H_
