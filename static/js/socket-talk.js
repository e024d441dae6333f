// What the hall's and the monitor's socket.io connections tell the user when something goes
// wrong, always in Chinese: socket.io's own errors ("websocket error", "timeout",
// "operation has timed out") are English or empty, the server's refusals are Chinese.
(function () {
  "use strict";
  const CHINESE = /[\u4e00-\u9fff]/;
  const ACK_WAIT_MS = 10000;

  function chinese(text, fallback) {
    return typeof text === "string" && CHINESE.test(text) ? text : fallback;
  }

  // connect_error: refused by the server (socket.active is false: no retry follows), or the
  // network or server unreachable (socket.io keeps retrying by itself)
  function connectErrorText(socket, err) {
    if (!socket.active) return chinese(err && err.message, "服务器拒绝了连接，请刷新页面后重试");
    return "暂时无法连接服务器，正在自动重试…请检查网络";
  }

  // emit with an acknowledgement; the answer always has ok, and error in Chinese when not ok
  async function ask(socket, event, data) {
    let ack;
    try {
      ack = await socket.timeout(ACK_WAIT_MS).emitWithAck(event, data);
    } catch (e) {
      return { ok: false, error: socket.connected ? "服务器没有及时响应，请稍后重试" : "网络已断开，正在重连，请稍后重试" };
    }
    if (ack && ack.ok) return ack;
    return Object.assign({}, ack, { ok: false, error: chinese(ack && ack.error, "操作没有成功，请稍后重试") });
  }

  window.SocketTalk = { connectErrorText: connectErrorText, ask: ask };
})();
