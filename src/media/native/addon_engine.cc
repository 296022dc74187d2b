// Node-API surface of the media engine: one MediaEngine object per engine. Every id
// crossing this boundary is a number (endpoints, players, recorders) or a string
// (conferences); no JS object stands for an engine-side object, so nothing here can
// outlive or be outlived by the engine. Events come back in batches: one
// thread-safe-function call drains everything queued since the last.
#include <napi.h>
#include <arpa/inet.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine.h"

namespace parley {

namespace {

Napi::Error coded_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Value().Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] void bad(Napi::Env env, const std::string& message) { throw coded_error(env, "BAD_ARGUMENT", message); }

uint32_t id_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) bad(info.Env(), std::string(what) + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<uint32_t>(v)))
    bad(info.Env(), std::string(what) + " must be a non-negative integer");
  return static_cast<uint32_t>(v);
}

std::string str_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) bad(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

int int_field(Napi::Env env, const Napi::Object& o, const char* key, int min, int max, std::optional<int> fallback = {}) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && fallback) return *fallback;
  if (!v.IsNumber()) bad(env, std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<int>(d)))
    bad(env, std::string(key) + " must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
  return static_cast<int>(d);
}

sockaddr_in address(Napi::Env env, const std::string& ip, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) != 1) bad(env, "remote address must be an IPv4 address: " + ip);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  return sa;
}

Codec codec_arg(Napi::Env env, const Napi::Value& v) {
  if (!v.IsString()) bad(env, "codec must be one of pcmu, pcma, g722, opus, l16");
  try {
    return codec_from_name(v.As<Napi::String>().Utf8Value());
  } catch (const std::invalid_argument& e) {
    bad(env, e.what());
  }
}

std::optional<std::set<uint32_t>> id_set(Napi::Env env, const Napi::Value& v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsArray()) bad(env, std::string(what) + " must be an array of endpoint ids or null");
  auto arr = v.As<Napi::Array>();
  std::set<uint32_t> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsNumber()) bad(env, std::string(what) + " must hold endpoint ids");
    out.insert(e.As<Napi::Number>().Uint32Value());
  }
  return out;
}

MemberRouting routing_arg(Napi::Env env, const Napi::Value& v) {
  MemberRouting r;
  if (v.IsUndefined() || v.IsNull()) return r;
  if (!v.IsObject()) bad(env, "routing must be an object");
  auto o = v.As<Napi::Object>();
  r.muted = o.Get("muted").ToBoolean();
  r.deaf = o.Get("deaf").ToBoolean();
  Napi::Value g = o.Get("gain");
  if (!g.IsUndefined()) {
    if (!g.IsNumber()) bad(env, "gain must be a number");
    r.gain = g.As<Napi::Number>().FloatValue();
    if (!(r.gain >= 0 && r.gain <= 16)) bad(env, "gain must be between 0 and 16");
  }
  r.speak_to = id_set(env, o.Get("speakTo"), "speakTo");
  r.hear_from = id_set(env, o.Get("hearFrom"), "hearFrom");
  return r;
}

Napi::Object event_object(Napi::Env env, const EngineEvent& e) {
  auto o = Napi::Object::New(env);
  switch (e.type) {
    case EventType::Dtmf:
      o.Set("type", "dtmf");
      o.Set("endpoint", e.id);
      o.Set("digit", std::string(1, e.digit));
      o.Set("durationMs", static_cast<double>(e.duration_ms));
      break;
    case EventType::Talking:
      o.Set("type", "talking");
      o.Set("endpoint", e.id);
      o.Set("talking", e.talking);
      o.Set("level", e.level);
      break;
    case EventType::Player:
      o.Set("type", "player");
      o.Set("player", e.id);
      o.Set("state", e.state);
      break;
    case EventType::RtpTimeout:
      o.Set("type", "rtp-timeout");
      o.Set("endpoint", e.id);
      break;
    case EventType::Recorder:
      o.Set("type", "recorder");
      o.Set("recorder", e.id);
      o.Set("state", e.state);
      o.Set("durationMs", static_cast<double>(e.duration_ms));
      break;
    case EventType::SourceLatched:
      o.Set("type", "source-latched");
      o.Set("endpoint", e.id);
      o.Set("address", e.address);
      o.Set("port", e.port);
      break;
  }
  return o;
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "MediaEngine",
        {InstanceMethod("createEndpoint", &EngineWrap::CreateEndpoint),
         InstanceMethod("configureEndpoint", &EngineWrap::ConfigureEndpoint),
         InstanceMethod("destroyEndpoint", &EngineWrap::DestroyEndpoint), InstanceMethod("sendDtmf", &EngineWrap::SendDtmf),
         InstanceMethod("createConference", &EngineWrap::CreateConference),
         InstanceMethod("destroyConference", &EngineWrap::DestroyConference), InstanceMethod("join", &EngineWrap::Join),
         InstanceMethod("updateRouting", &EngineWrap::UpdateRouting), InstanceMethod("leave", &EngineWrap::Leave),
         InstanceMethod("link", &EngineWrap::Link), InstanceMethod("unlink", &EngineWrap::Unlink),
         InstanceMethod("playToEndpoint", &EngineWrap::PlayToEndpoint),
         InstanceMethod("playToConference", &EngineWrap::PlayToConference),
         InstanceMethod("stopPlayer", &EngineWrap::StopPlayer),
         InstanceMethod("createBuffer", &EngineWrap::CreateBuffer),
         InstanceMethod("releaseBuffer", &EngineWrap::ReleaseBuffer),
         InstanceMethod("recordConference", &EngineWrap::RecordConference),
         InstanceMethod("recordEndpoint", &EngineWrap::RecordEndpoint),
         InstanceMethod("stopRecorder", &EngineWrap::StopRecorder),
         InstanceMethod("endpointStats", &EngineWrap::EndpointStatsJs),
         InstanceMethod("resetArrival", &EngineWrap::ResetArrival),
         InstanceMethod("conferenceStats", &EngineWrap::ConferenceStatsJs),
         InstanceMethod("stats", &EngineWrap::StatsJs), InstanceMethod("close", &EngineWrap::Close)});
  }

  // new MediaEngine({ address, portMin, portMax, lateTickMs, rtpTimeoutMs }, onEvents)
  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      bad(env, "new MediaEngine(options, onEvents)");
    auto o = info[0].As<Napi::Object>();
    EngineOptions opts;
    if (!o.Get("address").IsString()) bad(env, "address must be a string");
    opts.address = o.Get("address").As<Napi::String>().Utf8Value();
    opts.port_min = int_field(env, o, "portMin", 1, 65535);
    opts.port_max = int_field(env, o, "portMax", 1, 65535);
    opts.late_tick_us = static_cast<int64_t>(int_field(env, o, "lateTickUs", 0, 20000, 2000));
    opts.rtp_timeout_ms = static_cast<int64_t>(int_field(env, o, "rtpTimeoutMs", 0, 3600000, 30000));
    opts.io_coalesce_us = static_cast<int64_t>(int_field(env, o, "ioCoalesceUs", 0, 10000, 1000));
    opts.realtime_priority = int_field(env, o, "realtimePriority", 0, 99, 0);
    opts.send_spread_us = static_cast<int64_t>(int_field(env, o, "sendSpreadUs", 0, 15000, 0));
    opts.tick_spin_us = static_cast<int64_t>(int_field(env, o, "tickSpinUs", 0, 5000, 0));
    Napi::Value uring = o.Get("ioUring");
    if (!uring.IsUndefined() && !uring.IsBoolean()) bad(env, "ioUring must be a boolean");
    opts.io_uring = uring.IsUndefined() || uring.As<Napi::Boolean>().Value();
    queue_ = std::make_shared<EventQueue>();
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "parley-media-events", 0, 1);
    // The engine does not by itself keep the process alive; sockets of the SIP side do.
    tsfn_.Unref(env);
    std::shared_ptr<EventQueue> queue = queue_;
    Napi::ThreadSafeFunction tsfn = tsfn_;
    try {
      engine_ = std::make_unique<Engine>(opts, queue_, [queue, tsfn]() mutable {
        // Non-blocking: the engine thread never waits for JS. A call that fails (shutting down) loses nothing
        // that anyone could still receive.
        tsfn.NonBlockingCall([queue](Napi::Env env, Napi::Function fn) {
          std::vector<EngineEvent> events = queue->drain();
          if (events.empty() || env == nullptr || fn.IsEmpty()) return;
          auto arr = Napi::Array::New(env, events.size());
          for (size_t i = 0; i < events.size(); i++) arr.Set(static_cast<uint32_t>(i), event_object(env, events[i]));
          fn.Call({arr});
        });
      });
    } catch (const EngineError& e) {
      tsfn_.Release();
      throw coded_error(env, e.code(), e.what());
    }
    // At environment teardown (process exit, worker end) the engine thread must stop before the addon unloads.
    napi_add_env_cleanup_hook(env, &EngineWrap::OnEnvCleanup, this);
    env_ = env;
  }

  ~EngineWrap() override {
    napi_remove_env_cleanup_hook(env_, &EngineWrap::OnEnvCleanup, this);
    shutdown();
  }

 private:
  static void OnEnvCleanup(void* self) { static_cast<EngineWrap*>(self)->shutdown(); }

  void shutdown() {
    if (!engine_) return;
    engine_->close();  // joins the engine threads: nothing calls the TSFN afterwards
    engine_.reset();
    tsfn_.Release();
  }

  Engine& engine(Napi::Env env) {
    if (!engine_) throw coded_error(env, "CLOSED", "the media engine is closed");
    return *engine_;
  }

  template <typename F>
  auto guarded(Napi::Env env, F f) -> decltype(f(engine(env))) {
    Engine& e = engine(env);
    try {
      return f(e);
    } catch (const EngineError& err) {
      throw coded_error(env, err.code(), err.what());
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& err) {
      throw coded_error(env, "INTERNAL", err.what());
    }
  }

  Napi::Value CreateEndpoint(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool latching = info.Length() > 0 && info[0].ToBoolean();
    bool mux = info.Length() > 1 && info[1].ToBoolean();
    auto [id, port] = guarded(env, [&](Engine& e) { return e.create_endpoint(latching, mux); });
    auto o = Napi::Object::New(env);
    o.Set("id", id);
    o.Set("port", port);
    return o;
  }

  // configureEndpoint(id, { remoteAddress, remotePort, remoteRtcpPort?, sendCodec, sendPayloadType, sendRate,
  //   payloadTypes: [[pt, codec, rate]], telephoneEventPayloadType?, telephoneEventRate?, direction })
  Napi::Value ConfigureEndpoint(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t id = id_arg(info, 0, "endpoint id");
    if (info.Length() < 2 || !info[1].IsObject()) bad(env, "configureEndpoint(id, config)");
    auto o = info[1].As<Napi::Object>();
    EndpointConfig cfg;
    if (!o.Get("remoteAddress").IsString()) bad(env, "remote.address must be a string");
    std::string ip = o.Get("remoteAddress").As<Napi::String>().Utf8Value();
    // Port 0: the far end takes no media on this stream (SDP), so nothing is sent.
    int port = int_field(env, o, "remotePort", 0, 65535);
    cfg.remote_rtp = address(env, ip, port);
    cfg.remote_rtcp = address(env, ip, int_field(env, o, "remoteRtcpPort", 0, 65535, port == 0 || port == 65535 ? 0 : port + 1));
    cfg.send.codec = codec_arg(env, o.Get("sendCodec"));
    cfg.send.payload_type = static_cast<uint8_t>(int_field(env, o, "sendPayloadType", 0, 127));
    cfg.send.rate = int_field(env, o, "sendRate", 8000, 48000, default_rate(cfg.send.codec));
    Napi::Value pts = o.Get("payloadTypes");
    if (!pts.IsArray()) bad(env, "receive.payloadTypes must map payload types to codecs");
    auto arr = pts.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value e = arr.Get(i);
      if (!e.IsArray()) bad(env, "receive.payloadTypes must map payload types to codecs");
      auto t = e.As<Napi::Array>();
      Napi::Value pt = t.Get(0u), rate = t.Get(2u);
      if (!pt.IsNumber() || !rate.IsNumber()) bad(env, "receive.payloadTypes entries need a payload type and a rate");
      int p = pt.As<Napi::Number>().Int32Value();
      if (p < 0 || p > 127) bad(env, "payload types are 0-127");
      cfg.receive.payload_types[static_cast<uint8_t>(p)] = PayloadSpec{codec_arg(env, t.Get(1u)), rate.As<Napi::Number>().Int32Value()};
    }
    if (cfg.receive.payload_types.empty()) bad(env, "receive.payloadTypes must name at least one codec");
    cfg.receive.telephone_event_pt = int_field(env, o, "telephoneEventPayloadType", -1, 127, -1);
    cfg.receive.telephone_event_rate = int_field(env, o, "telephoneEventRate", 8000, 48000, 8000);
    std::string dir = o.Get("direction").IsString() ? o.Get("direction").As<Napi::String>().Utf8Value() : "sendrecv";
    if (dir == "sendrecv") cfg.direction = Direction::SendRecv;
    else if (dir == "sendonly") cfg.direction = Direction::SendOnly;
    else if (dir == "recvonly") cfg.direction = Direction::RecvOnly;
    else if (dir == "inactive") cfg.direction = Direction::Inactive;
    else bad(env, "direction must be sendrecv, sendonly, recvonly or inactive");
    guarded(env, [&](Engine& e) { e.configure_endpoint(id, cfg); });
    return env.Undefined();
  }

  Napi::Value DestroyEndpoint(const Napi::CallbackInfo& info) {
    uint32_t id = id_arg(info, 0, "endpoint id");
    guarded(info.Env(), [&](Engine& e) { e.destroy_endpoint(id); });
    return info.Env().Undefined();
  }

  Napi::Value SendDtmf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t id = id_arg(info, 0, "endpoint id");
    std::string digit = str_arg(info, 1, "digit");
    uint32_t ms = id_arg(info, 2, "durationMs");
    if (digit.size() != 1) bad(env, "digit must be one of 0-9 * # A-D");
    if (ms < 40 || ms > 10000) bad(env, "durationMs must be between 40 and 10000");
    guarded(env, [&](Engine& e) { e.send_dtmf(id, digit[0], static_cast<int>(ms)); });
    return env.Undefined();
  }

  Napi::Value CreateConference(const Napi::CallbackInfo& info) {
    std::string name = str_arg(info, 0, "conference name");
    uint32_t rate = id_arg(info, 1, "rate");
    uint32_t loudest = id_arg(info, 2, "loudest");
    guarded(info.Env(), [&](Engine& e) { e.create_conference(name, static_cast<int>(rate), loudest); });
    return info.Env().Undefined();
  }

  Napi::Value DestroyConference(const Napi::CallbackInfo& info) {
    std::string name = str_arg(info, 0, "conference name");
    guarded(info.Env(), [&](Engine& e) { e.destroy_conference(name); });
    return info.Env().Undefined();
  }

  Napi::Value Join(const Napi::CallbackInfo& info) {
    std::string name = str_arg(info, 0, "conference name");
    uint32_t id = id_arg(info, 1, "endpoint id");
    MemberRouting r = routing_arg(info.Env(), info.Length() > 2 ? info[2] : info.Env().Undefined());
    guarded(info.Env(), [&](Engine& e) { e.join(name, id, r); });
    return info.Env().Undefined();
  }

  Napi::Value UpdateRouting(const Napi::CallbackInfo& info) {
    std::string name = str_arg(info, 0, "conference name");
    uint32_t id = id_arg(info, 1, "endpoint id");
    MemberRouting r = routing_arg(info.Env(), info.Length() > 2 ? info[2] : info.Env().Undefined());
    guarded(info.Env(), [&](Engine& e) { e.update_routing(name, id, r); });
    return info.Env().Undefined();
  }

  Napi::Value Leave(const Napi::CallbackInfo& info) {
    std::string name = str_arg(info, 0, "conference name");
    uint32_t id = id_arg(info, 1, "endpoint id");
    guarded(info.Env(), [&](Engine& e) { e.leave(name, id); });
    return info.Env().Undefined();
  }

  Napi::Value Link(const Napi::CallbackInfo& info) {
    std::string a = str_arg(info, 0, "conference name");
    std::string b = str_arg(info, 1, "conference name");
    std::string d = str_arg(info, 2, "direction");
    LinkDirection dir;
    if (d == "both") dir = LinkDirection::Both;
    else if (d == "in") dir = LinkDirection::In;
    else if (d == "out") dir = LinkDirection::Out;
    else bad(info.Env(), "link direction must be both, in or out");
    guarded(info.Env(), [&](Engine& e) { e.link(a, b, dir); });
    return info.Env().Undefined();
  }

  Napi::Value Unlink(const Napi::CallbackInfo& info) {
    std::string a = str_arg(info, 0, "conference name");
    std::string b = str_arg(info, 1, "conference name");
    guarded(info.Env(), [&](Engine& e) { e.unlink(a, b); });
    return info.Env().Undefined();
  }

  static std::vector<int16_t> pcm_arg(const Napi::CallbackInfo& info, size_t i) {
    if (info.Length() <= i || !info[i].IsTypedArray() ||
        info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array)
      bad(info.Env(), "pcm must be an Int16Array");
    auto a = info[i].As<Napi::Int16Array>();
    return std::vector<int16_t>(a.Data(), a.Data() + a.ElementLength());
  }

  // The PCM of a play: an Int16Array with its rate (copied once for this play), or a buffer id.
  std::shared_ptr<const PcmBuffer> play_source(const Napi::CallbackInfo& info, size_t i) {
    Napi::Env env = info.Env();
    if (info.Length() > i && info[i].IsNumber()) {
      uint32_t id = id_arg(info, i, "buffer id");
      return guarded(env, [&](Engine& e) { return e.buffer(id); });
    }
    std::vector<int16_t> pcm = pcm_arg(info, i);
    uint32_t rate = id_arg(info, i + 1, "rate");
    try {
      return std::make_shared<const PcmBuffer>(std::move(pcm), static_cast<int>(rate));
    } catch (const std::invalid_argument& e) {
      bad(env, e.what());
    }
  }

  // createBuffer(Int16Array, rate) → id
  Napi::Value CreateBuffer(const Napi::CallbackInfo& info) {
    std::vector<int16_t> pcm = pcm_arg(info, 0);
    uint32_t rate = id_arg(info, 1, "rate");
    uint32_t id = guarded(info.Env(), [&](Engine& e) { return e.create_buffer(std::move(pcm), static_cast<int>(rate)); });
    return Napi::Number::New(info.Env(), id);
  }

  Napi::Value ReleaseBuffer(const Napi::CallbackInfo& info) {
    uint32_t id = id_arg(info, 0, "buffer id");
    guarded(info.Env(), [&](Engine& e) { e.release_buffer(id); });
    return info.Env().Undefined();
  }

  // playToEndpoint(id, Int16Array, rate, loop) or playToEndpoint(id, bufferId, 0, loop)
  Napi::Value PlayToEndpoint(const Napi::CallbackInfo& info) {
    uint32_t id = id_arg(info, 0, "endpoint id");
    engine(info.Env());
    auto pcm = play_source(info, 1);
    bool loop = info.Length() > 3 && info[3].ToBoolean();
    uint32_t pid = guarded(info.Env(), [&](Engine& e) { return e.play_to_endpoint(id, std::move(pcm), loop); });
    return Napi::Number::New(info.Env(), pid);
  }

  Napi::Value PlayToConference(const Napi::CallbackInfo& info) {
    std::string name = str_arg(info, 0, "conference name");
    engine(info.Env());
    auto pcm = play_source(info, 1);
    bool loop = info.Length() > 3 && info[3].ToBoolean();
    uint32_t pid = guarded(info.Env(), [&](Engine& e) { return e.play_to_conference(name, std::move(pcm), loop); });
    return Napi::Number::New(info.Env(), pid);
  }

  Napi::Value StopPlayer(const Napi::CallbackInfo& info) {
    uint32_t id = id_arg(info, 0, "player id");
    guarded(info.Env(), [&](Engine& e) { e.stop_player(id); });
    return info.Env().Undefined();
  }

  Napi::Value RecordConference(const Napi::CallbackInfo& info) {
    std::string name = str_arg(info, 0, "conference name");
    std::string path = str_arg(info, 1, "path");
    uint32_t id = guarded(info.Env(), [&](Engine& e) { return e.record_conference(name, path); });
    return Napi::Number::New(info.Env(), id);
  }

  Napi::Value RecordEndpoint(const Napi::CallbackInfo& info) {
    uint32_t ep = id_arg(info, 0, "endpoint id");
    std::string path = str_arg(info, 1, "path");
    std::string d = str_arg(info, 2, "direction");
    RecordSides sides;
    if (d == "in") sides = RecordSides::In;
    else if (d == "out") sides = RecordSides::Out;
    else if (d == "both") sides = RecordSides::Both;
    else bad(info.Env(), "record direction must be in, out or both");
    uint32_t id = guarded(info.Env(), [&](Engine& e) { return e.record_endpoint(ep, path, sides); });
    return Napi::Number::New(info.Env(), id);
  }

  Napi::Value StopRecorder(const Napi::CallbackInfo& info) {
    uint32_t id = id_arg(info, 0, "recorder id");
    int64_t ms = guarded(info.Env(), [&](Engine& e) { return e.stop_recorder(id); });
    return Napi::Number::New(info.Env(), static_cast<double>(ms));
  }

  Napi::Value EndpointStatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t id = id_arg(info, 0, "endpoint id");
    EndpointInfo s = guarded(env, [&](Engine& e) { return e.endpoint_info(id); });
    const ReceiveStats& r = s.stats.receive;
    auto o = Napi::Object::New(env);
    auto n = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
    n("packetsIn", static_cast<double>(s.stats.packets_in));
    n("bytesIn", static_cast<double>(s.stats.bytes_in));
    n("packetsOut", static_cast<double>(s.stats.packets_out));
    n("bytesOut", static_cast<double>(s.stats.bytes_out));
    n("rtcpIn", static_cast<double>(s.stats.rtcp_in));
    n("rtcpOut", static_cast<double>(s.stats.rtcp_out));
    n("dtmfOut", static_cast<double>(s.stats.dtmf_out));
    n("lost", static_cast<double>(r.lost));
    n("late", static_cast<double>(r.late));
    n("jitterMs", r.jitter_ms);
    n("jitterBufferMs", r.current_delay_ms);
    n("jitterTargetMs", r.target_delay_ms);
    n("concealedFrames", static_cast<double>(r.concealed_frames));
    n("rttMs", s.stats.rtt_ms);
    n("level", s.level);
    o.Set("talking", s.talking);
    o.Set("latched", s.stats.latched);
    o.Set("codec", s.codec);
    if (s.conference.empty()) o.Set("conference", env.Null());
    else o.Set("conference", s.conference);
    auto d = Napi::Object::New(env);
    d.Set("source", static_cast<double>(s.stats.discarded_source));
    d.Set("direction", static_cast<double>(s.stats.discarded_direction));
    d.Set("rtcp", static_cast<double>(s.stats.discarded_rtcp));
    d.Set("invalid", static_cast<double>(r.discarded.invalid));
    d.Set("unknownPayloadType", static_cast<double>(r.discarded.unknown_pt));
    d.Set("late", static_cast<double>(r.discarded.late));
    d.Set("duplicate", static_cast<double>(r.discarded.duplicate));
    d.Set("overflow", static_cast<double>(r.discarded.overflow));
    o.Set("discarded", d);
    const ArrivalStats& a = s.stats.arrival;
    auto arr = Napi::Object::New(env);
    arr.Set("count", static_cast<double>(a.count));
    arr.Set("p50Ms", a.p50_ms);
    arr.Set("p99Ms", a.p99_ms);
    arr.Set("maxMs", a.max_ms);
    arr.Set("kernelTimestamps", a.kernel_timestamps);
    o.Set("arrival", arr);
    return o;
  }

  // resetArrival(id) or resetArrival() for every endpoint at once (one measuring window for all).
  Napi::Value ResetArrival(const Napi::CallbackInfo& info) {
    if (info.Length() == 0 || info[0].IsUndefined() || info[0].IsNull()) {
      guarded(info.Env(), [&](Engine& e) { e.reset_all_arrivals(); });
    } else {
      uint32_t id = id_arg(info, 0, "endpoint id");
      guarded(info.Env(), [&](Engine& e) { e.reset_arrival(id); });
    }
    return info.Env().Undefined();
  }

  Napi::Value ConferenceStatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = str_arg(info, 0, "conference name");
    ConferenceStats s = guarded(env, [&](Engine& e) { return e.conference_stats(name); });
    auto o = Napi::Object::New(env);
    o.Set("members", static_cast<double>(s.members));
    o.Set("players", static_cast<double>(s.players));
    o.Set("recorders", static_cast<double>(s.recorders));
    o.Set("links", static_cast<double>(s.links));
    o.Set("groups", static_cast<double>(s.groups));
    o.Set("mixLastUs", static_cast<double>(s.mix_last_us));
    o.Set("mixMaxUs", static_cast<double>(s.mix_max_us));
    o.Set("ticks", static_cast<double>(s.ticks));
    o.Set("lateTicks", static_cast<double>(s.late_ticks));
    return o;
  }

  Napi::Value StatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EngineStats s = guarded(env, [&](Engine& e) { return e.stats(); });
    auto o = Napi::Object::New(env);
    o.Set("ticks", static_cast<double>(s.clock.ticks));
    o.Set("lateTicks", static_cast<double>(s.clock.late_ticks));
    o.Set("maxLateUs", static_cast<double>(s.clock.max_late_us));
    auto by = Napi::Object::New(env);
    by.Set("overrun", static_cast<double>(s.clock.late_overrun));
    by.Set("wake", static_cast<double>(s.clock.late_wake));
    by.Set("lock", static_cast<double>(s.clock.late_lock));
    o.Set("lateTicksBy", by);
    o.Set("elapsedMs", static_cast<double>(s.clock.elapsed_ns) / 1e6);
    o.Set("tickWorkLastUs", static_cast<double>(s.clock.work_last_us));
    o.Set("tickWorkMaxUs", static_cast<double>(s.clock.work_max_us));
    o.Set("tickWorkP99Us", static_cast<double>(s.clock.work_p99_us));
    o.Set("tickCpuLastUs", static_cast<double>(s.clock.cpu_last_us));
    o.Set("tickCpuMaxUs", static_cast<double>(s.clock.cpu_max_us));
    o.Set("tickCpuMeanUs", static_cast<double>(s.clock.cpu_mean_us));
    o.Set("endpoints", static_cast<double>(s.endpoints));
    o.Set("conferences", static_cast<double>(s.conferences));
    o.Set("encoders", static_cast<double>(s.encoders));
    o.Set("datagrams", static_cast<double>(s.datagrams));
    o.Set("recvCalls", static_cast<double>(s.recv_calls));
    o.Set("wakeups", static_cast<double>(s.wakeups));
    o.Set("ioDeferred", static_cast<double>(s.io_deferred));
    o.Set("sendsOverrun", static_cast<double>(s.sends_overrun));
    o.Set("sendsWaiting", static_cast<double>(s.sends_waiting));
    o.Set("ioUring", s.io_uring);
    o.Set("sendErrors", static_cast<double>(s.send_errors));
    o.Set("realtime", s.realtime);
    o.Set("internalErrors", static_cast<double>(s.internal_errors));
    o.Set("eventsDropped", static_cast<double>(s.events_dropped));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    shutdown();
    return info.Env().Undefined();
  }

  std::shared_ptr<EventQueue> queue_;
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<Engine> engine_;
  napi_env env_ = nullptr;
};

}  // namespace

void InitEngineBindings(Napi::Env env, Napi::Object exports) { exports.Set("MediaEngine", EngineWrap::Init(env)); }

}  // namespace parley
