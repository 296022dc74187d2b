#include "engine.h"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <chrono>
#include <cstring>

namespace parley {

namespace {
constexpr size_t kMaxFrame = 960;  // 20 ms at 48 kHz
constexpr int kBatch = 32;          // datagrams per recvmmsg
constexpr size_t kDatagram = 1500;
constexpr uint64_t kWakeTag = ~0ULL;
constexpr uint64_t kEncoderIdleTicks = 250;  // 5 s
// A socket pass stops this long before the tick's deadline, leaving the rest for after the tick.
constexpr int64_t kIoStopBeforeDeadlineNs = 300'000;

const char* codec_name(Codec c) {
  switch (c) {
    case Codec::PCMU: return "pcmu";
    case Codec::PCMA: return "pcma";
    case Codec::G722: return "g722";
    case Codec::OPUS: return "opus";
    case Codec::L16: return "l16";
  }
  return "?";
}

int64_t now_ms() { return monotonic_ns() / 1'000'000; }

int64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Room for the SCM_TIMESTAMPNS message (a timespec) and a little more, should the kernel add one.
constexpr size_t kControl = 64;

// Receive buffers of the engine thread, reused for every batch.
struct RecvBatch {
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_in from[kBatch];
  alignas(cmsghdr) uint8_t control[kBatch][kControl];
  uint8_t data[kBatch][kDatagram];
  RecvBatch() {
    for (int i = 0; i < kBatch; i++) {
      iov[i] = {data[i], kDatagram};
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  void reset() {
    for (int i = 0; i < kBatch; i++) {
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_control = control[i];
      msgs[i].msg_hdr.msg_controllen = kControl;
      msgs[i].msg_hdr.msg_flags = 0;
    }
  }
  /** The kernel's receive time of datagram k on CLOCK_REALTIME (SO_TIMESTAMPNS), or -1 when it has none. */
  int64_t kernel_time(int k) {
    msghdr& h = msgs[k].msg_hdr;
    if (h.msg_flags & MSG_CTRUNC) return -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      if (c->cmsg_len < CMSG_LEN(sizeof(timespec))) return -1;
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
    return -1;
  }
};
}  // namespace

Engine::Engine(EngineOptions opts, std::shared_ptr<EventQueue> events, std::function<void()> notify)
    : opts_(std::move(opts)),
      events_(std::move(events)),
      notify_(std::move(notify)),
      clock_(20'000'000, opts_.late_tick_us * 1000) {
  if (inet_pton(AF_INET, opts_.address.c_str(), &bind_addr_) != 1)
    throw EngineError("BAD_ARGUMENT", "address must be an IPv4 address, got '" + opts_.address + "'");
  if (opts_.port_min < 1024 || opts_.port_max > 65535 || opts_.port_min > opts_.port_max)
    throw EngineError("BAD_ARGUMENT", "the RTP port range must lie within 1024-65535 with portMin <= portMax");
  if (opts_.late_tick_us < 0) throw EngineError("BAD_ARGUMENT", "lateTickMs must not be negative");
  clock_.set_spin(opts_.tick_spin_us * 1000);
  if (opts_.io_uring) sender_.open_ring();
  next_port_ = opts_.port_min + (opts_.port_min & 1);
  silence_.assign(kMaxFrame, 0);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    throw EngineError("SYSTEM", std::string("cannot create the engine's poller: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { run(); });
  disk_thread_ = std::thread([this] { disk_run(); });
}

Engine::~Engine() { close(); }

void Engine::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  running_ = false;
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    // The thread still sees running_ == false at its next deadline, at most 20 ms later.
  }
  {
    std::lock_guard<std::mutex> lock(disk_mu_);
    disk_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (disk_thread_.joinable()) disk_thread_.join();
  // Both threads are gone: everything below is ours alone.
  for (auto& [id, home] : recorders_) home.recorder->close();
  recorders_.clear();
  players_.clear();
  buffers_.clear();
  conferences_.clear();
  for (auto& [id, s] : endpoints_) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.ep->rtp_fd(), nullptr);
    if (s.ep->rtcp_fd() >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.ep->rtcp_fd(), nullptr);
  }
  endpoints_.clear();
  encoders_.clear();
  ::close(epoll_fd_);
  ::close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
}

void Engine::check_open() const {
  if (closed_) throw EngineError("CLOSED", "the media engine is closed");
}

void Engine::emit(EngineEvent e) {
  if (events_->push(std::move(e)) && notify_) notify_();
}

Engine::EndpointSlot& Engine::endpoint(uint32_t id) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) throw EngineError("UNKNOWN_ENDPOINT", "no endpoint " + std::to_string(id));
  return it->second;
}

Conference& Engine::conference(const std::string& name) {
  auto it = conferences_.find(name);
  if (it == conferences_.end()) throw EngineError("UNKNOWN_CONFERENCE", "no conference '" + name + "'");
  return *it->second;
}

// ───────────────────────────── threads ─────────────────────────────

void Engine::run() {
  epoll_event evs[256];
  if (opts_.realtime_priority > 0) {
    // Ticks must not wait behind ordinary processes on a busy machine. Needs CAP_SYS_NICE or an rtprio limit;
    // without them the engine runs at normal priority and says so in its stats.
    sched_param sp{};
    sp.sched_priority = opts_.realtime_priority;
    realtime_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
  }
  clock_.start();
  // Time the engine's own work (socket passes, the last tick) ran past the coming deadline: the part
  // of a late tick's delay that is not the OS's.
  int64_t busy_past_deadline = 0;
  auto worked = [&](int64_t from, int64_t to) {
    int64_t deadline = clock_.next_deadline();
    if (to > deadline) busy_past_deadline += to - (from > deadline ? from : deadline);
  };
  while (running_) {
    int64_t now = monotonic_ns();
    int64_t deadline = clock_.next_deadline();
    int64_t send_at = pacer_.next_due();
    if (send_at <= now) {
      send_due();
      worked(now, monotonic_ns());
      continue;
    }
    // Wait for datagrams until half a millisecond before the deadline or until the next send slot
    // (epoll counts whole ms; the last part is slept on the absolute clock).
    int64_t wake_at = std::min(deadline - 500'000, send_at);
    int64_t wait_ms = (wake_at - now) / 1'000'000;
    int n = epoll_wait(epoll_fd_, evs, 256, wait_ms >= 1 ? static_cast<int>(wait_ms) : 0);
    if (!running_) break;
    if (n > 0) {
      int64_t io_start = monotonic_ns();
      wakeups_++;
      try {
        handle_io(evs, n, std::min(deadline - kIoStopBeforeDeadlineNs, send_at));
      } catch (const std::exception&) {
        // Input is validated where it enters; an exception here is a bug, which must cost one batch, not the process.
        internal_errors_++;
      }
      worked(io_start, monotonic_ns());
      // Let datagrams gather for a moment: one pass per millisecond over many sockets costs far fewer
      // wake-ups than one per packet. Arrival times do not suffer: each datagram carries the kernel's.
      int64_t resume = io_start + opts_.io_coalesce_us * 1000;
      if (resume < wake_at) {
        timespec ts{static_cast<time_t>(resume / 1'000'000'000), static_cast<long>(resume % 1'000'000'000)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
      }
    }
    now = monotonic_ns();
    if (deadline - now > 500'000) {
      if (send_at < deadline - 500'000) {
        // A send slot comes before the tick: sleep the last part of the way to it precisely.
        if (send_at > now && send_at - now < 1'000'000) {
          timespec ts{static_cast<time_t>(send_at / 1'000'000'000), static_cast<long>(send_at % 1'000'000'000)};
          clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        }
        continue;
      }
      if (wait_ms >= 1) continue;
    }
    clock_.sleep_until_deadline();
    int64_t woke = monotonic_ns();
    std::lock_guard<std::mutex> lock(mu_);
    clock_.begin_tick(busy_past_deadline, woke);
    busy_past_deadline = 0;
    try {
      tick();
    } catch (const std::exception&) {
      internal_errors_++;  // as above: one tick lost, the engine keeps its clock
    }
    clock_.end_tick();
    worked(clock_.tick_started(), monotonic_ns());
  }
}

void Engine::send_due() {
  std::lock_guard<std::mutex> lock(mu_);
  send_due_locked();
}

void Engine::send_due_locked() {
  pacer_.send_due(monotonic_ns(), [this](uint32_t id) { transmit(id); });
  sender_.flush();
}

void Engine::transmit(uint32_t id) {
  auto it = endpoints_.find(id);  // it may have gone since its packet was built
  if (it != endpoints_.end()) it->second.ep->transmit(sender_);
}

void Engine::handle_io(const epoll_event* evs, int m, int64_t stop_at_ns) {
  static thread_local RecvBatch batch;
  std::lock_guard<std::mutex> lock(mu_);
  // One engine-clock time for the whole batch: the fallback when a datagram has no kernel time.
  // It lags the real arrival by the epoll wake-up, the coalescing sleep and the wait for the lock.
  int64_t batch_ns = monotonic_ns();
  // Kernel receive times are on CLOCK_REALTIME; this offset brings them onto the engine's clock.
  int64_t real_offset = realtime_ns() - batch_ns;
  for (int i = 0; i < m; i++) {
    // A burst of datagrams just before the deadline must not delay the tick: what is left stays in the
    // socket buffers (epoll reports it again) and keeps its kernel receive time for the statistics.
    if ((i & 7) == 7 && monotonic_ns() >= stop_at_ns) {
      io_deferred_++;
      break;
    }
    uint64_t tag = evs[i].data.u64;
    if (tag == kWakeTag) continue;
    auto it = endpoints_.find(static_cast<uint32_t>(tag >> 1));
    if (it == endpoints_.end()) continue;
    Endpoint& ep = *it->second.ep;
    bool rtcp = (tag & 1) != 0;
    int fd = rtcp ? ep.rtcp_fd() : ep.rtp_fd();
    for (int rounds = 0; rounds < 8; rounds++) {
      batch.reset();
      int got = recvmmsg(fd, batch.msgs, kBatch, MSG_DONTWAIT, nullptr);
      recv_calls_++;
      if (got <= 0) break;
      for (int k = 0; k < got; k++) {
        datagrams_++;
        const sockaddr_in& from = batch.from[k];
        if (batch.msgs[k].msg_hdr.msg_namelen != sizeof(sockaddr_in) || from.sin_family != AF_INET) continue;
        int64_t arrival = batch_ns;
        bool kernel = false;
        int64_t real = batch.kernel_time(k);
        if (real > 0) {
          int64_t mono = real - real_offset;
          // A wall-clock step between the datagram and now would misplace it: then the batch time stands.
          if (mono > batch_ns - 5'000'000'000LL && mono < batch_ns + 5'000'000'000LL) {
            arrival = mono;
            kernel = true;
          }
        }
        if (ep.on_datagram(batch.data[k], batch.msgs[k].msg_len, from, rtcp, arrival, kernel)) {
          char addr[INET_ADDRSTRLEN];
          inet_ntop(AF_INET, &from.sin_addr, addr, sizeof addr);
          EngineEvent e(EventType::SourceLatched);
          e.id = ep.id();
          e.address = addr;
          e.port = ntohs(from.sin_port);
          emit(std::move(e));
        }
      }
      if (got < kBatch) break;
    }
  }
}

void Engine::disk_run() {
  std::set<uint32_t> failed;
  std::unique_lock<std::mutex> dl(disk_mu_);
  while (running_) {
    disk_cv_.wait_for(dl, std::chrono::milliseconds(200));
    std::vector<std::pair<uint32_t, std::shared_ptr<Recorder>>> live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [id, home] : recorders_) live.emplace_back(id, home.recorder);
    }
    for (auto& [id, r] : live) {
      if (!r->flush() && failed.insert(id).second) {
        EngineEvent e(EventType::Recorder);
        e.id = id;
        e.state = "error";
        e.duration_ms = r->duration_ms();
        emit(std::move(e));
      }
    }
  }
}

// ───────────────────────────── the tick ─────────────────────────────

void Engine::tick() {
  int64_t now = now_ms();
  tick_no_++;
  // Packets of the last tick that have not left yet go now, before this tick builds the next ones.
  sends_overrun_ += pacer_.flush([this](uint32_t id) { transmit(id); });
  sender_.flush();
  // 1. Inbound: one frame per endpoint, DTMF, timeouts, RTCP, input taps, into the conferences.
  for (auto& [id, s] : endpoints_) {
    Endpoint& ep = *s.ep;
    if (!ep.configured()) continue;
    FrameKind kind = ep.pull(s.in.data(), now);
    int rate = ep.rx_rate();
    for (const DtmfEvent& d : ep.take_dtmf()) {
      EngineEvent e(EventType::Dtmf);
      e.id = id;
      e.digit = d.digit;
      e.duration_ms = static_cast<int64_t>(d.duration) * 1000 / ep.telephone_event_rate();
      emit(std::move(e));
    }
    if (ep.timed_out(now, opts_.rtp_timeout_ms)) {
      EngineEvent e(EventType::RtpTimeout);
      e.id = id;
      emit(std::move(e));
    }
    ep.maybe_send_rtcp(now);
    for (auto& [rid, r] : s.recorders)
      if (s.recorder_sides[rid] != RecordSides::Out) r->in(s.in.data(), rate);
    if (s.conf) {
      VadResult v = s.conf->feed(id, s.in.data(), rate, kind);
      if (v.changed) {
        EngineEvent e(EventType::Talking);
        e.id = id;
        e.talking = v.talking;
        e.level = v.level;
        emit(std::move(e));
      }
    }
  }
  // 2. Conferences, in name order; a link's export lands in the other side's inbox for its next mix.
  for (auto& [name, cp] : conferences_) {
    Conference& c = *cp;
    int64_t t0 = monotonic_ns();
    finished_.clear();
    c.tick(finished_);
    for (uint32_t pid : finished_) {
      c.remove_player(pid);
      players_.erase(pid);
      EngineEvent e(EventType::Player);
      e.id = pid;
      e.state = "finished";
      emit(std::move(e));
    }
    for (auto& [other, l] : c.links()) {
      if (!l.speaks) continue;
      auto peer = conferences_.find(other);
      if (peer == conferences_.end()) continue;
      auto back = peer->second->links().find(name);
      if (back == peer->second->links().end()) continue;
      const MixGroup* g = c.mix_for(l.member);
      back->second.export_conv.convert(c.rate(), peer->second->rate(), g ? g->pcm : silence_.data(),
                                       back->second.inbox.data());
      back->second.have_inbox = true;
    }
    for (auto& [rid, r] : c.recorders()) {
      const MixGroup* g = c.mix_for(rid);
      r->in(g ? g->pcm : silence_.data(), c.rate());
      r->commit();
    }
    c.record_tick_time((monotonic_ns() - t0) / 1000, clock_.last_late());
  }
  // 3. Outbound: each endpoint's mix (shared encode) or private audio (own encode), then its taps.
  for (auto& [id, s] : endpoints_) {
    outbound(id, s, now);
    if (s.ep->has_pending()) to_send_.push_back(id);
  }
  int64_t spread = opts_.send_spread_us * 1000;
  int64_t start = clock_.tick_deadline();
  if (spread > 0) {
    send_lead_.record(monotonic_ns() - start, clock_.last_late());
    // The whole window must end well before the next tick.
    start += send_lead_.lead(18'000'000 - spread);
  }
  pacer_.start(start, spread, to_send_);
  send_due_locked();
  // 4. Encoders nobody used for a while go (a group that no longer exists).
  if (tick_no_ % kEncoderIdleTicks == 0) {
    for (auto it = encoders_.begin(); it != encoders_.end();)
      it = tick_no_ - it->second.tick > kEncoderIdleTicks ? encoders_.erase(it) : std::next(it);
  }
}

void Engine::outbound(uint32_t id, EndpointSlot& s, int64_t now) {
  (void)now;
  Endpoint& ep = *s.ep;
  const SendConfig& sc = ep.send_config();
  int base_rate = s.conf ? s.conf->rate() : (ep.configured() ? sc.rate : 8000);
  const int16_t* base = silence_.data();
  uint64_t signature = 0, conf_uid = 0;
  if (s.conf) {
    conf_uid = s.conf->uid();
    if (const MixGroup* g = s.conf->mix_for(id)) {
      base = g->pcm;
      signature = g->signature;
    } else {
      signature = 1;  // deaf: silence, shared with the other deaf members
    }
  }
  const int16_t* out_pcm = base;
  size_t frame = static_cast<size_t>(base_rate / 50);
  if (!s.players.empty()) {
    // Private audio: the mix plus this endpoint's own prompts.
    std::copy(base, base + frame, s.out.begin());
    for (auto it = s.players.begin(); it != s.players.end();) {
      it->second->read(s.tmp.data(), base_rate);
      for (size_t i = 0; i < frame; i++) s.out[i] = soft_limit(s.out[i] + s.tmp[i]);
      if (it->second->finished()) {
        EngineEvent e(EventType::Player);
        e.id = it->first;
        e.state = "finished";
        emit(std::move(e));
        players_.erase(it->first);
        it = s.players.erase(it);
      } else {
        ++it;
      }
    }
    out_pcm = s.out.data();
    if (ep.sends() && s.encoder) {
      s.out_conv.convert(base_rate, sc.rate, out_pcm, s.tmp.data());
      uint8_t payload[1500];
      size_t n = s.encoder->encode(s.tmp.data(), static_cast<size_t>(sc.rate / 50), payload, sizeof payload);
      ep.send_frame(payload, n);
    } else {
      ep.send_frame(nullptr, 0);
    }
  } else if (ep.sends()) {
    EncodeKey key{conf_uid, signature, sc.codec, sc.rate};
    auto it = encoders_.find(key);
    if (it == encoders_.end()) {
      it = encoders_.emplace(key, EncodeChannel{}).first;
      it->second.encoder = make_encoder(sc.codec, sc.rate);
      it->second.pcm.assign(kMaxFrame, 0);
    }
    EncodeChannel& ch = it->second;
    if (ch.tick != tick_no_) {
      ch.conv.convert(base_rate, sc.rate, out_pcm, ch.pcm.data());
      ch.len = ch.encoder->encode(ch.pcm.data(), static_cast<size_t>(sc.rate / 50), ch.payload, sizeof ch.payload);
      ch.tick = tick_no_;
    }
    ep.send_frame(ch.payload, ch.len);
  } else {
    ep.send_frame(nullptr, 0);
  }
  for (auto& [rid, r] : s.recorders) {
    if (s.recorder_sides[rid] != RecordSides::In) r->out(out_pcm, base_rate);
    r->commit();
  }
}

// ───────────────────────────── endpoints ─────────────────────────────

namespace {
int bind_udp(in_addr addr, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw EngineError("SYSTEM", std::string("socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = addr;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    // The kernel's receive time on every datagram: arrival statistics and the RFC 3550 jitter then
    // measure the network, not the engine's batching. Where it is refused, the engine's clock stands in.
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    return fd;
  }
  int err = errno;
  ::close(fd);
  if (err == EADDRINUSE || err == EACCES) return -1;
  throw EngineError("SYSTEM", "cannot bind UDP port " + std::to_string(port) + ": " + std::strerror(err));
}
}  // namespace

std::pair<uint32_t, int> Engine::create_endpoint(bool latching, bool rtcp_mux) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  int lo = opts_.port_min + (opts_.port_min & 1);
  int span = (opts_.port_max - lo) / 2 + 1;
  for (int tried = 0; tried < span; tried++) {
    int port = next_port_;
    next_port_ += 2;
    if (next_port_ > opts_.port_max || (!rtcp_mux && next_port_ + 1 > opts_.port_max)) next_port_ = lo;
    if (port > opts_.port_max || (!rtcp_mux && port + 1 > opts_.port_max)) continue;
    int rtp = bind_udp(bind_addr_, port);
    if (rtp < 0) continue;
    int rtcp = -1;
    if (!rtcp_mux) {
      rtcp = bind_udp(bind_addr_, port + 1);
      if (rtcp < 0) {
        ::close(rtp);
        continue;
      }
    }
    uint32_t id = next_id_++;
    EndpointSlot& s = endpoints_[id];
    s.ep = std::make_unique<Endpoint>(id, rtp, rtcp, port, latching);
    s.in.assign(kMaxFrame, 0);
    s.out.assign(kMaxFrame, 0);
    s.tmp.assign(kMaxFrame, 0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(id) << 1;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, rtp, &ev);
    if (rtcp >= 0) {
      ev.data.u64 = (static_cast<uint64_t>(id) << 1) | 1;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, rtcp, &ev);
    }
    return {id, port};
  }
  throw EngineError("PORTS_EXHAUSTED", "no free RTP port" + std::string(rtcp_mux ? "" : " pair") + " in " +
                                           std::to_string(opts_.port_min) + "-" + std::to_string(opts_.port_max) +
                                           " on " + opts_.address);
}

void Engine::configure_endpoint(uint32_t id, const EndpointConfig& cfg) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  EndpointSlot& s = endpoint(id);
  std::unique_ptr<Encoder> enc;
  try {
    enc = make_encoder(cfg.send.codec, cfg.send.rate);
    if (enc->rate() != cfg.send.rate) throw std::invalid_argument("the send rate does not match the codec's rate");
    s.ep->configure(cfg, now_ms());
  } catch (const EngineError&) {
    throw;
  } catch (const std::exception& e) {
    throw EngineError("BAD_ARGUMENT", e.what());
  }
  s.encoder = std::move(enc);
}

void Engine::destroy_endpoint(uint32_t id) {
  std::vector<std::pair<uint32_t, std::shared_ptr<Recorder>>> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    check_open();
    EndpointSlot& s = endpoint(id);
    if (s.conf) s.conf->remove_member(id);
    for (auto& [pid, p] : s.players) {
      players_.erase(pid);
      EngineEvent e(EventType::Player);
      e.id = pid;
      e.state = "stopped";
      emit(std::move(e));
    }
    for (auto& [rid, r] : s.recorders) {
      closing.emplace_back(rid, r);
      recorders_.erase(rid);
    }
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.ep->rtp_fd(), nullptr);
    if (s.ep->rtcp_fd() >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.ep->rtcp_fd(), nullptr);
    endpoints_.erase(id);
  }
  finish_recorders(closing);
}

void Engine::finish_recorders(std::vector<std::pair<uint32_t, std::shared_ptr<Recorder>>>& closing) {
  // Outside the lock: closing syncs the file to disk.
  for (auto& [rid, r] : closing) {
    EngineEvent e(EventType::Recorder);
    e.id = rid;
    e.duration_ms = r->close();
    e.state = r->failed() ? "error" : "stopped";
    emit(std::move(e));
  }
}

void Engine::send_dtmf(uint32_t id, char digit, int duration_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  EndpointSlot& s = endpoint(id);
  if (!s.ep->configured()) throw EngineError("NOT_CONFIGURED", "endpoint " + std::to_string(id) + " is not configured");
  try {
    s.ep->send_dtmf(digit, duration_ms);
  } catch (const std::invalid_argument& e) {
    throw EngineError("BAD_ARGUMENT", e.what());
  }
}

// ───────────────────────────── conferences ─────────────────────────────

void Engine::create_conference(const std::string& name, int rate, size_t loudest) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  if (name.empty()) throw EngineError("BAD_ARGUMENT", "a conference needs a name");
  if (conferences_.count(name)) throw EngineError("CONFERENCE_EXISTS", "conference '" + name + "' already exists");
  try {
    conferences_[name] = std::make_unique<Conference>(name, next_conf_uid_++, rate, loudest);
  } catch (const std::invalid_argument& e) {
    throw EngineError("BAD_ARGUMENT", e.what());
  }
}

void Engine::drop_links(Conference& c) {
  for (auto& [other, l] : c.links()) {
    auto peer = conferences_.find(other);
    if (peer != conferences_.end()) peer->second->remove_link(c.name());
  }
}

void Engine::destroy_conference(const std::string& name) {
  std::vector<std::pair<uint32_t, std::shared_ptr<Recorder>>> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    check_open();
    Conference& c = conference(name);
    for (auto& [id, s] : endpoints_)
      if (s.conf == &c) s.conf = nullptr;
    for (auto it = players_.begin(); it != players_.end();) {
      if (it->second.endpoint != 0 || it->second.conference != name) {
        ++it;
        continue;
      }
      EngineEvent e(EventType::Player);
      e.id = it->first;
      e.state = "stopped";
      emit(std::move(e));
      it = players_.erase(it);
    }
    for (auto& [rid, r] : c.recorders()) {
      closing.emplace_back(rid, r);
      recorders_.erase(rid);
    }
    drop_links(c);
    conferences_.erase(name);
  }
  finish_recorders(closing);
}

void Engine::join(const std::string& conf, uint32_t id, const MemberRouting& r) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  Conference& c = conference(conf);
  EndpointSlot& s = endpoint(id);
  if (s.conf == &c) throw EngineError("ALREADY_MEMBER", "endpoint " + std::to_string(id) + " is already in '" + conf + "'");
  if (s.conf)
    throw EngineError("ALREADY_MEMBER",
                      "endpoint " + std::to_string(id) + " is in conference '" + s.conf->name() + "'; leave it first");
  c.add_member(id, r);
  s.conf = &c;
}

void Engine::update_routing(const std::string& conf, uint32_t id, const MemberRouting& r) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  Conference& c = conference(conf);
  endpoint(id);
  if (!c.has_member(id)) throw EngineError("NOT_MEMBER", "endpoint " + std::to_string(id) + " is not in '" + conf + "'");
  c.update_member(id, r);
}

void Engine::leave(const std::string& conf, uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  Conference& c = conference(conf);
  EndpointSlot& s = endpoint(id);
  if (s.conf != &c) throw EngineError("NOT_MEMBER", "endpoint " + std::to_string(id) + " is not in '" + conf + "'");
  c.remove_member(id);
  s.conf = nullptr;
}

void Engine::link(const std::string& a, const std::string& b, LinkDirection dir) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  if (a == b) throw EngineError("BAD_ARGUMENT", "a conference cannot be linked to itself");
  Conference& ca = conference(a);
  Conference& cb = conference(b);
  if (ca.has_link(b)) throw EngineError("ALREADY_LINKED", "'" + a + "' and '" + b + "' are already linked");
  bool a_hears_b = dir != LinkDirection::Out;
  bool b_hears_a = dir != LinkDirection::In;
  LinkEnd ea;
  ea.member = next_id_++;
  ea.hears = a_hears_b;
  ea.speaks = b_hears_a;
  LinkEnd eb;
  eb.member = next_id_++;
  eb.hears = b_hears_a;
  eb.speaks = a_hears_b;
  ca.add_link(b, std::move(ea));
  cb.add_link(a, std::move(eb));
}

void Engine::unlink(const std::string& a, const std::string& b) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  Conference& ca = conference(a);
  Conference& cb = conference(b);
  if (!ca.has_link(b)) throw EngineError("NOT_LINKED", "'" + a + "' and '" + b + "' are not linked");
  ca.remove_link(b);
  cb.remove_link(a);
}

// ───────────────────────────── players and recorders ─────────────────────────────

uint32_t Engine::create_buffer(std::vector<int16_t> pcm, int rate) {
  std::shared_ptr<const PcmBuffer> b;
  try {
    b = std::make_shared<const PcmBuffer>(std::move(pcm), rate);
  } catch (const std::invalid_argument& e) {
    throw EngineError("BAD_ARGUMENT", e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  uint32_t id = next_id_++;
  buffers_[id] = std::move(b);
  return id;
}

void Engine::release_buffer(uint32_t id) {
  std::shared_ptr<const PcmBuffer> last;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  auto it = buffers_.find(id);
  if (it == buffers_.end()) throw EngineError("UNKNOWN_BUFFER", "no PCM buffer " + std::to_string(id));
  last = std::move(it->second);
  buffers_.erase(it);
}

std::shared_ptr<const PcmBuffer> Engine::buffer(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  auto it = buffers_.find(id);
  if (it == buffers_.end()) throw EngineError("UNKNOWN_BUFFER", "no PCM buffer " + std::to_string(id));
  return it->second;
}

uint32_t Engine::play_to_endpoint(uint32_t ep, std::shared_ptr<const PcmBuffer> pcm, bool loop) {
  auto p = std::make_shared<Player>(std::move(pcm), loop);
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  EndpointSlot& s = endpoint(ep);
  uint32_t id = next_id_++;
  s.players[id] = std::move(p);
  players_[id] = PlayerHome{ep, {}};
  return id;
}

uint32_t Engine::play_to_conference(const std::string& conf, std::shared_ptr<const PcmBuffer> pcm, bool loop) {
  auto p = std::make_shared<Player>(std::move(pcm), loop);
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  Conference& c = conference(conf);
  uint32_t id = next_id_++;
  c.add_player(id, std::move(p));
  players_[id] = PlayerHome{0, conf};
  return id;
}

void Engine::stop_player(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  auto it = players_.find(id);
  if (it == players_.end()) throw EngineError("UNKNOWN_PLAYER", "no player " + std::to_string(id) + " is playing");
  if (it->second.endpoint != 0) {
    auto ep = endpoints_.find(it->second.endpoint);
    if (ep != endpoints_.end()) ep->second.players.erase(id);
  } else {
    auto c = conferences_.find(it->second.conference);
    if (c != conferences_.end()) c->second->remove_player(id);
  }
  players_.erase(it);
  EngineEvent e(EventType::Player);
  e.id = id;
  e.state = "stopped";
  emit(std::move(e));
}

uint32_t Engine::record_conference(const std::string& conf, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  Conference& c = conference(conf);
  std::shared_ptr<Recorder> r;
  try {
    r = std::make_shared<Recorder>(path, c.rate(), RecordSides::In);
  } catch (const std::exception& e) {
    throw EngineError("RECORDING_FAILED", e.what());
  }
  uint32_t id = next_id_++;
  c.add_recorder(id, r);
  recorders_[id] = RecorderHome{0, conf, r};
  return id;
}

uint32_t Engine::record_endpoint(uint32_t ep, const std::string& path, RecordSides sides) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  EndpointSlot& s = endpoint(ep);
  // The conference's rate when in one (what the mix runs at), else the codec's.
  int rate = s.conf ? s.conf->rate() : (s.ep->configured() ? s.ep->send_config().rate : 8000);
  std::shared_ptr<Recorder> r;
  try {
    r = std::make_shared<Recorder>(path, rate, sides);
  } catch (const std::exception& e) {
    throw EngineError("RECORDING_FAILED", e.what());
  }
  uint32_t id = next_id_++;
  s.recorders[id] = r;
  s.recorder_sides[id] = sides;
  recorders_[id] = RecorderHome{ep, {}, r};
  return id;
}

int64_t Engine::stop_recorder(uint32_t id) {
  std::vector<std::pair<uint32_t, std::shared_ptr<Recorder>>> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    check_open();
    auto it = recorders_.find(id);
    if (it == recorders_.end()) throw EngineError("UNKNOWN_RECORDER", "no recorder " + std::to_string(id) + " is running");
    RecorderHome& home = it->second;
    if (home.endpoint != 0) {
      auto ep = endpoints_.find(home.endpoint);
      if (ep != endpoints_.end()) {
        ep->second.recorders.erase(id);
        ep->second.recorder_sides.erase(id);
      }
    } else {
      auto c = conferences_.find(home.conference);
      if (c != conferences_.end()) c->second->remove_recorder(id);
    }
    closing.emplace_back(id, home.recorder);
    recorders_.erase(it);
  }
  finish_recorders(closing);
  return closing.front().second->duration_ms();
}

// ───────────────────────────── stats ─────────────────────────────

EndpointInfo Engine::endpoint_info(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  EndpointSlot& s = endpoint(id);
  EndpointInfo info{s.ep->stats(), "", -100, false, s.ep->configured() ? codec_name(s.ep->send_config().codec) : ""};
  if (s.conf) {
    info.conference = s.conf->name();
    auto m = s.conf->members().find(id);
    if (m != s.conf->members().end()) {
      info.level = m->second.level;
      info.talking = m->second.talking;
    }
  }
  return info;
}

ConferenceStats Engine::conference_stats(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  return conference(name).stats();
}

void Engine::reset_arrival(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  endpoint(id).ep->reset_arrival();
}

void Engine::reset_all_arrivals() {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  for (auto& [id, s] : endpoints_) s.ep->reset_arrival();
}

EngineStats Engine::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  check_open();
  EngineStats s{};
  s.clock = clock_.stats();
  s.endpoints = endpoints_.size();
  s.conferences = conferences_.size();
  s.encoders = encoders_.size();
  s.datagrams = datagrams_;
  s.recv_calls = recv_calls_;
  s.wakeups = wakeups_;
  s.io_deferred = io_deferred_;
  s.sends_overrun = sends_overrun_;
  s.sends_waiting = pacer_.waiting() + sender_.queued();
  s.io_uring = sender_.batched();
  s.send_errors = sender_.errors();
  s.realtime = realtime_;
  s.internal_errors = internal_errors_;
  s.events_dropped = events_->dropped();
  return s;
}

}  // namespace parley
