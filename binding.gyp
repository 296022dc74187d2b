{
  "targets": [
    {
      "target_name": "parley_media",
      "sources": ["src/media/native/addon.cc", "src/media/native/g711.cc", "src/media/native/codec.cc", "src/media/native/mixer.cc", "src/media/native/wav_writer.cc", "src/media/native/dtmf.cc", "src/media/native/resampler.cc", "src/media/native/vad.cc", "src/media/native/addon_rtp.cc", "src/media/native/rtp_packet.cc", "src/media/native/rtcp.cc", "src/media/native/jitter_buffer.cc", "src/media/native/receive_stream.cc", "src/media/native/dtmf_sender.cc", "src/media/native/media_clock.cc", "src/media/native/event_queue.cc", "src/media/native/player.cc", "src/media/native/recorder.cc", "src/media/native/conference.cc", "src/media/native/endpoint.cc", "src/media/native/engine.cc", "src/media/native/udp_sender.cc", "src/media/native/addon_engine.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "<!@(sh src/media/native/pkg-flags.sh --cflags opus speexdsp spandsp liburing)"],
      "libraries": ["<!@(sh src/media/native/pkg-flags.sh --libs opus speexdsp spandsp liburing)"]
    }
  ]
}
