#include "player.h"

#include <algorithm>
#include <stdexcept>

namespace parley {

FrameConverter::FrameConverter(int in_rate, int out_rate) : in_rate_(in_rate), out_rate_(out_rate) {
  if (in_rate != out_rate) {
    resampler_ = std::make_unique<Resampler>(in_rate, out_rate);
    pending_.reserve(static_cast<size_t>(out_rate / 25 + 64));
    scratch_.resize(static_cast<size_t>(out_rate / 50 + 64));
  }
}

void FrameConverter::convert(const int16_t* in, int16_t* out) {
  size_t in_n = static_cast<size_t>(in_rate_ / 50), out_n = static_cast<size_t>(out_rate_ / 50);
  if (!resampler_) {
    std::copy(in, in + in_n, out);
    return;
  }
  size_t got = resampler_->process(in, in_n, scratch_.data(), scratch_.size());
  pending_.insert(pending_.end(), scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(got));
  // Only while the filter fills (first frame): pad in front so the frame is whole.
  if (pending_.size() < out_n) pending_.insert(pending_.begin(), out_n - pending_.size(), 0);
  std::copy(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(out_n), out);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(out_n));
  // Never let rounding accumulate latency: keep at most one frame of carry-over.
  if (pending_.size() > out_n) pending_.erase(pending_.begin(), pending_.end() - static_cast<std::ptrdiff_t>(out_n));
}

void ConverterSlot::convert(int in_rate, int out_rate, const int16_t* in, int16_t* out) {
  if (!conv_ || conv_->in_rate() != in_rate || conv_->out_rate() != out_rate)
    conv_ = std::make_unique<FrameConverter>(in_rate, out_rate);
  conv_->convert(in, out);
}

PcmBuffer::PcmBuffer(std::vector<int16_t> pcm, int r) : samples(std::move(pcm)), rate(r) {
  if (r != 8000 && r != 16000 && r != 24000 && r != 32000 && r != 44100 && r != 48000)
    throw std::invalid_argument("player rate must be 8000, 16000, 24000, 32000, 44100 or 48000");
  if (samples.empty()) throw std::invalid_argument("nothing to play: the PCM buffer is empty");
}

Player::Player(std::shared_ptr<const PcmBuffer> pcm, bool loop)
    : buffer_(std::move(pcm)), pcm_(buffer_->samples), rate_(buffer_->rate), loop_(loop) {
  // Every accepted rate has a whole 20 ms frame (44.1 kHz: 882 samples).
  frame_.resize(static_cast<size_t>(rate_ / 50));
}

bool Player::read(int16_t* out, int out_rate) {
  size_t n = frame_.size();
  if (finished_) {
    std::fill(out, out + out_rate / 50, 0);
    return false;
  }
  size_t filled = 0;
  while (filled < n) {
    if (pos_ >= pcm_.size()) {
      if (!loop_) break;
      pos_ = 0;
    }
    size_t take = std::min(n - filled, pcm_.size() - pos_);
    std::copy(pcm_.begin() + static_cast<std::ptrdiff_t>(pos_), pcm_.begin() + static_cast<std::ptrdiff_t>(pos_ + take),
              frame_.begin() + static_cast<std::ptrdiff_t>(filled));
    filled += take;
    pos_ += take;
  }
  std::fill(frame_.begin() + static_cast<std::ptrdiff_t>(filled), frame_.end(), 0);
  if (!loop_ && pos_ >= pcm_.size()) finished_ = true;
  conv_.convert(rate_, out_rate, frame_.data(), out);
  return true;
}

}  // namespace parley
