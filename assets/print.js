/* Before printing: a title line with the period, and every grid's rows (filtered and sorted as shown,
   all pages of a paginated grid) copied into a plain <table> that print.css shows instead of the grid,
   so no row is lost to virtual scrolling and the header repeats on every sheet. */
(function () {
  function text(v) {
    if (v === null || v === undefined) return '';
    return String(v).replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');  // markdown links → their text
  }
  function periodText() {
    var sel = document.querySelector('.page-header select');
    return sel && sel.selectedIndex >= 0 ? sel.options[sel.selectedIndex].text : '';
  }
  function heading() {
    var main = document.querySelector('.app-main') || document.body;
    var h = document.createElement('div');
    h.className = 'print-heading';
    var t = document.querySelector('.page-title');
    var parts = [t ? t.innerText : document.title];
    var p = periodText();
    if (p) parts.push(p);
    parts.push('打印时间 ' + new Date().toLocaleString('zh-CN', {hour12: false}));
    h.textContent = parts.join(' · ');
    main.insertBefore(h, main.firstChild);
  }
  function gridTable(div) {
    var api = null;
    try { api = window.dash_ag_grid && window.dash_ag_grid.getApi(div.id); } catch (e) { api = null; }
    if (!api) return;
    var cols = api.getAllDisplayedColumns();
    var table = document.createElement('table');
    table.className = 'print-table';
    table.setAttribute('data-grid', div.id);
    var tr = document.createElement('tr');
    cols.forEach(function (c) {
      var th = document.createElement('th');
      th.textContent = c.getColDef().headerName || '';
      tr.appendChild(th);
    });
    var thead = document.createElement('thead');
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = document.createElement('tbody');
    api.forEachNodeAfterFilterAndSort(function (node) {
      if (node.group) return;
      var row = document.createElement('tr');
      cols.forEach(function (c) {
        var td = document.createElement('td');
        var v;
        try { v = api.getCellValue({rowNode: node, colKey: c, useFormatter: true}); }
        catch (e) { v = node.data ? node.data[c.getColDef().field] : ''; }
        td.textContent = text(v);
        row.appendChild(td);
      });
      tbody.appendChild(row);
    });
    table.appendChild(tbody);
    div.parentNode.insertBefore(table, div.nextSibling);
  }
  function prepare() {
    document.querySelectorAll('.print-table, .print-heading').forEach(function (e) { e.remove(); });
    heading();
    document.querySelectorAll('.ag-theme-quartz[id]').forEach(gridTable);
  }
  window.dangjianPreparePrint = prepare;
  window.addEventListener('beforeprint', prepare);
  if (window.matchMedia) {
    var mq = window.matchMedia('print');
    var onChange = function (e) { if (e.matches) prepare(); };
    if (mq.addEventListener) mq.addEventListener('change', onChange); else if (mq.addListener) mq.addListener(onChange);
  }
  document.addEventListener('click', function (e) {
    var b = e.target && e.target.closest && e.target.closest('.print-button');
    if (b) { prepare(); window.print(); }
  });
})();
