// 大厅监控: the day's booths live over the /monitor socket, the alerts, and the admin
// actions (notice, close a booth, remove a participant) sent as form posts with fetch.
/* global io, SocketTalk */
(function () {
  "use strict";
  const root = document.getElementById("booths");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const booths = new Map(); // session id → summary
  const schoolScope = root.dataset.schoolScope === "1";
  let clockOffset = 0;      // server time − browser time, from the snapshot
  let deferred = null;      // a render put off while the keyboard is in a booth's form
  let announced = null;     // keys of the alerts already told to screen readers

  function say(text) { $("monitor-status").textContent = text; }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    });
    children.forEach((c) => c && node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return node;
  }
  function since(iso) {
    if (!iso) return "—";
    const s = Math.max(0, Math.round((Date.now() + clockOffset - new Date(iso).getTime()) / 1000));
    const m = Math.floor(s / 60);
    return m >= 60 ? `${Math.floor(m / 60)}小时${m % 60}分` : `${m}分${String(s % 60).padStart(2, "0")}秒`;
  }
  function time(iso) { return iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" }) : ""; }

  // ---- actions: a form post with the CSRF header; the message goes next to the field ----
  // A field is described by its error (when there is one) and its hint (when it has one):
  // an error must not take the hint's place, and a cleared error must not stay referenced.
  function describe(input, errorId) {
    const hint = document.getElementById(`${input.id}-hint`);
    const ids = [errorId, hint && hint.id].filter(Boolean);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }
  async function post(url, form) {
    form.querySelectorAll(".field-error").forEach((e) => e.remove());
    form.querySelectorAll("[aria-invalid]").forEach((x) => { x.removeAttribute("aria-invalid"); describe(x, null); });
    const res = await fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    }).catch(() => null);
    const data = res ? await res.json().catch(() => null) : null;
    if (data && data.ok) return true;
    const error = data ? data.error : "服务器没有响应，请稍后重试";
    const input = (data && form.querySelector(`[name="${data.field}"]`)) || form.querySelector("textarea, input[type=text]");
    const msg = el("p", { className: "field-error", id: `${input.id}-error`, text: error });
    input.setAttribute("aria-invalid", "true");
    describe(input, msg.id);
    (input.closest(".field") || input.parentNode).append(msg);
    input.focus();
    return false;
  }

  function reasonForm(id, action, label, button, onDone) {
    const form = el("form", { className: "inline-form", noValidate: true });
    const input = el("input", { id: id, name: "reason", type: "text", maxLength: 200, required: true });
    form.append(el("label", { htmlFor: id, text: label }), input,
      el("button", { type: "submit", className: "danger", text: button }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (await post(action, form)) onDone();
    });
    return form;
  }

  // ---- rendering ---------------------------------------------------------------------
  function qualityText(q) {
    if (!q) return "暂无数据";
    const parts = [q.verdict_label];
    if (q.rtt_ms !== null && q.rtt_ms !== undefined) parts.push(`延迟 ${q.rtt_ms} ms`);
    parts.push(`丢包 ${q.loss_pct}%`, `上行 ${q.out_kbps} kbps`, `下行 ${q.in_kbps} kbps`);
    if (q.fps) parts.push(`${q.fps} 帧/秒`);
    if (q.resolution) parts.push(q.resolution);
    parts.push(q.path);
    return parts.join(" · ");
  }

  function card(b) {
    const c = b.counts;
    const article = el("article", { className: `booth-card${b.alerts.length ? " has-alerts" : ""}`, "data-session-id": b.session_id });
    article.append(el("h3", {}, `${b.employer} `, el("small", { className: "muted", text: `${time(b.starts_at)}–${time(b.ends_at)} · ${b.status_label}` })));
    if (b.closed_reason) article.append(el("p", { className: "alert alert-error", text: `已关闭：${b.closed_reason}` }));
    const facts = el("dl", { className: "facts" });
    const fact = (dt, dd, cls) => { facts.append(el("dt", { text: dt }), el("dd", { className: cls || "", text: String(dd) })); };
    fact("面试官", b.interviewers.length ? b.interviewers.join("、") : "不在面试间", b.interviewers.length ? "" : "warn");
    fact("在场学生", c.present, "count-present");
    fact("排队", c.waiting, "count-waiting");
    fact("迟到未进", c.late, "count-late");
    fact("未到", c.no_show, "count-noshow");
    fact("已面试", c.done, "count-done");
    facts.append(el("dt", { text: "最长等待" }), el("dd", { className: "tick", "data-since": b.longest_wait_since || "", text: since(b.longest_wait_since) }));
    article.append(facts);
    const call = el("div", { className: "call-box" });
    if (!b.call) call.append(el("p", { className: "muted", text: "当前没有面试" }));
    else if (b.call.other_school) call.append(el("p", { text: "面试进行中（其他学校学生）" }));
    else {
      call.append(el("p", {}, el("strong", { text: b.call.status === "called" ? "呼叫中：" : "面试中：" }), `${b.call.name} · `,
        el("span", { className: "tick", "data-since": b.call.started_at || "", text: since(b.call.started_at) })));
      const q = b.call.quality || {};
      call.append(el("p", { className: `quality quality-${(q.student || {}).verdict || "none"}`, "data-side": "student", "data-ticket-id": b.call.ticket_id }, "学生端：", el("span", { text: qualityText(q.student) })));
      call.append(el("p", { className: `quality quality-${(q.employer || {}).verdict || "none"}`, "data-side": "employer", "data-ticket-id": b.call.ticket_id }, "单位端：", el("span", { text: qualityText(q.employer) })));
    }
    article.append(call);
    if (b.alerts.length) {
      article.append(el("ul", { className: "alert-list" }, ...b.alerts.map((a) => el("li", { className: `alert-${a.kind}`, text: a.text }))));
    }
    if (b.waiting.length) {
      const list = el("ol", { className: "waiting-list" });
      b.waiting.forEach((w) => {
        const item = el("li", {}, `${w.name} · 已等 `, el("span", { className: "tick", "data-since": w.arrived_at, text: since(w.arrived_at) }),
          w.connected ? "" : "（网络断开）");
        const more = el("details", { "data-key": `remove-${w.ticket_id}` }, el("summary", { text: "移出" }),
          reasonForm(`remove-${w.ticket_id}`, `/monitor/tickets/${w.ticket_id}/remove`, "移出原因", "确认移出", () => say(`已将 ${w.name} 移出面试间`)));
        item.append(" ", more);
        list.append(item);
      });
      article.append(el("details", { "data-key": "waiting" }, el("summary", { text: `排队名单（${b.waiting.length}）` }), list));
    }
    if (b.status !== "closed" && b.status !== "ended") {
      // a school admin's close takes out only the school's students; the booth stays open
      const summary = schoolScope ? "关闭本校学生的排队" : "关闭面试间";
      const done = schoolScope ? `已将本校学生移出 ${b.employer} 的面试间` : `已关闭 ${b.employer} 的面试间`;
      article.append(el("details", { className: "danger-zone", "data-key": "close" }, el("summary", { text: summary }),
        reasonForm(`close-${b.session_id}`, `/monitor/booths/${b.session_id}/close`, "关闭原因", "确认关闭", () => say(done))));
    }
    return article;
  }

  function render() {
    const list = [...booths.values()].sort((a, b) => (a.starts_at < b.starts_at ? -1 : a.starts_at > b.starts_at ? 1 : a.session_id - b.session_id));
    const focused = document.activeElement && document.activeElement.closest(".booth-card");
    if (focused && root.contains(focused)) { // never pull a form from under the keyboard
      if (!deferred) deferred = setTimeout(() => { deferred = null; render(); }, 1000);
      return;
    }
    // which disclosures were open, by a key that names one booth's one list or one waiter
    // (a summary's text repeats across waiters and changes with the queue's length)
    const key = (d) => `${d.closest(".booth-card").dataset.sessionId}:${d.dataset.key}`;
    const open = new Set([...root.querySelectorAll("details[open]")].map(key));
    root.replaceChildren(...list.map(card));
    root.querySelectorAll("details").forEach((d) => { if (open.has(key(d))) d.open = true; });
    if (!list.length) root.append(el("p", { className: "muted", text: "今天还没有面试间" }));
    $("booth-total").textContent = `${list.length} 个`;
    const alerts = list.flatMap((b) => b.alerts.map((a) => ({ ...a, employer: b.employer, session_id: b.session_id })));
    $("alert-count").textContent = alerts.length;
    announceNew(alerts);
    $("monitor-alerts").replaceChildren(...(alerts.length ? alerts.map((a) => el("li", { className: `alert-${a.kind}`, text: `${a.employer}：${a.text}` })) : [el("li", { className: "muted", text: "暂无提醒" })]));
    // the notice form's booth choice: rebuilt only when the booths or their states change,
    // so the admin's open list or choice is not swept away by every queue update
    const select = $("f-session_id");
    const options = [["", "整个大厅（今天全部面试间）"], ...list.map((b) => [String(b.session_id), `${b.employer}（${b.status_label}）`])];
    const shown = [...select.options].map((o) => [o.value, o.text]);
    if (JSON.stringify(options) !== JSON.stringify(shown)) {
      const chosen = select.value;
      select.replaceChildren(...options.map(([value, text]) => el("option", { value: value, text: text })));
      select.value = options.some(([value]) => value === chosen) ? chosen : "";
    }
  }

  // The list is rebuilt on every update, so it is not a live region itself: a separate one
  // says each alert once, when it first appears (its text changes as minutes pass; its
  // booth, kind and ticket do not). Those already there when the page loads are counted.
  function announceNew(alerts) {
    const keyed = alerts.map((a) => [`${a.session_id}:${a.kind}:${a.ticket_id || ""}`, a]);
    const fresh = announced ? keyed.filter(([k]) => !announced.has(k)) : [];
    if (!announced && keyed.length) $("alert-announce").textContent = `当前有 ${keyed.length} 条提醒`;
    if (fresh.length) $("alert-announce").textContent = `新提醒：${fresh.map(([, a]) => `${a.employer}：${a.text}`).join("；")}`;
    announced = new Set(keyed.map(([k]) => k));
  }

  // ---- the feed --------------------------------------------------------------------------
  const socket = io("/monitor", { transports: ["websocket"], withCredentials: true });
  socket.on("connect", async () => {
    say("实时数据已连接");
    const snap = await SocketTalk.ask(socket, "refresh", {});
    if (!snap.ok) { say(`读取大厅数据失败：${snap.error}`); return; }
    clockOffset = new Date(snap.now).getTime() - Date.now();
    booths.clear();
    snap.booths.forEach((b) => booths.set(b.session_id, b));
    render();
    $("notice-list").replaceChildren(...(snap.notices.length ? snap.notices.map(noticeItem) : [el("li", { className: "muted", text: "还没有发布通知" })]));
  });
  socket.on("disconnect", () => say("实时连接断开，正在重连…"));
  socket.on("connect_error", (err) => say(`无法连接大厅监控：${SocketTalk.connectErrorText(socket, err)}`));
  socket.on("booth", (b) => { booths.set(b.session_id, b); render(); });
  socket.on("quality", (q) => {
    const line = root.querySelector(`.quality[data-ticket-id="${q.ticket_id}"][data-side="${q.side}"]`);
    if (!line) return;
    line.className = `quality quality-${q.verdict}`;
    line.querySelector("span").textContent = qualityText(q);
  });
  function noticeItem(n) { return el("li", {}, n.body, " ", el("time", { text: time(n.created_at) })); }
  socket.on("notice", (n) => {
    const list = $("notice-list");
    list.querySelectorAll(".muted").forEach((m) => m.remove());
    list.append(noticeItem(n));
  });
  setInterval(() => root.querySelectorAll(".tick").forEach((t) => { t.textContent = since(t.dataset.since); }), 1000);

  $("notice-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    if (await post(form.action, form)) { form.querySelector("textarea").value = ""; say("通知已发布"); }
  });
})();
