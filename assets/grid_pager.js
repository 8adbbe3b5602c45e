/* AG Grid pager in plain Chinese (issue 13.12): 「第 1–16 条，共 16 条」 and 「第 1 页，共 2 页」.

AG Grid builds the pager from separate words ("to", "of", "page") around the numbers, and one
locale key ("of") serves both lines, so no locale table can produce natural Chinese. This
rewrites each pager line from its numbers whenever they change; the original words are hidden
(assets/app.css). */
(function () {
  "use strict";
  function put(host, text) {
    var out = host.querySelector(":scope > .zh-pager");
    if (!out) {
      out = document.createElement("span");
      out.className = "zh-pager";
      host.appendChild(out);
    }
    if (out.textContent !== text) out.textContent = text;
  }
  function fix() {
    document.querySelectorAll(".ag-paging-row-summary-panel").forEach(function (panel) {
      var n = panel.querySelectorAll(".ag-paging-row-summary-panel-number");
      if (n.length >= 3 && n[2].textContent) {
        put(panel, "第 " + n[0].textContent + "–" + n[1].textContent + " 条，共 " + n[2].textContent + " 条");
      }
    });
    document.querySelectorAll(".ag-paging-description").forEach(function (desc) {
      var n = desc.querySelectorAll(".ag-paging-number");
      if (n.length >= 2 && n[1].textContent) {
        put(desc, "第 " + n[0].textContent + " 页，共 " + n[1].textContent + " 页");
      }
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; fix(); });
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();
