/* Expired session (issue 13.8): when a Dash callback is answered 401 or 403, keep what the user
   typed on this page (sessionStorage, this tab only), go to sign-in with 「登录已过期，请重新登录」
   and come back to the same address afterwards, where the typed values are put back and a notice
   says so. Password and file inputs are never kept; period selectors are not restored, so the
   selector always matches the content shown. */
(function () {
  "use strict";
  var KEY = "dangjian-unsaved:";
  var leaving = false;

  function here() { return location.pathname + location.search; }

  function snapshot() {
    var out = {};
    document.querySelectorAll("input[id], textarea[id], select[id]").forEach(function (el) {
      if (["file", "password", "hidden", "checkbox", "radio"].indexOf(el.type) >= 0) return;
      if (el.classList.contains("period-select") || el.closest("#app-navbar")) return;
      if (el.value !== "" && el.value != null) out[el.id] = el.value;
    });
    return out;
  }

  function toSignIn(status) {
    if (leaving) return;
    leaving = true;
    var page = here();
    try { sessionStorage.setItem(KEY + page, JSON.stringify(snapshot())); } catch (e) { /* storage full */ }
    location.assign("/login?expired=" + status + "&next=" + encodeURIComponent(page));
  }

  var plainFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    var answer = plainFetch(input, init);
    if (url.indexOf("/_dash-update-component") < 0) return answer;
    return answer.then(function (resp) {
      if (resp.status === 401 || resp.status === 403) {
        toSignIn(resp.status);
        return new Promise(function () {});  // never settles: the page is leaving, show nothing half-done
      }
      return resp;
    });
  };

  function setValue(el, value) {
    var proto = el.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype
      : el.tagName === "SELECT" ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value").set.call(el, value);
    el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
  }

  function notice(n) {
    var box = document.createElement("div");
    box.id = "session-restored";
    box.className = "alert alert-warning alert-dismissible session-restored shadow";
    box.setAttribute("role", "status");
    box.textContent = "已恢复登录过期前填写的 " + n + " 项内容，尚未保存，请核对后重新提交。";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", "关闭");
    close.onclick = function () { box.remove(); };
    box.appendChild(close);
    document.body.appendChild(box);
  }

  function restore() {
    var key = KEY + here();
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved || !Object.keys(saved).length) return;
    var ids = Object.keys(saved);
    var started = Date.now();
    (function attempt() {
      var present = ids.filter(function (id) { return document.getElementById(id); });
      // Dash renders the page after load: wait until the fields are there (at most 15 s).
      if (present.length < ids.length && Date.now() - started < 15000) { setTimeout(attempt, 200); return; }
      sessionStorage.removeItem(key);
      var n = 0;
      // Selects first: a chosen item may change what the other fields mean.
      present.sort(function (a, b) {
        return (document.getElementById(b).tagName === "SELECT") - (document.getElementById(a).tagName === "SELECT");
      }).forEach(function (id) {
        var el = document.getElementById(id);
        if (el.value !== saved[id]) { setValue(el, saved[id]); n += 1; }
      });
      if (n) notice(n);
    })();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restore);
  else restore();
})();
