// 设备与网络检测: camera preview, microphone level, and a WebRTC probe to the server's
// echo peer (rtc/probe.py). The page gives the URLs and the verdict table (thresholds and
// labels) of rtc/quality.py, read by static/js/quality.js, so the browser and the server
// judge with the same numbers and name the result with the same words.
// The result is kept on window.hallProbeResult and sent as a "probe-done" event so the
// hall page can keep it with the ticket; the camera and microphone stay on
// (window.hallProbeStream), so a call need not start them again.
(function () {
  "use strict";
  const root = document.getElementById("device-check");
  if (!root) return;

  const PINGS = 20;
  // One ping in flight at a time, so each answer times one clean round trip. An answer
  // later than this counts as lost; it is far beyond the "usable" bound anyway.
  const PING_TIMEOUT_MS = 1000;
  // Without a reachable STUN server gathering can hang; what we have by then is sent.
  const GATHER_TIMEOUT_MS = 5000;
  const OPEN_TIMEOUT_MS = 10000;
  // a peak level below this over the whole check: the microphone gives silence (muted)
  const HEARD_LEVEL = 0.02;
  const quality = window.Quality.fromElement(root);
  const byId = (id) => document.getElementById(id);
  const video = byId("check-video");
  const meter = byId("check-meter");
  const button = byId("check-start");
  const verdictOut = byId("check-network-verdict");
  let running = null; // { stream, audio, frame } of the last run, stopped before the next

  // Errors whose message is written for the user; anything else gets a general message.
  class CheckError extends Error {}

  function setText(id, text) {
    byId(id).textContent = text;
  }

  function withTimeout(promise, ms, message) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckError(message)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // Mirrors rtc/quality.py verdict(); tests compare the two on the same samples.
  function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  }

  function judge(samples, sent, received) {
    const rtt = samples.length ? median(samples) : null;
    const loss = sent ? (sent - received) / sent : 1;
    return { verdict: quality.judge(rtt, loss), rttMs: rtt, loss };
  }

  async function openMedia() {
    if (!navigator.mediaDevices) return new MediaStream(); // not a secure context
    try {
      return await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (err) {
      // One device missing or refused must not hide the other.
      const stream = new MediaStream();
      for (const kind of ["video", "audio"]) {
        try {
          const one = await navigator.mediaDevices.getUserMedia({ [kind]: true });
          one.getTracks().forEach((t) => stream.addTrack(t));
        } catch (ignored) { /* reported below as "not found" */ }
      }
      return stream;
    }
  }

  async function checkCamera(stream) {
    const track = stream.getVideoTracks()[0];
    if (!track) {
      setText("check-camera-status", "未检测到摄像头，或未允许使用摄像头");
      return { ok: false };
    }
    video.srcObject = new MediaStream([track]);
    const shown = video.videoWidth ? Promise.resolve()
      : new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
    try {
      await withTimeout(shown, 5000, "no picture");
    } catch (err) {
      setText("check-camera-status", "摄像头没有画面");
      return { ok: false };
    }
    setText("check-camera-status", `正常（${video.videoWidth}×${video.videoHeight}）`);
    return { ok: true, width: video.videoWidth, height: video.videoHeight };
  }

  function checkMicrophone(stream, run) {
    const track = stream.getAudioTracks()[0];
    if (!track) {
      setText("check-mic-status", "未检测到麦克风，或未允许使用麦克风");
      return { ok: false, peak: 0 };
    }
    const audio = new AudioContext();
    run.audio = audio;
    const analyser = audio.createAnalyser();
    analyser.fftSize = 1024;
    audio.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    const mic = { ok: true, peak: 0 };
    const tick = () => {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      // Speech is roughly 0.01–0.25 RMS: scaled so talking fills the middle of the meter.
      const level = Math.min(1, Math.sqrt(sum / data.length) * 4);
      meter.value = level;
      mic.peak = Math.max(mic.peak, level);
      // a first sound after the check ended (the network part can finish within a second)
      // still turns the line into 正常
      if (mic.shown && !mic.heard && mic.peak >= HEARD_LEVEL) showMicrophone(mic);
      run.frame = requestAnimationFrame(tick);
    };
    audio.resume().then(tick);
    setText("check-mic-status", "已开启，请说几句话…");
    return mic;
  }

  // Once the check is over, the microphone line is a result like the camera's and network's.
  function showMicrophone(mic) {
    if (!mic.ok) return; // already says what is missing
    mic.shown = true;
    mic.heard = mic.peak >= HEARD_LEVEL;
    setText("check-mic-status", mic.heard ? "正常（检测到声音）"
      : "已开启，但没有检测到声音：请检查麦克风是否静音，然后点击“重新检测”");
  }

  function gatheringComplete(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    });
  }

  async function ping(channel) {
    const samples = [];
    let waiting = null;
    channel.onmessage = (event) => {
      let msg;
      try { msg = JSON.parse(event.data); } catch (ignored) { return; }
      if (waiting && msg.seq === waiting.seq) {
        samples.push(performance.now() - msg.t);
        waiting.resolve();
      }
    };
    let sent = 0;
    for (let seq = 0; seq < PINGS; seq += 1) {
      const answered = new Promise((resolve) => {
        waiting = { seq, resolve };
        setTimeout(resolve, PING_TIMEOUT_MS); // lost: move on
      });
      channel.send(JSON.stringify({ seq, t: performance.now() }));
      sent += 1;
      await answered;
    }
    waiting = null;
    return { samples, sent, received: samples.length };
  }

  async function probeNetwork() {
    const iceResp = await fetch(root.dataset.iceUrl, { headers: { Accept: "application/json" } });
    if (!iceResp.ok) throw new CheckError("无法获取网络配置，请刷新页面后重试");
    const { iceServers } = await iceResp.json();
    const pc = new RTCPeerConnection({ iceServers });
    try {
      // Unordered and never retransmitted: a lost ping stays lost, so loss is measured
      // instead of being hidden as a longer round trip.
      const channel = pc.createDataChannel("probe", { ordered: false, maxRetransmits: 0 });
      const opened = new Promise((resolve) => { channel.onopen = resolve; });
      await pc.setLocalDescription(await pc.createOffer());
      await withTimeout(gatheringComplete(pc), GATHER_TIMEOUT_MS, "gathering").catch(() => {});
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const resp = await fetch(root.dataset.probeUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ sdp: pc.localDescription.sdp, type: pc.localDescription.type }),
      });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new CheckError(body.error || "网络检测失败，请稍后再试");
      await pc.setRemoteDescription(body);
      await withTimeout(opened, OPEN_TIMEOUT_MS, "无法与服务器建立连接，可能被防火墙阻挡");
      return await ping(channel);
    } finally {
      pc.close();
    }
  }

  function showNetwork(result) {
    verdictOut.textContent = result.label;
    verdictOut.dataset.verdict = result.verdict;
    setText("check-network-figures", result.error ? result.error
      : `往返时延 ${Math.round(result.rttMs)} 毫秒，丢包 ${Math.round(result.loss * 100)}%` +
        `（${result.received}/${result.sent} 个探测包返回）`);
  }

  function stop(run) {
    if (!run) return;
    cancelAnimationFrame(run.frame);
    if (run.audio) run.audio.close();
    if (run.stream) run.stream.getTracks().forEach((t) => t.stop());
  }

  async function start() {
    button.disabled = true;
    stop(running);
    const run = { stream: null, audio: null, frame: 0 };
    running = run;
    verdictOut.textContent = "检测中…";
    verdictOut.dataset.verdict = "";
    setText("check-network-figures", "");
    setText("check-camera-status", "检测中…");
    setText("check-mic-status", "检测中…");
    // Media first: once the camera is allowed, Chromium offers real host addresses to
    // ICE instead of mDNS names, which gives the probe a more truthful path.
    run.stream = await openMedia();
    window.hallProbeStream = run.stream; // kept running: the hall's call starts with it
    const camera = await checkCamera(run.stream);
    const microphone = checkMicrophone(run.stream, run);
    let network;
    try {
      const { samples, sent, received } = await probeNetwork();
      network = { ...judge(samples, sent, received), samples, sent, received, error: null };
    } catch (err) {
      network = { verdict: "poor", rttMs: null, loss: 1, samples: [], sent: 0, received: 0,
                  error: err instanceof CheckError ? err.message : "网络检测失败，请稍后再试" };
    }
    const result = { ...network, label: quality.labels[network.verdict], camera, microphone };
    showNetwork(result);
    showMicrophone(microphone);
    window.hallProbeResult = result;
    document.dispatchEvent(new CustomEvent("probe-done", { detail: result }));
    button.textContent = "重新检测";
    button.disabled = false;
  }

  button.addEventListener("click", start);
})();
