// The student's side of 洽谈面试大厅: queue, place and wait, answer the call, the call.
/* global Hall, HallAlert, SocketTalk */
(function () {
  "use strict";
  const root = document.getElementById("hall-student");
  if (!root) return;
  const interviewId = parseInt(root.dataset.interviewId || "0", 10);
  const walkInSession = parseInt(root.dataset.walkInSession || "0", 10); // 随到随面
  // This page is one booth's. The student may hold places at several booths: every event
  // names its booth, and this page acts only on its own; a call ringing at another booth
  // shows as a notice with a link there and never touches this page's call.
  const sessionId = parseInt(root.dataset.sessionId || "0", 10);
  const $ = (id) => document.getElementById(id);
  const status = $("hall-status");
  const socket = Hall.connectHall({ session_id: sessionId });
  const mine = (e) => Boolean(e) && e.session_id === sessionId;
  let ticketId = null;
  let call = null;
  const callAlert = new HallAlert.CallAlert({
    announceEl: $("call-alert"), countdownEl: $("answer-countdown"),
    onExpire: () => say("接听时间已到，未接听的呼叫将被标记为未到"),
  });

  function show(section) {
    const lost = root.contains(document.activeElement) && !$(section).contains(document.activeElement);
    ["stage-check", "stage-wait", "stage-called", "stage-call", "stage-ended"].forEach((id) => {
      $(id).hidden = id !== section;
    });
    // focus in a stage just hidden would fall to <body>: a keyboard or screen-reader user
    // continues from the new stage's heading instead of the top of the page
    const heading = $(section).querySelector("h2");
    if (lost && heading) { heading.tabIndex = -1; heading.focus(); }
  }

  // a polite live region: writing the same text again would announce it again
  function say(text) { if (status.textContent !== text) status.textContent = text; }

  // Asked at 开始排队 (the hint beside the button said why); the answer says what still works.
  function askToNotify() {
    HallAlert.prepare().then((p) => {
      $("notify-state").textContent = p === "granted"
        ? "已开启桌面提醒：轮到你时，即使本页在后台也会弹出提醒。"
        : "未开启桌面提醒。轮到你时，本页仍会响铃、标签页标题闪烁“【请入场】”并显示接听倒计时，请保持本页打开、音量打开。";
    });
  }

  async function join() {
    const r = window.hallProbeResult;
    // a compact summary is kept with the ticket (the raw samples stay in the page)
    const probe = r ? { verdict: r.verdict, rtt_ms: r.rttMs, loss: r.loss, sent: r.sent,
                        received: r.received, camera: Boolean(r.camera && r.camera.ok),
                        microphone: Boolean(r.microphone && r.microphone.ok) } : null;
    const ack = walkInSession
      ? await SocketTalk.ask(socket, "walk_in", { session_id: walkInSession, probe: probe })
      : await SocketTalk.ask(socket, "join", { interview_id: interviewId, probe: probe });
    if (!ack.ok) { say(ack.error); return; }
    ticketId = ack.ticket_id;
    show("stage-wait");
    render(ack);
  }

  function render(q) {
    if (q.position) {
      $("queue-position").textContent = q.position;
      $("queue-eta").textContent = Hall.formatWait(q.eta_seconds);
      say(`排队中：你是第 ${q.position} 位`);
    }
    // at another booth's call now: the place here is kept and this booth calls when free
    const busy = $("busy-note");
    busy.textContent = q.busy_at ? `你正在 ${q.busy_at} 面试。你在这里的位置保留，面试结束后轮到你时会呼叫你。` : "";
    busy.hidden = !q.busy_at;
  }

  // What happens at the student's other booths, said once in its own place on the page.
  function elsewhere(text, interviewId, ticketId) {
    const box = $("elsewhere-notice");
    box.dataset.ticketId = String(ticketId);
    const line = document.createElement("span");
    line.textContent = text;
    box.replaceChildren(line);
    if (interviewId) {
      const go = document.createElement("a");
      go.href = `/hall/interviews/${interviewId}`;
      go.target = "_blank";
      go.textContent = "前往";
      box.append(" — ", go);
    }
    box.hidden = false;
  }
  function who(e) { return e.job ? `${e.employer}（${e.job}）` : e.employer; }

  socket.on("connect", () => { if (ticketId !== null) say("已重新连接，你的排队位置保留"); });
  socket.on("disconnect", () => say("网络断开，正在重连…你的位置会保留一段时间"));
  socket.on("connect_error", (err) => say(`无法连接面试大厅：${SocketTalk.connectErrorText(socket, err)}`));
  socket.on("queue", (q) => {
    if (!mine(q)) {
      if (q.status === "called") return; // its `called` says so
      // a call there answered, ended or given up: its notice here is done with
      if (q.status !== "waiting" && $("elsewhere-notice").dataset.ticketId === String(q.ticket_id)) $("elsewhere-notice").hidden = true;
      return;
    }
    if (ticketId === null) ticketId = q.ticket_id;
    if (q.status === "waiting") { if ($("stage-wait").hidden && $("stage-call").hidden) show("stage-wait"); render(q); }
    if (q.status !== "called") callAlert.stop();
    if ((q.status === "no_show" || q.status === "done") && call && !call.live) { call.close(false); call = null; }
    if (q.status === "no_show") { show("stage-ended"); $("ended-text").textContent = "你未在规定时间内应答，已被标记为未到。如单位重新呼叫，本页会提示你。"; }
    if (q.status === "done") { show("stage-ended"); $("ended-text").textContent = "面试已结束，结果发布后会通知你。"; }
  });
  socket.on("called", (c) => {
    if (!mine(c)) {
      elsewhere(`${who(c)} 正在呼叫你，请在 ${c.answer_seconds} 秒内接听`, c.interview_id, c.ticket_id);
      return;
    }
    ticketId = c.ticket_id;
    $("called-by").textContent = `${who(c)} 正在呼叫你`;
    show("stage-called");
    callAlert.start(c.ticket_id, c.answer_seconds); // announces the call in #call-alert
    $("answer-button").focus();
    // camera and connection get ready while it rings: answering then only connects
    ownCall().prepare().catch((e) => console.warn("prepare", e));
  });
  socket.on("passed_over", (p) => {
    if (mine(p)) return; // this booth's own page already says so (busy-note)
    elsewhere(`${who(p)} 已轮到你：当前面试结束后会呼叫你，请保持该页面打开`, p.interview_id, p.ticket_id);
  });
  socket.on("session_ended", (e) => {
    if (!mine(e)) return;
    callAlert.stop();
    show("stage-ended");
    $("ended-text").textContent = "单位已结束今天的视频面试。如需改期，请留意【我的面试】中的新邀请。";
    say("今天的面试已结束");
  });
  Hall.showHallNotices(socket);
  socket.on("taken_out", (t) => {
    if (!mine(t)) return;
    callAlert.stop();
    if (call) call.close(false);
    call = null;
    show("stage-ended");
    const text = t.kind === "closed" ? `该面试间已被管理员关闭：${t.reason}` : `你已被管理员移出面试间：${t.reason}`;
    $("ended-text").textContent = `${text}。如有疑问，请联系学校就业指导中心。`;
    say(text);
  });
  socket.on("call_started", (c) => { if (c.ticket_id === ticketId) startCall(); });
  socket.on("call_resumed", (c) => {
    if (c.session_id !== undefined && !mine(c)) return;
    ticketId = c.ticket_id;
    startCall();
  });
  socket.on("call_ended", (c) => {
    if (c && c.ticket_id !== ticketId) return;
    callAlert.stop();
    if (call) call.close(false);
    call = null;
    show("stage-ended");
    $("ended-text").textContent = "面试已结束，结果发布后可在【我的面试】中查看。";
    say("面试已结束");
  });

  // The call of the current ticket, made once (a ringing call's prepared one is kept).
  function ownCall() {
    if (call && call.ticketId !== ticketId) { call.close(false); call = null; }
    if (!call) {
      call = new Hall.HallCall({
        socket: socket, ticketId: ticketId, polite: true, localVideo: $("local-video"),
        remoteVideo: $("remote-video"), qualityEl: $("call-quality"), stream: window.hallProbeStream,
        onState: (s) => { if (s === "disconnected") say("连接不稳定，正在恢复…"); if (s === "connected") say("面试进行中"); },
      });
    }
    return call;
  }

  async function startCall() {
    callAlert.stop();
    show("stage-call");
    say("面试进行中");
    await ownCall().start();
  }

  document.addEventListener("probe-done", (e) => {
    $("join-button").disabled = false;
    const v = e.detail && e.detail.verdict;
    $("join-hint").textContent = v === "poor" ? "网络较差，面试中可能卡顿；建议换到更稳定的网络后再排队。" : "检测完成，可以开始排队。";
    // the banner's "请先点击开始检测" is done with: say what comes next
    if (ticketId === null) say(v === "poor" ? "检测完成：网络较差，建议换到更稳定的网络；也可以点击“开始排队”。" : "检测完成，请点击“开始排队”。");
  });
  $("join-button").addEventListener("click", () => { askToNotify(); join(); });
  $("answer-button").addEventListener("click", async () => {
    callAlert.stop();
    const ack = await SocketTalk.ask(socket, "answer", { ticket_id: ticketId });
    if (!ack.ok) say(ack.error);
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
  // 切换摄像头: offered on a touch device or when there is more than one camera
  (async () => {
    const touch = window.matchMedia("(pointer: coarse)").matches;
    const cameras = navigator.mediaDevices && navigator.mediaDevices.enumerateDevices
      ? (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput").length : 0;
    $("switch-camera").hidden = !(touch || cameras > 1);
  })();
  $("switch-camera").addEventListener("click", async () => {
    if (!call) return;
    try {
      const facing = await call.switchCamera();
      say(facing === "environment" ? "已切换到后置摄像头" : "已切换到前置摄像头");
    } catch (e) {
      say("无法切换摄像头，请检查摄像头权限");
    }
  });
  $("hangup-button").addEventListener("click", () => {
    if (call) call.close(true);
    call = null;
    show("stage-ended");
    $("ended-text").textContent = "你已挂断。刷新本页可以重新加入通话。";
  });
})();
