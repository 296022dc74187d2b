#include "recorder.h"

#include <algorithm>
#include <stdexcept>

namespace parley {

Recorder::Recorder(const std::string& path, int rate, RecordSides sides)
    : rate_(rate), sides_(sides), frame_(static_cast<size_t>(rate / 50)) {
  writer_ = std::make_unique<WavWriter>(path, rate, sides == RecordSides::Both ? 2 : 1);
  in_.resize(frame_);
  out_.resize(frame_);
  // One second of audio buffered before the disk thread must have run.
  pending_.reserve(static_cast<size_t>(rate) * 2);
  writing_.reserve(static_cast<size_t>(rate) * 2);
}

void Recorder::in(const int16_t* pcm, int rate) {
  in_conv_.convert(rate, rate_, pcm, in_.data());
  have_in_ = true;
}

void Recorder::out(const int16_t* pcm, int rate) {
  out_conv_.convert(rate, rate_, pcm, out_.data());
  have_out_ = true;
}

void Recorder::commit() {
  if (!have_in_) std::fill(in_.begin(), in_.end(), 0);
  if (!have_out_) std::fill(out_.begin(), out_.end(), 0);
  have_in_ = have_out_ = false;
  std::lock_guard<std::mutex> lock(mu_);
  if (!writer_) return;
  switch (sides_) {
    case RecordSides::In:
      pending_.insert(pending_.end(), in_.begin(), in_.end());
      break;
    case RecordSides::Out:
      pending_.insert(pending_.end(), out_.begin(), out_.end());
      break;
    case RecordSides::Both:
      for (size_t i = 0; i < frame_; i++) {
        pending_.push_back(in_[i]);
        pending_.push_back(out_[i]);
      }
      break;
  }
  frames_ += frame_;
}

bool Recorder::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!writer_ || failed_) return !failed_;
  writing_.swap(pending_);
  try {
    if (!writing_.empty()) writer_->write(writing_.data(), writing_.size());
  } catch (const std::exception& e) {
    failed_ = true;
    error_ = e.what();
  }
  writing_.clear();
  return !failed_;
}

int64_t Recorder::close() {
  flush();
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_) {
    try {
      writer_->close();
    } catch (const std::exception& e) {
      failed_ = true;
      error_ = e.what();
    }
    writer_.reset();
  }
  return static_cast<int64_t>(frames_ * 1000 / static_cast<uint64_t>(rate_));
}

int64_t Recorder::duration_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(frames_ * 1000 / static_cast<uint64_t>(rate_));
}

}  // namespace parley
