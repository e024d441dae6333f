// One 1:1 WebRTC call of the hall: perfect negotiation over the /hall socket, trickle ICE,
// ICE restart when the network changes, mute / camera off, and a quality indicator.
// The employer makes every offer (first call, after a reload, ICE restarts); the student
// only answers. With one offering side there is no glare to resolve, and the perfect
// negotiation rules below stay as a guard.
/* global io */
(function () {
  "use strict";

  async function iceServers() {
    try {
      const res = await fetch("/hall/ice", { credentials: "same-origin" });
      if (res.ok) return (await res.json()).iceServers || [];
    } catch (e) { /* no TURN configured: direct and loopback paths still work */ }
    return [];
  }

  function verdict(rttMs, lossPct) {
    if (rttMs === null) return "连接中";
    if (rttMs < 150 && lossPct < 2) return "良好";
    if (rttMs < 400 && lossPct < 10) return "一般";
    return "较差";
  }

  class HallCall {
    constructor({ socket, ticketId, polite, localVideo, remoteVideo, qualityEl, onState }) {
      this.socket = socket;
      this.ticketId = ticketId;
      this.polite = polite;
      this.localVideo = localVideo;
      this.remoteVideo = remoteVideo;
      this.qualityEl = qualityEl;
      this.onState = onState || function () {};
      this.pc = null;
      this.stream = null;
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
      this.counts.sent += 1;
      this.socket.emit("signal", { ticket_id: this.ticketId, payload: payload });
    }

    async start() {
      // From here until the new connection exists, incoming signals wait in `pending`:
      // an offer from a peer that just reloaded must reach the new connection, not the old.
      if (this.pc) this.pc.close();
      this.pc = null;
      this.lastStats = null; // figures belong to one connection
      this.reported = null;
      if (!this.stream) {
        this.stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
        this.localVideo.srcObject = this.stream;
      }
      const pc = new RTCPeerConnection({ iceServers: await iceServers() });
      this.pc = pc;
      this.startedAt = Date.now();
      window.hallCall = this; // tests and support read getStats from here
      this.stream.getTracks().forEach((t) => pc.addTrack(t, this.stream));
      pc.ontrack = ({ streams }) => { this.remoteVideo.srcObject = streams[0]; };
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
        // a changed network (Wi-Fi → 4G) breaks the path: look for a new one
        if (pc.iceConnectionState === "failed") pc.restartIce();
      };
      clearInterval(this.statsTimer);
      this.statsTimer = setInterval(() => this.measure(), 2000);
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
      let rtt = null, lost = 0, received = 0, frames = 0, fps = null;
      let bytesOut = 0, bytesIn = 0, width = 0, height = 0, localId = null;
      stats.forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) {
          rtt = s.currentRoundTripTime * 1000;
          localId = s.localCandidateId;
        }
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
      const local = localId ? stats.get(localId) : null;
      const loss = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
      this.lastStats = { rttMs: rtt, lossPct: loss, framesDecoded: frames, fps: fps };
      this.report({ at: Date.now(), rtt, lost, received, bytesOut, bytesIn, fps, width, height,
                    relay: Boolean(local && local.candidateType === "relay") });
      if (this.qualityEl) {
        const parts = [verdict(rtt, loss)];
        if (rtt !== null) parts.push(`延迟 ${Math.round(rtt)} 毫秒`);
        parts.push(`丢包 ${loss.toFixed(1)}%`);
        if (fps) parts.push(`${Math.round(fps)} 帧/秒`);
        this.qualityEl.textContent = parts.join(" · ");
      }
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
      if (tellPeer) this.send({ bye: true });
      clearInterval(this.statsTimer);
      this.socket.off("signal", this.onSignal);
      if (this.pc) this.pc.close();
      this.pc = null;
      if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
      this.stream = null;
    }
  }

  function connectHall() {
    // websocket only: a hall with thousands of waiters should not poll
    return io("/hall", { transports: ["websocket"], withCredentials: true });
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
