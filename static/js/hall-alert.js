// Students never miss a call: when the employer calls, the hall page rings, shows a desktop
// notification, flashes the tab title while the page is out of sight, announces the call
// once (an assertive live region) and counts down the answer time the server gave.
// hall-student.js drives it; nothing here talks to the server.
(function () {
  "use strict";
  const FLASH_TITLE = "【请入场】单位正在呼叫你";
  const RING_EVERY_S = 2; // one ring (two short tones) every 2 s until answered

  let audio = null; // made on the 开始排队 click: a page may only start sound after a gesture

  // Called from the 开始排队 click. The page has already told the student why it asks.
  // Resolves to "granted", "denied" or "unsupported".
  function prepare() {
    try {
      audio = audio || new AudioContext();
      audio.resume();
    } catch (e) { audio = null; /* no audio output: the other signals still work */ }
    if (!("Notification" in window)) return Promise.resolve("unsupported");
    if (Notification.permission === "denied") return Promise.resolve("denied"); // cannot ask again
    return Notification.requestPermission().then((p) => (p === "granted" ? p : "denied"));
  }

  class CallAlert {
    constructor({ announceEl, countdownEl, onExpire }) {
      this.announceEl = announceEl;
      this.countdownEl = countdownEl;
      this.onExpire = onExpire || function () {};
      this.title = document.title;
      this.ticketId = null;
      this.timer = null;
      this.bell = null;
      this.note = null;
      this.flashOn = false;
    }

    // `seconds`: the answer time left, from the server. The same call told again (after a
    // reconnect) only corrects the countdown: the announcement and ringing are not repeated.
    start(ticketId, seconds) {
      this.deadline = Date.now() + seconds * 1000;
      if (this.ticketId === ticketId) { this.tick(); return; }
      this.stop();
      this.ticketId = ticketId;
      const text = `单位正在呼叫你，请在 ${seconds} 秒内点击“接听”，否则将被标记为未到。`;
      this.announceEl.textContent = text;
      this.ring(seconds);
      this.notify(text);
      this.tick();
      // a background tab's timers may be slowed to once a minute, but not while it plays
      // sound, and the countdown is computed from the deadline, never counted in steps
      this.timer = setInterval(() => this.tick(), 500);
    }

    tick() {
      const left = Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
      const shown = String(left);
      if (this.countdownEl.textContent !== shown) this.countdownEl.textContent = shown;
      // the title flashes while the student cannot see the page; back on it, it is plain
      const away = document.hidden || !document.hasFocus();
      this.flashOn = away && !this.flashOn;
      document.title = this.flashOn ? FLASH_TITLE : this.title;
      if (left === 0) {
        this.stop();
        this.onExpire();
      }
    }

    ring(seconds) {
      if (!audio) {
        try { audio = new AudioContext(); } catch (e) { return; }
      }
      // every tone is scheduled on the audio clock now: no timer has to wake up to ring;
      // stop() cuts them all off at the bell
      this.bell = audio.createGain();
      this.bell.gain.value = 0.2;
      this.bell.connect(audio.destination);
      const start = audio.currentTime + 0.05;
      for (let t = 0; t < seconds; t += RING_EVERY_S) {
        for (const [offset, hz] of [[0, 880], [0.25, 660]]) {
          const osc = audio.createOscillator();
          osc.frequency.value = hz;
          osc.connect(this.bell);
          osc.start(start + t + offset);
          osc.stop(start + t + offset + 0.2);
        }
      }
    }

    notify(text) {
      if (!("Notification" in window) || Notification.permission !== "granted") return;
      try {
        this.note = new Notification("洽谈面试大厅：单位正在呼叫你", {
          body: `${text}请回到面试大厅页面。`, tag: "hall-call", requireInteraction: true,
        });
        this.note.onclick = () => { window.focus(); this.note.close(); };
      } catch (e) { this.note = null; /* e.g. Android Chrome wants a service worker */ }
    }

    // Answered, taken back, ended or timed out: all signals stop; the next call is new.
    stop() {
      clearInterval(this.timer);
      this.timer = null;
      if (this.bell) this.bell.disconnect();
      this.bell = null;
      if (this.note) this.note.close();
      this.note = null;
      this.flashOn = false;
      document.title = this.title;
      if (this.ticketId !== null) this.announceEl.textContent = "";
      this.ticketId = null;
    }
  }

  window.HallAlert = { prepare: prepare, CallAlert: CallAlert };
})();
