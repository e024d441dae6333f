// One 1:1 WebRTC call of the hall: perfect negotiation over the /hall socket, trickle ICE,
// ICE restart when the network changes, mute / camera off, and a quality indicator.
// The employer makes every offer (first call, after a reload, ICE restarts); the student
// only answers. With one offering side there is no glare to resolve, and the perfect
// negotiation rules below stay as a guard.
// Set-up is measured by bench/call_setup.py. Both sides prepare while the call rings
// (camera, ICE servers, the connection, and on the employer's side the offer and its
// candidates, held back until the call starts), so answering costs one offer/answer
// round trip and the ICE checks, not a camera start and an HTTP request on each side.
/* global io */
(function () {
  "use strict";
  // TURN logins last TURN_TTL_SECONDS (an hour by default): reuse the answer well within it
  const ICE_REUSE_MS = 10 * 60 * 1000;
  let iceFetched = null; // { at, servers: Promise }

  async function fetchIceServers() {
    try {
      const res = await fetch("/hall/ice", { credentials: "same-origin" });
      if (res.ok) return (await res.json()).iceServers || [];
    } catch (e) { /* no TURN configured: direct and loopback paths still work */ }
    return [];
  }

  function iceServers() {
    if (!iceFetched || Date.now() - iceFetched.at > ICE_REUSE_MS) {
      iceFetched = { at: Date.now(), servers: fetchIceServers() };
    }
    return iceFetched.servers;
  }

  // A stream with a live camera and microphone (the device check's) can be the call's.
  function liveStream(stream) {
    const live = (tracks) => tracks.length > 0 && tracks.every((t) => t.readyState === "live");
    return stream && live(stream.getVideoTracks()) && live(stream.getAudioTracks()) ? stream : null;
  }

  // Before any figure: 连接中 until media flows, then 已连接 until the first round trip is
  // measured; after that the verdict of rtc/quality.py's table (static/js/quality.js).
  const CONNECTING = "连接中";
  const MEASURING = "已连接，正在测量";

  // The round trip of the pair in use (the transport's selected pair: "nominated" is not
  // reported by every browser), else the one RTCP receiver reports carry.
  function roundTripMs(stats) {
    let pairId = null, remote = null;
    stats.forEach((s) => {
      if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      if (s.type === "remote-inbound-rtp" && s.roundTripTime !== undefined && remote === null) remote = s.roundTripTime;
    });
    const pair = pairId ? stats.get(pairId) : null;
    if (pair && pair.currentRoundTripTime !== undefined) return { rtt: pair.currentRoundTripTime * 1000, pair };
    return { rtt: remote === null ? null : remote * 1000, pair };
  }

  class HallCall {
    // qualityEl: a live region given data-quality; it changes (and is announced) only when
    // the verdict does, the figures go to the element "<its id>-figures", which is not live.
    constructor({ socket, ticketId, polite, localVideo, remoteVideo, qualityEl, onState, stream }) {
      this.socket = socket;
      this.ticketId = ticketId;
      this.polite = polite;
      this.localVideo = localVideo;
      this.remoteVideo = remoteVideo;
      this.qualityEl = qualityEl;
      this.figuresEl = qualityEl ? document.getElementById(`${qualityEl.id}-figures`) : null;
      this.quality = qualityEl ? window.Quality.fromElement(qualityEl) : null;
      this.onState = onState || function () {};
      this.pc = null;
      this.stream = null;
      this.source = stream || null; // a stream to start with, or its promise (the camera starting)
      this.ready = null; // the connection being made (prepare or start)
      this.live = false; // the call started: signals go out at once instead of into `held`
      this.held = [];
      this.makingOffer = false;
      this.ignoreOffer = false;
      this.statsTimer = null;
      this.lastStats = null;
      this.counts = { sent: 0, received: 0 }; // shown to support staff and tests
      this.chain = Promise.resolve();
      this.pending = []; // signals that arrive while a new connection is being set up
      this.onSignal = (msg) => {
        if (msg.ticket_id !== this.ticketId) return;
        this.counts.received += 1;
        // one signal at a time, in arrival order: a candidate must not overtake its offer
        this.chain = this.chain.then(() => this.handle(msg.payload));
      };
      socket.on("signal", this.onSignal);
    }

    send(payload) {
      // before the call starts the server would refuse a signal (we are not in the call yet)
      if (!this.live) { this.held.push(payload); return; }
      this.counts.sent += 1;
      this.socket.emit("signal", { ticket_id: this.ticketId, payload: payload });
    }

    // While the call rings: everything up to the first offer, nothing sent yet.
    prepare() {
      if (!this.ready) {
        this.ready = this.connect().catch((e) => { this.ready = null; throw e; }); // start() retries
      }
      return this.ready;
    }

    // The call started (or resumed after a reload: then a new connection is made).
    async start() {
      const prepared = this.ready && !this.live;
      this.ready = prepared ? this.ready : this.connect();
      await this.ready;
      this.live = true;
      this.startedAt = Date.now();
      this.held.splice(0).forEach((payload) => this.send(payload));
      clearInterval(this.statsTimer);
      this.statsTimer = setInterval(() => this.measure(), 2000);
    }

    async connect() {
      // From here until the new connection exists, incoming signals wait in `pending`:
      // an offer from a peer that just reloaded must reach the new connection, not the old.
      if (this.pc) this.pc.close();
      this.pc = null;
      this.lastStats = null; // figures belong to one connection
      this.reported = null;
      const servers = iceServers(); // asked for while the camera starts
      if (!this.stream) {
        const given = liveStream(await Promise.resolve(this.source).catch(() => null));
        this.source = null;
        this.stream = given || await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      }
      if (this.localVideo.srcObject !== this.stream) this.localVideo.srcObject = this.stream;
      const pc = new RTCPeerConnection({ iceServers: await servers });
      this.pc = pc;
      this.held = []; // anything held was for the connection just closed
      this.startedAt = Date.now();
      window.hallCall = this; // tests and support read getStats from here
      this.stream.getTracks().forEach((t) => pc.addTrack(t, this.stream));
      pc.ontrack = ({ streams }) => { this.remoteVideo.srcObject = streams[0]; };
      // say so as soon as the picture plays, not at the next 2 s tick
      this.remoteVideo.onplaying = () => this.measure();
      pc.onicecandidate = ({ candidate }) => { if (candidate) this.send({ candidate: candidate.toJSON() }); };
      pc.onnegotiationneeded = async () => {
        if (this.polite) return; // the student waits for the employer's offer
        try {
          this.makingOffer = true;
          await pc.setLocalDescription();
          this.send({ description: pc.localDescription.toJSON() });
        } catch (e) {
          console.warn("negotiation", e);
        } finally {
          this.makingOffer = false;
        }
      };
      pc.oniceconnectionstatechange = () => {
        this.onState(pc.iceConnectionState);
        if (pc.iceConnectionState === "connected") this.measure();
        // a changed network (Wi-Fi → 4G) breaks the path: look for a new one
        if (pc.iceConnectionState === "failed") pc.restartIce();
      };
      const waiting = this.pending.splice(0);
      this.chain = this.chain.then(async () => { for (const payload of waiting) await this.handle(payload); });
    }

    async handle(payload) {
      const pc = this.pc;
      if (!pc) { this.pending.push(payload); return; }
      if (payload.bye) { this.onState("peer-left"); return; }
      try {
        if (payload.description) {
          const d = payload.description;
          const collision = d.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
          this.ignoreOffer = !this.polite && collision;
          if (this.ignoreOffer) return;
          await pc.setRemoteDescription(d);
          if (d.type === "offer") {
            await pc.setLocalDescription();
            this.send({ description: pc.localDescription.toJSON() });
          }
        } else if (payload.candidate) {
          try {
            await pc.addIceCandidate(payload.candidate);
          } catch (e) {
            if (!this.ignoreOffer) throw e;
          }
        }
      } catch (e) {
        console.warn("signal", e);
      }
    }

    async measure() {
      if (!this.pc) return;
      // A negotiation lost on the way (a reconnect at the wrong moment) leaves both sides
      // stable and ICE idle; the offering side then starts over with an ICE restart.
      const pc = this.pc;
      if (!this.polite && pc.iceConnectionState === "new" && pc.signalingState !== "closed" &&
          Date.now() - this.startedAt > 6000) {
        this.startedAt = Date.now();
        console.warn("call idle: restarting negotiation", this.counts);
        if (pc.signalingState === "stable") pc.restartIce();
        else {
          // our offer got no answer: send it again
          this.send({ description: pc.localDescription.toJSON() });
        }
      }
      const stats = await this.pc.getStats();
      const { rtt, pair } = roundTripMs(stats);
      let lost = 0, received = 0, frames = 0, fps = null;
      let bytesOut = 0, bytesIn = 0, width = 0, height = 0;
      stats.forEach((s) => {
        if (s.type === "outbound-rtp") bytesOut += s.bytesSent || 0;
        if (s.type === "inbound-rtp") {
          lost += s.packetsLost || 0;
          received += s.packetsReceived || 0;
          bytesIn += s.bytesReceived || 0;
          if (s.kind === "video") {
            frames = s.framesDecoded || 0; fps = s.framesPerSecond || fps;
            width = s.frameWidth || width; height = s.frameHeight || height;
          }
        }
      });
      const local = pair ? stats.get(pair.localCandidateId) : null;
      const loss = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
      this.lastStats = { rttMs: rtt, lossPct: loss, framesDecoded: frames, fps: fps };
      this.report({ at: Date.now(), rtt, lost, received, bytesOut, bytesIn, fps, width, height,
                    relay: Boolean(local && local.candidateType === "relay") });
      this.showQuality(rtt, loss, frames);
    }

    showQuality(rtt, lossPct, frames) {
      if (!this.qualityEl) return;
      const verdict = rtt === null ? "" : this.quality.judge(rtt, lossPct / 100);
      const flowing = frames > 0 || (this.pc && ["connected", "completed"].includes(this.pc.iceConnectionState));
      const word = verdict ? this.quality.labels[verdict] : flowing ? MEASURING : CONNECTING;
      if (this.qualityEl.textContent !== word) this.qualityEl.textContent = word; // announced once
      this.qualityEl.dataset.verdict = verdict;
      if (!this.figuresEl) return;
      const parts = [];
      if (rtt !== null) parts.push(`延迟 ${Math.round(rtt)} 毫秒`);
      if (rtt !== null || frames > 0) parts.push(`丢包 ${lossPct.toFixed(1)}%`);
      if (this.lastStats.fps) parts.push(`${Math.round(this.lastStats.fps)} 帧/秒`);
      this.figuresEl.textContent = parts.join(" · ");
    }

    // Every 5 s a compact summary goes to the server for the admins' monitor: the figures of
    // the last interval (loss and bitrates from counter deltas), never the raw stats.
    report(now) {
      const prev = this.reported;
      if (prev && now.at - prev.at < 5000) return;
      this.reported = now;
      if (!prev) return;
      const seconds = (now.at - prev.at) / 1000;
      const lost = Math.max(0, now.lost - prev.lost), got = Math.max(0, now.received - prev.received);
      const sample = {
        ticket_id: this.ticketId, rtt_ms: now.rtt, loss: lost + got > 0 ? lost / (lost + got) : 0,
        out_kbps: Math.max(0, (now.bytesOut - prev.bytesOut) * 8 / 1000 / seconds),
        in_kbps: Math.max(0, (now.bytesIn - prev.bytesIn) * 8 / 1000 / seconds),
        fps: now.fps || 0, width: now.width, height: now.height, relay: now.relay,
      };
      this.lastSample = sample;
      this.socket.emit("quality", sample);
    }

    // 切换摄像头 on a phone: front ↔ back. The old camera is released first (many phones
    // cannot open both at once); the new track replaces the old one in the call without a
    // renegotiation.
    async switchCamera() {
      if (!this.stream) return null;
      const old = this.stream.getVideoTracks()[0];
      const enabled = old ? old.enabled : true;
      const sender = this.pc && this.pc.getSenders().find((s) => s.track && s.track.kind === "video");
      const facing = this.facing === "environment" ? "user" : "environment";
      if (old) { old.stop(); this.stream.removeTrack(old); }
      const fresh = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: facing } } });
      const track = fresh.getVideoTracks()[0];
      track.enabled = enabled;
      this.stream.addTrack(track);
      if (sender) await sender.replaceTrack(track);
      this.localVideo.srcObject = this.stream;
      this.facing = facing;
      return facing;
    }

    setMuted(muted) { this.stream && this.stream.getAudioTracks().forEach((t) => { t.enabled = !muted; }); }
    setCameraOff(off) { this.stream && this.stream.getVideoTracks().forEach((t) => { t.enabled = !off; }); }

    close(tellPeer) {
      if (tellPeer && this.live) this.send({ bye: true });
      clearInterval(this.statsTimer);
      this.socket.off("signal", this.onSignal);
      if (this.pc) this.pc.close();
      this.pc = null;
      if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
      this.stream = null;
    }
  }

  // auth: what the page is for (a student's page names its booth: only that booth's
  // running call resumes in it)
  function connectHall(auth) {
    iceServers(); // now, so that no call waits for it
    // websocket only: a hall with thousands of waiters should not poll
    return io("/hall", { transports: ["websocket"], withCredentials: true, auth: auth || {} });
  }

  function formatWait(seconds) {
    if (seconds === undefined || seconds === null) return "";
    const minutes = Math.max(1, Math.round(seconds / 60));
    return seconds < 30 ? "马上轮到你" : `约 ${minutes} 分钟`;
  }

  // 大厅通知 from the admins: shown at once on every stage of the page, each once.
  function showHallNotices(socket) {
    const box = document.getElementById("hall-notices");
    if (!box) return;
    const seen = new Set();
    socket.on("hall_notice", (n) => {
      if (seen.has(n.id)) return;
      seen.add(n.id);
      const item = document.createElement("li");
      item.textContent = n.body;
      const when = document.createElement("time");
      when.textContent = new Date(n.created_at).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
      item.append(" ", when);
      box.querySelector("ul").append(item);
      box.hidden = false;
    });
  }

  window.Hall = { HallCall: HallCall, connectHall: connectHall, formatWait: formatWait,
                  showHallNotices: showHallNotices };
})();
