/* Upload controls reset after every preview, commit and cancel (issue 13.10).

A file input keeps the name last picked, and a browser fires no change event when the same
name is picked again: a corrected file saved under the same name would never be sent. Whenever
an element marked ``upload-resets`` (the preview and result areas) changes, every file input in
an ``upload-drop`` control is emptied. The files already read are unaffected. */
(function () {
  "use strict";
  function reset() {
    document.querySelectorAll(".upload-drop input[type=file]").forEach(function (el) {
      if (el.value) el.value = "";
    });
  }
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var node = records[i].target;
      var el = node.nodeType === 1 ? node : node.parentElement;
      if (el && el.closest(".upload-resets")) { reset(); return; }
    }
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();
