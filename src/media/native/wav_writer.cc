#include "wav_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace parley {

namespace {

void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

// WAV sizes are 32-bit; a recording stops growing its header at the limit.
constexpr uint64_t kMaxData = 0xFFFFFFFFull - 36;

void write_all(int fd, const void* data, size_t len, off_t at, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    ssize_t n = at >= 0 ? pwrite(fd, p, len, at) : ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
    p += n;
    len -= static_cast<size_t>(n);
    if (at >= 0) at += n;
  }
}

}  // namespace

WavWriter::WavWriter(const std::string& path, int rate, int channels) : rate_(rate), channels_(channels), path_(path) {
  if (rate < 8000 || rate > 48000) throw std::invalid_argument("WAV rate must be between 8000 and 48000");
  if (channels != 1 && channels != 2) throw std::invalid_argument("WAV channels must be 1 or 2");
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  uint8_t h[44];
  std::memcpy(h, "RIFF", 4);
  put32(h + 4, 36);
  std::memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, 16);
  put16(h + 20, 1);  // PCM
  put16(h + 22, static_cast<uint16_t>(channels));
  put32(h + 24, static_cast<uint32_t>(rate));
  put32(h + 28, static_cast<uint32_t>(rate * channels * 2));
  put16(h + 32, static_cast<uint16_t>(channels * 2));
  put16(h + 34, 16);
  std::memcpy(h + 36, "data", 4);
  put32(h + 40, 0);
  write_all(fd_, h, sizeof h, -1, path_);
}

WavWriter::~WavWriter() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; close() errors are reported when it is called explicitly.
  }
}

void WavWriter::write(const int16_t* samples, size_t count) {
  if (fd_ < 0) throw std::runtime_error("recording " + path_ + " is closed");
  if (count % static_cast<size_t>(channels_) != 0) throw std::invalid_argument("sample count must be a multiple of channels");
  size_t bytes = count * 2;
  if (bytes_ + bytes > kMaxData) throw std::runtime_error("recording " + path_ + " reached the 4 GiB WAV limit");
  // WAV is little-endian, as is every machine this builds for.
  write_all(fd_, samples, bytes, -1, path_);
  bytes_ += bytes;
  since_sync_ += bytes;
  if (since_sync_ >= static_cast<uint64_t>(rate_) * channels_ * 2) {
    fix_header();
    fdatasync(fd_);
    since_sync_ = 0;
  }
}

void WavWriter::fix_header() {
  uint8_t v[4];
  put32(v, static_cast<uint32_t>(36 + bytes_));
  write_all(fd_, v, 4, 4, path_);
  put32(v, static_cast<uint32_t>(bytes_));
  write_all(fd_, v, 4, 40, path_);
}

void WavWriter::close() {
  if (fd_ < 0) return;
  fix_header();
  fdatasync(fd_);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace parley
