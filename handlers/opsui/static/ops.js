// Live updates of the events page: the server sends rendered fragments
// (already escaped) on /ops/feed; each replaces the element with its id,
// or is added on top.
"use strict";
(function () {
  const rows = document.getElementById("rows");
  if (!rows || !window.EventSource) return;
  const live = document.getElementById("live");
  const service = rows.dataset.service || "";
  const maxRows = 300;

  function fromHTML(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }
  function status(text, cls) {
    live.textContent = text;
    live.className = "live " + cls;
  }
  function upsert(container, el, top) {
    const old = document.getElementById(el.id);
    if (old) {
      old.replaceWith(el);
    } else if (top) {
      container.prepend(el);
    } else {
      container.append(el);
    }
    el.classList.add("fresh");
    const none = container.querySelector("tr.none");
    if (none) none.remove();
  }
  function addRow(html) {
    const el = fromHTML(html);
    const old = document.getElementById(el.id);
    if (old) {
      // Keep the deliveries the row has already shown.
      const have = old.querySelector("ul.deliveries");
      const want = el.querySelector("ul.deliveries");
      if (have && want && !want.children.length) want.replaceWith(have);
    }
    upsert(rows, el, true);
    while (rows.children.length > maxRows) rows.lastElementChild.remove();
  }
  async function fetchRow(key) {
    const member = key.replace(/^ev-/, "");
    const slash = member.indexOf("/");
    if (slash < 0) return;
    const url = "/ops/rows/" + encodeURIComponent(member.slice(0, slash)) + "/" + encodeURIComponent(member.slice(slash + 1));
    const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (resp.ok) addRow(await resp.text());
  }
  function addDelivery(f) {
    const row = document.getElementById(f.row);
    if (!row) {
      if (service) fetchRow(f.row);
      return;
    }
    upsert(row.querySelector("ul.deliveries"), fromHTML(f.html), false);
  }
  function connect() {
    const es = new EventSource(rows.dataset.feed);
    es.onopen = function () { status("live", "on"); };
    es.addEventListener("row", function (e) { addRow(JSON.parse(e.data).html); });
    es.addEventListener("delivery", function (e) { addDelivery(JSON.parse(e.data)); });
    es.addEventListener("agent", function (e) {
      upsert(document.getElementById("agents"), fromHTML(JSON.parse(e.data).html), false);
    });
    es.addEventListener("failed", function () { status("stopped: reload the page", "off"); es.close(); });
    es.onerror = function () { status("reconnecting…", "off"); };
  }
  connect();
})();
