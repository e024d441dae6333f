// The employer's interview room: who waits, who is late, who was interviewed; 呼叫下一位;
// the call with the resume beside it; notes and the outcome.
/* global Hall, SocketTalk */
(function () {
  "use strict";
  const root = document.getElementById("hall-booth");
  if (!root) return;
  const sessionId = parseInt(root.dataset.sessionId, 10);
  const resumeBase = root.dataset.resumeBase; // ends with "/": the application id follows
  const $ = (id) => document.getElementById(id);
  const socket = Hall.connectHall();
  let booth = null;
  let call = null;
  let known = new Set();
  let camera = null; // the camera starting since 呼叫下一位 was clicked, for the call it makes

  function say(text) { $("booth-status").textContent = text; }
  function time(iso) { return iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" }) : "随到随面"; }

  function li(item, extra) {
    const el = document.createElement("li");
    el.dataset.ticketId = item.ticket_id || "";
    const name = document.createElement("strong");
    name.textContent = item.name;
    el.appendChild(name);
    el.appendChild(document.createTextNode(` · ${time(item.slot_at)}${extra || ""}`));
    if (item.application_id) {
      const a = document.createElement("a");
      a.href = `/employer/applications/${item.application_id}`;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = "简历";
      el.appendChild(document.createTextNode(" "));
      el.appendChild(a);
    }
    return el;
  }

  function fill(listId, items, extra) {
    const list = $(listId);
    list.replaceChildren(...items.map((i) => li(i, extra ? extra(i) : "")));
    // an empty list is hidden and its note shown: no numbered "1. 无" item
    list.hidden = !items.length;
    $(`${listId}-empty`).hidden = items.length > 0;
  }

  function render(view) {
    booth = view;
    // a waiter at another employer's call keeps the place and is called once free
    fill("waiting-list", view.waiting, (i) => `${i.connected ? "" : "（网络断开，保留位置中）"}${i.busy_elsewhere ? "（正在其他单位面试）" : ""}`);
    fill("late-list", view.late.map((l) => ({ name: l.name, slot_at: l.slot_at })));
    fill("done-list", view.done, (i) => (i.outcome ? ` · ${i.outcome}` : ""));
    fill("noshow-list", view.no_show);
    $("noshow-list").querySelectorAll("li[data-ticket-id]").forEach((el) => {
      if (!el.dataset.ticketId) return;
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "重新呼叫";
      b.addEventListener("click", () => act("recall", { session_id: sessionId, ticket_id: parseInt(el.dataset.ticketId, 10) }));
      el.appendChild(document.createTextNode(" "));
      el.appendChild(b);
    });
    $("waiting-count").textContent = view.waiting.length;
    const current = view.current;
    $("current-call").textContent = current ? `${current.name}（${current.status === "called" ? "呼叫中，等待应答" : "面试中"}）` : "无";
    $("call-next").disabled = Boolean(current) || view.waiting.length === 0;
    $("waiting-list").querySelectorAll("li").forEach((el, i) => {
      el.classList.toggle("busy-elsewhere", Boolean(view.waiting[i] && view.waiting[i].busy_elsewhere));
    });
    $("skip-button").hidden = !(current && current.status === "called");
    $("walk-ins").checked = Boolean(view.allow_walk_ins);
    $("skip-button").dataset.ticketId = current ? current.ticket_id : "";
    prepareCall(current);
    if (view.status === "ended") { say("今天的面试已结束"); $("call-next").disabled = true; $("end-session").disabled = true; }
    if (view.status === "closed") { $("call-next").disabled = true; $("end-session").disabled = true; }
    const arrived = view.waiting.filter((w) => !known.has(w.ticket_id));
    if (known.size && arrived.length) alertArrival(arrived);
    view.waiting.forEach((w) => known.add(w.ticket_id));
    if (!known.size) view.waiting.forEach((w) => known.add(w.ticket_id));
  }

  function alertArrival(arrived) {
    const names = arrived.map((a) => a.name).join("、");
    say(`${names} 已进入排队`);
    if (!document.hidden) return;
    // someone arrived while the tab is in the background: tell the interviewer
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.connect(ctx.destination);
      osc.frequency.value = 880;
      osc.start();
      osc.stop(ctx.currentTime + 0.3);
    } catch (e) { /* no audio output */ }
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("洽谈面试大厅", { body: `${names} 已进入排队` });
    }
  }

  async function act(event, data) {
    const ack = await SocketTalk.ask(socket, event, data);
    if (!ack.ok) say(ack.error);
    return ack;
  }

  async function watch() {
    const ack = await act("watch", { session_id: sessionId });
    if (ack.ok) render(Object.assign({ late: [] }, ack.booth));
  }

  socket.on("connect", () => { say("已连接"); watch(); });
  socket.on("disconnect", () => say("网络断开，正在重连…"));
  socket.on("connect_error", (err) => say(`无法连接面试大厅：${SocketTalk.connectErrorText(socket, err)}`));
  socket.on("booth", (view) => render(view));
  socket.on("call_started", (c) => startCall(c.ticket_id));
  socket.on("call_resumed", (c) => startCall(c.ticket_id));
  socket.on("call_ended", () => endCall());
  Hall.showHallNotices(socket);
  socket.on("booth_closed", (b) => {
    say(`管理员已关闭本面试间：${b.reason}`);
    $("call-next").disabled = true;
  });

  // The call of `ticketId`, made once; its student's resume loads beside it.
  function ownCall(ticketId) {
    if (!call || call.ticketId !== ticketId) {
      if (call) call.close(false);
      call = new Hall.HallCall({
        socket: socket, ticketId: ticketId, polite: false, localVideo: $("local-video"),
        remoteVideo: $("remote-video"), qualityEl: $("call-quality"), stream: camera,
        onState: (s) => { if (s === "peer-left") say("学生已挂断，可等待其重新加入或结束面试"); },
      });
      camera = null;
      const current = booth && booth.current;
      if (current && current.ticket_id === ticketId && current.application_id) loadResume(current.application_id);
    }
    return call;
  }

  // While a student is being called, the camera, the connection and the offer get ready
  // (sent when the student answers); a call that rang out (未到, skipped) lets them go.
  function prepareCall(current) {
    if (call && !call.live && !(current && current.ticket_id === call.ticketId)) {
      call.close(false);
      call = null;
    }
    if (current && current.status === "called") {
      ownCall(current.ticket_id).prepare().catch((e) => console.warn("prepare", e));
    }
  }

  async function startCall(ticketId) {
    $("call-panel").hidden = false;
    $("outcome-form").dataset.ticketId = ticketId;
    await ownCall(ticketId).start();
  }

  async function loadResume(applicationId) {
    const res = await fetch(resumeBase + String(applicationId), { credentials: "same-origin" });
    if (res.ok) $("call-resume").innerHTML = await res.text(); // server-rendered, autoescaped
  }

  function endCall() {
    if (call) call.close(false);
    call = null;
    $("call-panel").hidden = true;
    $("outcome-form").reset();
  }

  $("call-next").addEventListener("click", async () => {
    // the camera starts while the student is being called, not after the answer
    camera = camera || navigator.mediaDevices.getUserMedia({ video: true, audio: true }).catch(() => null);
    const ack = await act("call_next", { session_id: sessionId });
    if (ack.ok && !ack.ticket_id) {
      say(ack.passed_over ? "排在前面的学生正在其他单位面试，结束后可以呼叫；暂无其他可呼叫的学生" : "暂无可呼叫的学生");
    }
    if ((!ack.ok || !ack.ticket_id) && camera) { // nobody called: the camera goes off again
      camera.then((s) => s && s.getTracks().forEach((t) => t.stop()));
      camera = null;
    }
  });
  $("skip-button").addEventListener("click", (e) => act("skip", { session_id: sessionId, ticket_id: parseInt(e.currentTarget.dataset.ticketId, 10) }));
  $("walk-ins").addEventListener("change", (e) => act("set_walk_ins", { session_id: sessionId, allow: e.currentTarget.checked }));
  $("end-session").addEventListener("click", () => {
    if (window.confirm("结束后，仍在排队的学生会收到通知并离开队列。确定结束今天的面试吗？")) act("end_session", { session_id: sessionId });
  });
  $("notify-button").addEventListener("click", () => {
    if ("Notification" in window) Notification.requestPermission().then((p) => say(p === "granted" ? "已开启桌面提醒" : "未开启桌面提醒"));
  });
  $("mute-button").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    e.currentTarget.setAttribute("aria-pressed", String(on));
    if (call) call.setMuted(on);
  });
  $("camera-button").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    e.currentTarget.setAttribute("aria-pressed", String(on));
    if (call) call.setCameraOff(on);
  });
  $("outcome-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const outcome = form.querySelector("input[name=outcome]:checked");
    if (!outcome) { $("outcome-error").textContent = "请选择面试结果"; return; }
    $("outcome-error").textContent = "";
    const ack = await act("finish", {
      ticket_id: parseInt(form.dataset.ticketId, 10), outcome: outcome.value,
      notes: form.querySelector("textarea").value, release: form.querySelector("input[name=release]").checked,
    });
    if (ack.ok) { endCall(); say("面试已结束，可以呼叫下一位"); }
  });

  // On a tablet the resume folds away (the video keeps the width) behind one toggle.
  function setSide(open) {
    $("call-layout").classList.toggle("side-collapsed", !open);
    $("side-toggle").setAttribute("aria-expanded", String(open));
    $("side-toggle").textContent = open ? "收起简历" : "显示简历";
  }
  setSide(!window.matchMedia("(max-width: 1024px)").matches);
  $("side-toggle").addEventListener("click", () => setSide($("side-toggle").getAttribute("aria-expanded") !== "true"));
})();
