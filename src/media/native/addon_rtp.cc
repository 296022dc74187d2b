// Node-API surface of the RTP receive pipeline, for tests, benchmarks and tools:
// the RTP parser, RTCP build/parse, a ReceiveStream (push datagrams, pull frames)
// and the RFC 4733 sender. The engine uses the C++ classes directly.
#include <napi.h>

#include <string>
#include <vector>

#include "codec.h"
#include "dtmf_sender.h"
#include "receive_stream.h"
#include "rtcp.h"
#include "rtp_packet.h"

namespace parley {

namespace {

Napi::Buffer<uint8_t> buffer_arg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsBuffer()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::Buffer<uint8_t>>();
}

double number_arg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::Number>().DoubleValue();
}

uint32_t u32(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
}

// parse(buf) → { pt, marker, seq, ts, ssrc, payload, csrcs, extProfile, ext, padding } | { error }
Napi::Value RtpParse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = buffer_arg(info, 0, "rtp.parse(buf: Buffer)");
  RtpView v{};
  RtpError e = parse_rtp(buf.Data(), buf.Length(), v);
  auto out = Napi::Object::New(env);
  if (e != RtpError::None) {
    out.Set("error", rtp_error_name(e));
    return out;
  }
  out.Set("pt", v.pt);
  out.Set("marker", v.marker);
  out.Set("seq", v.seq);
  out.Set("ts", v.ts);
  out.Set("ssrc", v.ssrc);
  out.Set("payload", Napi::Buffer<uint8_t>::Copy(env, v.payload, v.payload_len));
  auto csrcs = Napi::Array::New(env, v.csrc_count);
  for (uint32_t i = 0; i < v.csrc_count; i++) {
    const uint8_t* p = v.csrcs + 4 * i;
    csrcs.Set(i, (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
                     (static_cast<uint32_t>(p[2]) << 8) | p[3]);
  }
  out.Set("csrcs", csrcs);
  out.Set("extProfile", v.ext_profile);
  out.Set("ext", v.ext ? Napi::Value(Napi::Buffer<uint8_t>::Copy(env, v.ext, v.ext_len)) : env.Null());
  out.Set("padding", static_cast<double>(v.padding));
  return out;
}

// extension(buf, id) → Buffer | null (RFC 8285 element)
Napi::Value RtpExtension(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = buffer_arg(info, 0, "rtp.extension(buf: Buffer, id: number)");
  auto id = static_cast<uint8_t>(number_arg(info, 1, "rtp.extension(buf: Buffer, id: number)"));
  RtpView v{};
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (parse_rtp(buf.Data(), buf.Length(), v) != RtpError::None || !find_rtp_extension(v, id, data, len))
    return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, data, len);
}

Napi::Value RtpIsRtcp(const Napi::CallbackInfo& info) {
  auto buf = buffer_arg(info, 0, "rtp.isRtcp(buf: Buffer)");
  return Napi::Boolean::New(info.Env(), is_rtcp(buf.Data(), buf.Length()));
}

// header({ pt, marker, seq, ts, ssrc }) → 12-byte Buffer
Napi::Value RtpHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "rtp.header({ pt, marker, seq, ts, ssrc })");
  auto o = info[0].As<Napi::Object>();
  uint8_t out[12];
  size_t n = write_rtp_header(out, sizeof out, static_cast<uint8_t>(u32(o, "pt")), o.Get("marker").ToBoolean(),
                              static_cast<uint16_t>(u32(o, "seq")), u32(o, "ts"), u32(o, "ssrc"));
  return Napi::Buffer<uint8_t>::Copy(env, out, n);
}

Napi::Object block_to_js(Napi::Env env, const RtcpReportBlock& b) {
  auto o = Napi::Object::New(env);
  o.Set("ssrc", b.ssrc);
  o.Set("fractionLost", b.fraction_lost);
  o.Set("cumulativeLost", b.cumulative_lost);
  o.Set("extHighestSeq", b.ext_highest_seq);
  o.Set("jitter", b.jitter);
  o.Set("lsr", b.lsr);
  o.Set("dlsr", b.dlsr);
  return o;
}

RtcpReportBlock block_from_js(const Napi::Object& o) {
  RtcpReportBlock b;
  b.ssrc = u32(o, "ssrc");
  b.fraction_lost = static_cast<uint8_t>(u32(o, "fractionLost"));
  Napi::Value lost = o.Get("cumulativeLost");
  b.cumulative_lost = lost.IsNumber() ? lost.As<Napi::Number>().Int32Value() : 0;
  b.ext_highest_seq = u32(o, "extHighestSeq");
  b.jitter = u32(o, "jitter");
  b.lsr = u32(o, "lsr");
  b.dlsr = u32(o, "dlsr");
  return b;
}

uint64_t bigint_u64(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(env, std::string(what) + " must be a bigint");
  bool lossless = false;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

// parse(buf) → { error, packets, skipped, sr?, rr?, blocks, cname?, byes }
Napi::Value RtcpParse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = buffer_arg(info, 0, "rtcp.parse(buf: Buffer)");
  RtcpCompound c;
  RtcpError e = parse_rtcp(buf.Data(), buf.Length(), c);
  auto out = Napi::Object::New(env);
  out.Set("error", e == RtcpError::None ? env.Null() : Napi::Value(Napi::String::New(env, rtcp_error_name(e))));
  out.Set("packets", static_cast<double>(c.packets));
  out.Set("skipped", static_cast<double>(c.skipped));
  if (c.has_sr) {
    auto sr = Napi::Object::New(env);
    sr.Set("ssrc", c.sr_ssrc);
    sr.Set("ntp", Napi::BigInt::New(env, c.sr.ntp));
    sr.Set("rtpTs", c.sr.rtp_ts);
    sr.Set("packets", c.sr.packets);
    sr.Set("octets", c.sr.octets);
    out.Set("sr", sr);
  }
  if (c.has_rr) {
    auto rr = Napi::Object::New(env);
    rr.Set("ssrc", c.rr_ssrc);
    out.Set("rr", rr);
  }
  auto blocks = Napi::Array::New(env, c.block_count);
  for (uint32_t i = 0; i < c.block_count; i++) blocks.Set(i, block_to_js(env, c.blocks[i]));
  out.Set("blocks", blocks);
  if (c.has_cname) {
    auto cname = Napi::Object::New(env);
    cname.Set("ssrc", c.cname_ssrc);
    cname.Set("name", Napi::String::New(env, c.cname, c.cname_len));
    out.Set("cname", cname);
  }
  auto byes = Napi::Array::New(env, c.bye_count);
  for (uint32_t i = 0; i < c.bye_count; i++) byes.Set(i, c.bye_ssrcs[i]);
  out.Set("byes", byes);
  return out;
}

// buildReport({ ssrc, sender?: { ntp: bigint, rtpTs, packets, octets }, blocks, cname }) → Buffer
Napi::Value RtcpBuildReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "rtcp.buildReport({ ssrc, sender?, blocks: ReportBlock[], cname })";
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, usage);
  auto o = info[0].As<Napi::Object>();
  RtcpSenderInfo sender;
  bool has_sender = o.Get("sender").IsObject();
  if (has_sender) {
    auto s = o.Get("sender").As<Napi::Object>();
    sender.ntp = bigint_u64(env, s.Get("ntp"), "sender.ntp");
    sender.rtp_ts = u32(s, "rtpTs");
    sender.packets = u32(s, "packets");
    sender.octets = u32(s, "octets");
  }
  std::vector<RtcpReportBlock> blocks;
  if (o.Get("blocks").IsArray()) {
    auto arr = o.Get("blocks").As<Napi::Array>();
    if (arr.Length() > kRtcpMaxBlocks) throw Napi::RangeError::New(env, "at most 31 report blocks");
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value b = arr.Get(i);
      if (!b.IsObject()) throw Napi::TypeError::New(env, usage);
      blocks.push_back(block_from_js(b.As<Napi::Object>()));
    }
  }
  std::string cname = o.Get("cname").IsString() ? o.Get("cname").As<Napi::String>().Utf8Value() : std::string();
  if (cname.size() > kRtcpMaxCname) throw Napi::RangeError::New(env, "CNAME longer than 255 bytes");
  uint8_t out[1500];
  size_t n = build_report(out, sizeof out, u32(o, "ssrc"), has_sender ? &sender : nullptr, blocks.data(), blocks.size(),
                          cname.data(), cname.size());
  if (n == 0) throw Napi::RangeError::New(env, "report does not fit in 1500 bytes");
  return Napi::Buffer<uint8_t>::Copy(env, out, n);
}

Napi::Value RtcpBuildBye(const Napi::CallbackInfo& info) {
  uint8_t out[8];
  size_t n = build_bye(out, sizeof out, static_cast<uint32_t>(number_arg(info, 0, "rtcp.buildBye(ssrc)")));
  return Napi::Buffer<uint8_t>::Copy(info.Env(), out, n);
}

Napi::Value RtcpNtpFromUnixMs(const Napi::CallbackInfo& info) {
  auto ms = static_cast<int64_t>(number_arg(info, 0, "rtcp.ntpFromUnixMs(ms)"));
  return Napi::BigInt::New(info.Env(), ntp_from_unix_ms(ms));
}

Napi::Value RtcpMiddle32(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "rtcp.middle32(ntp: bigint)");
  return Napi::Number::New(info.Env(), ntp_middle32(bigint_u64(info.Env(), info[0], "ntp")));
}

Napi::Value RtcpRttMs(const Napi::CallbackInfo& info) {
  const char* usage = "rtcp.rttMs(lsr, dlsr, arrivalMiddle32)";
  return Napi::Number::New(info.Env(), rtt_ms(static_cast<uint32_t>(number_arg(info, 0, usage)),
                                              static_cast<uint32_t>(number_arg(info, 1, usage)),
                                              static_cast<uint32_t>(number_arg(info, 2, usage))));
}

int int_field(const Napi::Object& o, const char* key, int fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

// { payloadTypes: { [pt]: { codec, rate? } }, telephoneEventPt?, telephoneEventRate?, jitter?: {...} }
ReceiveConfig receive_config(Napi::Env env, const Napi::Value& v) {
  const char* usage = "ReceiveStream({ payloadTypes: { [pt]: { codec, rate? } }, telephoneEventPt?, jitter? })";
  if (!v.IsObject()) throw Napi::TypeError::New(env, usage);
  auto o = v.As<Napi::Object>();
  ReceiveConfig cfg;
  if (!o.Get("payloadTypes").IsObject()) throw Napi::TypeError::New(env, usage);
  auto pts = o.Get("payloadTypes").As<Napi::Object>();
  auto keys = pts.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    int pt = -1;
    try {
      pt = std::stoi(key);
    } catch (const std::exception&) {
    }
    if (pt < 0 || pt > 127) throw Napi::RangeError::New(env, "payload type must be 0..127, got " + key);
    Napi::Value spec = pts.Get(key);
    if (!spec.IsObject() || !spec.As<Napi::Object>().Get("codec").IsString()) throw Napi::TypeError::New(env, usage);
    auto so = spec.As<Napi::Object>();
    try {
      Codec codec = codec_from_name(so.Get("codec").As<Napi::String>().Utf8Value());
      cfg.payload_types[static_cast<uint8_t>(pt)] = PayloadSpec{codec, int_field(so, "rate", default_rate(codec))};
    } catch (const std::invalid_argument& e) {
      throw Napi::TypeError::New(env, e.what());
    }
  }
  cfg.telephone_event_pt = int_field(o, "telephoneEventPt", -1);
  cfg.telephone_event_rate = int_field(o, "telephoneEventRate", 8000);
  cfg.comfort_noise_pt = int_field(o, "comfortNoisePt", 13);
  if (o.Get("jitter").IsObject()) {
    auto j = o.Get("jitter").As<Napi::Object>();
    cfg.jitter.min_delay_ms = int_field(j, "minDelayMs", cfg.jitter.min_delay_ms);
    cfg.jitter.max_delay_ms = int_field(j, "maxDelayMs", cfg.jitter.max_delay_ms);
    cfg.jitter.initial_delay_ms = int_field(j, "initialDelayMs", cfg.jitter.initial_delay_ms);
    cfg.jitter.slots = static_cast<size_t>(int_field(j, "slots", static_cast<int>(cfg.jitter.slots)));
    cfg.jitter.max_concealed_frames = int_field(j, "maxConcealedFrames", cfg.jitter.max_concealed_frames);
  }
  return cfg;
}

const char* kind_name(FrameKind k) {
  switch (k) {
    case FrameKind::Audio:
      return "audio";
    case FrameKind::Concealed:
      return "concealed";
    case FrameKind::Silence:
      return "silence";
  }
  return "silence";
}

class ReceiveStreamWrap : public Napi::ObjectWrap<ReceiveStreamWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ReceiveStream",
                       {InstanceMethod("push", &ReceiveStreamWrap::Push), InstanceMethod("pull", &ReceiveStreamWrap::Pull),
                        InstanceMethod("pullInto", &ReceiveStreamWrap::PullInto),
                        InstanceMethod("stats", &ReceiveStreamWrap::Stats),
                        InstanceMethod("takeDtmf", &ReceiveStreamWrap::TakeDtmf),
                        InstanceMethod("reconfigure", &ReceiveStreamWrap::Reconfigure),
                        InstanceMethod("reportBlock", &ReceiveStreamWrap::ReportBlock),
                        InstanceMethod("onSenderReport", &ReceiveStreamWrap::OnSenderReport),
                        InstanceAccessor("rate", &ReceiveStreamWrap::Rate, nullptr)});
  }
  explicit ReceiveStreamWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReceiveStreamWrap>(info) {
    Napi::Env env = info.Env();
    ReceiveConfig cfg = receive_config(env, info.Length() > 0 ? info[0] : env.Undefined());
    try {
      stream_ = std::make_unique<ReceiveStream>(std::move(cfg));
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  Napi::Value Rate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), stream_->rate()); }
  Napi::Value Push(const Napi::CallbackInfo& info) {
    const char* usage = "push(datagram: Buffer, arrivalMs: number)";
    auto buf = buffer_arg(info, 0, usage);
    stream_->on_packet(buf.Data(), buf.Length(), static_cast<int64_t>(number_arg(info, 1, usage)));
    return info.Env().Undefined();
  }
  // pull(nowMs) → { kind, pcm: Int16Array }
  Napi::Value Pull(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto now = static_cast<int64_t>(number_arg(info, 0, "pull(nowMs: number)"));
    auto pcm = Napi::Int16Array::New(env, static_cast<size_t>(stream_->rate() / 50));
    FrameKind k = stream_->pull(pcm.Data(), now);
    auto out = Napi::Object::New(env);
    out.Set("kind", kind_name(k));
    out.Set("pcm", pcm);
    return out;
  }
  // pullInto(nowMs, Int16Array of at least rate/50) → kind: no allocation, for benchmarks
  Napi::Value PullInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto now = static_cast<int64_t>(number_arg(info, 0, "pullInto(nowMs, out: Int16Array)"));
    if (info.Length() < 2 || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array)
      throw Napi::TypeError::New(env, "pullInto(nowMs, out: Int16Array)");
    auto out = info[1].As<Napi::Int16Array>();
    if (out.ElementLength() < static_cast<size_t>(stream_->rate() / 50))
      throw Napi::RangeError::New(env, "out must hold rate/50 samples");
    return Napi::String::New(env, kind_name(stream_->pull(out.Data(), now)));
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ReceiveStats s = stream_->stats();
    auto o = Napi::Object::New(env);
    auto d = [](uint64_t v) { return static_cast<double>(v); };
    o.Set("packets", d(s.packets));
    o.Set("bytes", d(s.bytes));
    o.Set("lost", static_cast<double>(s.lost));
    o.Set("duplicates", d(s.duplicates));
    o.Set("late", d(s.late));
    o.Set("reordered", d(s.reordered));
    auto disc = Napi::Object::New(env);
    disc.Set("invalid", d(s.discarded.invalid));
    disc.Set("unknownPt", d(s.discarded.unknown_pt));
    disc.Set("late", d(s.discarded.late));
    disc.Set("duplicate", d(s.discarded.duplicate));
    disc.Set("overflow", d(s.discarded.overflow));
    o.Set("discarded", disc);
    o.Set("jitterMs", s.jitter_ms);
    o.Set("targetDelayMs", s.target_delay_ms);
    o.Set("currentDelayMs", s.current_delay_ms);
    o.Set("ssrcChanges", d(s.ssrc_changes));
    o.Set("timestampJumps", d(s.timestamp_jumps));
    o.Set("sequenceRestarts", d(s.sequence_restarts));
    o.Set("resyncs", d(s.resyncs));
    o.Set("concealedFrames", d(s.concealed_frames));
    o.Set("fecFrames", d(s.fec_frames));
    o.Set("droppedFrames", d(s.dropped_frames));
    o.Set("stretchedFrames", d(s.stretched_frames));
    o.Set("dtmfPackets", d(s.dtmf_packets));
    o.Set("comfortNoisePackets", d(s.comfort_noise_packets));
    o.Set("decodeErrors", d(s.decode_errors));
    o.Set("ssrc", s.ssrc);
    o.Set("extHighestSeq", s.ext_highest_seq);
    return o;
  }
  Napi::Value TakeDtmf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto keys = stream_->take_dtmf();
    auto out = Napi::Array::New(env, keys.size());
    for (uint32_t i = 0; i < keys.size(); i++) {
      auto k = Napi::Object::New(env);
      k.Set("digit", std::string(1, keys[i].digit));
      k.Set("duration", keys[i].duration);
      out.Set(i, k);
    }
    return out;
  }
  Napi::Value Reconfigure(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ReceiveConfig cfg = receive_config(env, info.Length() > 0 ? info[0] : env.Undefined());
    try {
      stream_->reconfigure(std::move(cfg));
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
  }
  Napi::Value ReportBlock(const Napi::CallbackInfo& info) {
    auto now = static_cast<int64_t>(number_arg(info, 0, "reportBlock(nowMs)"));
    return block_to_js(info.Env(), stream_->report_block(now));
  }
  Napi::Value OnSenderReport(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* usage = "onSenderReport(ssrc, ntp: bigint, arrivalMs)";
    auto ssrc = static_cast<uint32_t>(number_arg(info, 0, usage));
    if (info.Length() < 2) throw Napi::TypeError::New(env, usage);
    uint64_t ntp = bigint_u64(env, info[1], "ntp");
    stream_->on_sender_report(ssrc, ntp, static_cast<int64_t>(number_arg(info, 2, usage)));
    return env.Undefined();
  }
  std::unique_ptr<ReceiveStream> stream_;
};

class DtmfSenderWrap : public Napi::ObjectWrap<DtmfSenderWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "DtmfSender",
                       {InstanceMethod("start", &DtmfSenderWrap::Start), InstanceMethod("next", &DtmfSenderWrap::Next),
                        InstanceAccessor("active", &DtmfSenderWrap::Active, nullptr)});
  }
  explicit DtmfSenderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtmfSenderWrap>(info) {
    int rate = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 8000;
    int ms = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 20;
    try {
      sender_ = std::make_unique<DtmfSender>(rate, ms);
    } catch (const std::exception& e) {
      throw Napi::RangeError::New(info.Env(), e.what());
    }
  }

 private:
  Napi::Value Active(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), sender_->active()); }
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* usage = "start(digit: string, durationMs: number)";
    if (info.Length() < 2 || !info[0].IsString()) throw Napi::TypeError::New(env, usage);
    std::string digit = info[0].As<Napi::String>().Utf8Value();
    if (digit.size() != 1) throw Napi::TypeError::New(env, "digit must be one character");
    try {
      sender_->start(digit[0], static_cast<int>(number_arg(info, 1, usage)));
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    }
    return env.Undefined();
  }
  // next() → { payload, marker, tsOffset, end } | null
  Napi::Value Next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    DtmfPacket p{};
    if (!sender_->next(p)) return env.Null();
    auto o = Napi::Object::New(env);
    o.Set("payload", Napi::Buffer<uint8_t>::Copy(env, p.payload, 4));
    o.Set("marker", p.marker);
    o.Set("tsOffset", p.ts_offset);
    o.Set("end", p.end);
    return o;
  }
  std::unique_ptr<DtmfSender> sender_;
};

}  // namespace

void InitRtpBindings(Napi::Env env, Napi::Object exports) {
  auto rtp = Napi::Object::New(env);
  rtp.Set("parse", Napi::Function::New(env, RtpParse));
  rtp.Set("extension", Napi::Function::New(env, RtpExtension));
  rtp.Set("isRtcp", Napi::Function::New(env, RtpIsRtcp));
  rtp.Set("header", Napi::Function::New(env, RtpHeader));
  exports.Set("rtp", rtp);
  auto rtcp = Napi::Object::New(env);
  rtcp.Set("parse", Napi::Function::New(env, RtcpParse));
  rtcp.Set("buildReport", Napi::Function::New(env, RtcpBuildReport));
  rtcp.Set("buildBye", Napi::Function::New(env, RtcpBuildBye));
  rtcp.Set("ntpFromUnixMs", Napi::Function::New(env, RtcpNtpFromUnixMs));
  rtcp.Set("middle32", Napi::Function::New(env, RtcpMiddle32));
  rtcp.Set("rttMs", Napi::Function::New(env, RtcpRttMs));
  exports.Set("rtcp", rtcp);
  exports.Set("ReceiveStream", ReceiveStreamWrap::Init(env));
  exports.Set("DtmfSender", DtmfSenderWrap::Init(env));
}

}  // namespace parley
