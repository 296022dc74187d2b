// The media engine: one I/O + mixing thread that owns every socket, endpoint,
// conference, player and recorder, plus a disk thread that writes recordings.
//
// Why one thread for I/O and mixing: the receive streams, mixers and encoders are
// then touched by a single thread and need no per-packet locking. The thread waits
// in epoll for datagrams until just before the next 20 ms deadline, then sleeps to
// the deadline itself with clock_nanosleep(TIMER_ABSTIME) and runs the tick.
//
// Control calls come from the JS thread and take the engine lock, which the engine
// thread holds while it handles a batch of datagrams or a tick; they are short.
#pragma once
#include <netinet/in.h>
#include <sys/epoll.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "conference.h"
#include "endpoint.h"
#include "event_queue.h"
#include "media_clock.h"
#include "player.h"
#include "recorder.h"
#include "send_pacer.h"

namespace parley {

/** A refused request; `code` is stable for callers (UNKNOWN_ENDPOINT, PORTS_EXHAUSTED, CLOSED, ...). */
class EngineError : public std::runtime_error {
 public:
  EngineError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct EngineOptions {
  std::string address = "127.0.0.1";
  int port_min = 20000;
  int port_max = 29999;
  int64_t late_tick_us = 2000;
  /** No RTP for this long while receiving raises rtp-timeout; 0 disables. */
  int64_t rtp_timeout_ms = 30000;
  /** Minimum time between two socket passes, so that one wake-up serves many datagrams. */
  int64_t io_coalesce_us = 1000;
  /** SCHED_FIFO priority of the engine thread; 0 = normal scheduling. */
  int realtime_priority = 0;
  /** Outgoing RTP of a tick leaves spread over this long after the deadline (see SendPacer); 0 = at once. */
  int64_t send_spread_us = 0;
  /** The engine thread spins this long before each deadline instead of sleeping (MediaClock::set_spin). */
  int64_t tick_spin_us = 0;
  /** Send each tick's RTP in io_uring batches where the kernel allows it (UdpSender). */
  bool io_uring = true;
};

struct EngineStats {
  ClockStats clock;
  size_t endpoints;
  size_t conferences;
  size_t encoders;
  uint64_t datagrams;
  uint64_t recv_calls;
  uint64_t wakeups;
  /** Socket passes cut short because the tick or a send slot was due; their datagrams were read after it. */
  uint64_t io_deferred;
  /** Packets of a spread that had not left when the next tick began (sent then, late). */
  uint64_t sends_overrun;
  /** Packets built but not yet handed to the kernel: 0 between ticks without a spread. */
  uint64_t sends_waiting;
  /** RTP is sent in io_uring batches (else one sendto per packet). */
  bool io_uring;
  /** RTP datagrams the kernel refused. */
  uint64_t send_errors;
  /** The engine thread runs with real-time priority. */
  bool realtime;
  /** Exceptions caught on the engine thread (bugs); each cost at most one tick or one socket pass. */
  uint64_t internal_errors;
  /** Events dropped because JS did not drain the queue. */
  uint64_t events_dropped;
};

struct EndpointInfo {
  EndpointStats stats;
  std::string conference;
  double level;
  bool talking;
  std::string codec;
};

enum class LinkDirection { Both, In, Out };

class Engine {
 public:
  /** `notify` is called (from any thread) when events become available after the queue was empty. */
  Engine(EngineOptions opts, std::shared_ptr<EventQueue> events, std::function<void()> notify);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  /** Stops the threads, closes recordings and sockets. Idempotent. */
  void close();
  bool closed() const { return closed_; }

  std::pair<uint32_t, int> create_endpoint(bool latching, bool rtcp_mux);
  void configure_endpoint(uint32_t id, const EndpointConfig& cfg);
  void destroy_endpoint(uint32_t id);
  void send_dtmf(uint32_t id, char digit, int duration_ms);

  void create_conference(const std::string& name, int rate, size_t loudest);
  void destroy_conference(const std::string& name);
  void join(const std::string& conf, uint32_t endpoint, const MemberRouting& r);
  void update_routing(const std::string& conf, uint32_t endpoint, const MemberRouting& r);
  void leave(const std::string& conf, uint32_t endpoint);
  void link(const std::string& a, const std::string& b, LinkDirection dir);
  void unlink(const std::string& a, const std::string& b);

  /** Keeps PCM for many plays; players hold it, so releasing a buffer that is playing is safe. */
  uint32_t create_buffer(std::vector<int16_t> pcm, int rate);
  void release_buffer(uint32_t id);
  /** `buffer`: an id from create_buffer, or 0 with `pcm`/`rate` for a one-off copy. */
  uint32_t play_to_endpoint(uint32_t endpoint, std::shared_ptr<const PcmBuffer> pcm, bool loop);
  uint32_t play_to_conference(const std::string& conf, std::shared_ptr<const PcmBuffer> pcm, bool loop);
  std::shared_ptr<const PcmBuffer> buffer(uint32_t id);
  void stop_player(uint32_t id);

  uint32_t record_conference(const std::string& conf, const std::string& path);
  uint32_t record_endpoint(uint32_t endpoint, const std::string& path, RecordSides sides);
  /** Closes the file; returns its duration in ms. */
  int64_t stop_recorder(uint32_t id);

  EndpointInfo endpoint_info(uint32_t id);
  /** Starts a new window of one endpoint's arrival statistics, or of every endpoint's at the same instant. */
  void reset_arrival(uint32_t id);
  void reset_all_arrivals();
  ConferenceStats conference_stats(const std::string& name);
  EngineStats stats();

 private:
  struct EndpointSlot {
    std::unique_ptr<Endpoint> ep;
    Conference* conf = nullptr;
    std::map<uint32_t, std::shared_ptr<Player>> players;
    std::map<uint32_t, std::shared_ptr<Recorder>> recorders;
    std::map<uint32_t, RecordSides> recorder_sides;
    std::unique_ptr<Encoder> encoder;  // own encode when private players make its audio unique
    ConverterSlot out_conv;
    std::vector<int16_t> in, out, tmp, coded;
  };
  struct EncodeKey {
    uint64_t conf;
    uint64_t signature;
    Codec codec;
    int rate;
    bool operator<(const EncodeKey& o) const {
      return std::tie(conf, signature, codec, rate) < std::tie(o.conf, o.signature, o.codec, o.rate);
    }
  };
  struct EncodeChannel {
    std::unique_ptr<Encoder> encoder;
    ConverterSlot conv;
    std::vector<int16_t> pcm;
    uint8_t payload[1500];
    size_t len = 0;
    uint64_t tick = 0;
  };
  struct PlayerHome {
    uint32_t endpoint;  // 0: a conference player
    std::string conference;
  };
  struct RecorderHome {
    uint32_t endpoint;
    std::string conference;
    std::shared_ptr<Recorder> recorder;
  };

  void run();
  void disk_run();
  /** Reads the sockets epoll reported, stopping once the clock reaches `stop_at_ns` (the tick comes first). */
  void handle_io(const epoll_event* evs, int n, int64_t stop_at_ns);
  void tick();
  void outbound(uint32_t id, EndpointSlot& s, int64_t now_ms);
  /** Sends the packets whose slot has come (takes the lock; send_due_locked() with it held). */
  void send_due();
  void send_due_locked();
  void transmit(uint32_t endpoint_id);
  void emit(EngineEvent e);
  void check_open() const;
  EndpointSlot& endpoint(uint32_t id);
  Conference& conference(const std::string& name);
  void drop_links(Conference& c);
  void detach_recorder(uint32_t id, std::vector<std::shared_ptr<Recorder>>& closing);
  void finish_recorders(std::vector<std::pair<uint32_t, std::shared_ptr<Recorder>>>& closing);

  EngineOptions opts_;
  in_addr bind_addr_{};
  std::shared_ptr<EventQueue> events_;
  std::function<void()> notify_;
  std::atomic<bool> running_{true};
  bool closed_ = false;
  std::atomic<bool> realtime_{false};
  std::atomic<uint64_t> internal_errors_{0};  // also counted outside the lock
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  MediaClock clock_;
  std::mutex mu_;  // guards everything below and the objects they own
  std::map<uint32_t, EndpointSlot> endpoints_;
  std::map<std::string, std::unique_ptr<Conference>> conferences_;
  std::map<uint32_t, PlayerHome> players_;
  std::map<uint32_t, RecorderHome> recorders_;
  std::map<uint32_t, std::shared_ptr<const PcmBuffer>> buffers_;
  std::map<EncodeKey, EncodeChannel> encoders_;
  uint32_t next_id_ = 1;
  uint64_t next_conf_uid_ = 1;
  int next_port_;
  uint64_t tick_no_ = 0;
  uint64_t datagrams_ = 0, recv_calls_ = 0;
  uint64_t io_deferred_ = 0;  // socket passes cut short for a tick
  SendPacer pacer_;
  UdpSender sender_;
  SendLead send_lead_;
  std::vector<uint32_t> to_send_;  // endpoints with a packet built this tick, in send order
  uint64_t sends_overrun_ = 0;
  std::atomic<uint64_t> wakeups_{0};  // counted outside the lock
  std::vector<int16_t> silence_;
  std::vector<uint32_t> finished_;
  std::thread thread_;
  std::thread disk_thread_;
  std::mutex disk_mu_;
  std::condition_variable disk_cv_;
};

}  // namespace parley
