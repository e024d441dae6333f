// After a code is sent, the 获取验证码 button waits out the resend cooldown.
(function () {
  const button = document.getElementById("send-code");
  if (!button) return;
  let left = parseInt(button.dataset.cooldown || "0", 10);
  if (!left) return;
  const label = button.textContent;
  button.disabled = true;
  const tick = () => {
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.textContent = `${left}秒后可重新获取`;
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
})();
