/* The quote builder: live pricing and product search (progressive enhancement).
 *
 * Without this script the builder is a plain form that saves and re-prices on the server. With
 * it, every change of a line or of a pricing-relevant field asks the preview endpoint
 * (POST /api/v1/quotes/quotes/<id>/preview; nothing is saved) and shows each line's price
 * waterfall, the totals, the approval flags and the configuration errors next to the line at
 * fault. Everything from the server is written with textContent, never as HTML.
 */
(function () {
  "use strict";
  var form = document.getElementById("quote-form");
  if (!form || form.dataset.readonly === "true") return;
  var table = document.getElementById("lines");
  var previewUrl = form.dataset.previewUrl;
  var productsUrl = form.dataset.productsUrl;
  var datalist = document.getElementById("product-options");
  var addButton = document.getElementById("add-line");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var seq = 0;
  var timer = null;
  var searchTimer = null;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function lineBodies() { return Array.prototype.slice.call(table.querySelectorAll("tbody.line")); }

  function field(body, cls) { return body.querySelector("input." + cls); }

  function collectLines() {
    var lines = [];
    lineBodies().forEach(function (body) {
      if (body.hidden) return;
      var sku = field(body, "sku").value.trim();
      if (!sku) return;
      var line = { key: body.dataset.key, sku: sku };
      var qty = field(body, "qty").value.trim();
      var disc = field(body, "disc").value.trim();
      var parent = field(body, "parent").value.trim();
      var desc = field(body, "desc").value.trim();
      if (qty) line.quantity = qty;
      if (disc) line.discount = { percent: disc };
      if (parent) line.parent_key = parent;
      if (desc) line.description = desc;
      lines.push(line);
    });
    return lines;
  }

  function value(id) { var node = document.getElementById(id); return node ? node.value.trim() : ""; }

  function collectHeader() {
    var header = {};
    var start = value("id_start_date");
    if (/^\d{4}-\d{2}-\d{2}$/.test(start)) header.start_date = start;
    var term = value("id_term_months");
    if (/^\d+$/.test(term)) header.term_months = parseInt(term, 10);
    var days = value("id_payment_terms_days");
    if (/^\d+$/.test(days)) header.payment_terms_days = parseInt(days, 10);
    header.price_book = value("id_price_book");
    header.sale_context = value("id_sale_context") || "new";
    header.terms = value("id_terms");
    var codes = value("id_promotion_codes");
    header.promotion_codes = codes ? codes.split(",").map(function (c) { return c.trim(); }).filter(Boolean) : [];
    return header;
  }

  function bodyForKey(key) {
    return lineBodies().filter(function (b) { return b.dataset.key === key; })[0];
  }

  function setRowErrors(body, messages) {
    var box = body.querySelector(".row-errors");
    clear(box);
    messages.forEach(function (m) { box.appendChild(el("p", m)); });
    var row = body.querySelector("tr.inputs");
    row.classList.toggle("invalid", messages.length > 0);
    ["sku", "qty", "disc"].forEach(function (cls) {
      var input = field(body, cls);
      if (messages.length) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    });
  }

  function renderLine(body, priced, violations) {
    var listCell = body.querySelector(".list-cell");
    var netCell = body.querySelector(".net-cell");
    var box = body.querySelector(".waterfall-box");
    clear(listCell); clear(netCell); clear(box);
    priced.forEach(function (p, i) {
      if (i) { listCell.appendChild(el("br")); netCell.appendChild(el("br")); }
      listCell.appendChild(document.createTextNode(p.charge_kind === "usage" ? "" : p.list_amount));
      netCell.appendChild(document.createTextNode(p.charge_kind === "usage" ? "as used" : p.net));
      var details = el("details");
      var summary = el("summary", p.sku + " " + p.charge + " — price waterfall");
      if (p.needs_approval) { summary.appendChild(document.createTextNode(" ")); summary.appendChild(el("span", "needs approval", "badge flag")); }
      details.appendChild(summary);
      var list = el("ol", null, "waterfall");
      (p.steps || []).forEach(function (s) {
        var item = el("li");
        item.appendChild(el("span", s.kind, "step"));
        item.appendChild(document.createTextNode(" " + s.rule + " "));
        item.appendChild(el("span", s.amount, "num"));
        list.appendChild(item);
      });
      details.appendChild(list);
      (p.approvals || []).forEach(function (a) { details.appendChild(el("p", a.message, "flag")); });
      box.appendChild(details);
    });
    setRowErrors(body, violations);
  }

  function renderTotals(pricing) {
    var box = document.getElementById("totals");
    clear(box);
    if (!pricing) { box.appendChild(el("p", "No lines yet.", "muted")); return; }
    var t = pricing.totals, cur = " " + pricing.currency;
    var dl = el("dl", null, "facts");
    function add(label, text, key) {
      dl.appendChild(el("dt", label));
      var dd = el("dd", text);
      if (key) dd.dataset.total = key;
      dl.appendChild(dd);
    }
    add("One-time", t.one_time + cur, "one_time");
    Object.keys(t.recurring || {}).forEach(function (period) { add("Recurring per " + period, t.recurring[period] + cur); });
    add("MRR", t.mrr + cur, "mrr");
    add("ARR", t.arr + cur, "arr");
    add("TCV", t.tcv + cur, "tcv");
    add("List TCV", t.list_tcv + cur);
    add("Discount", t.discount + cur + " (" + t.discount_percent + " %)", "discount_percent");
    if (t.margin_percent !== null && t.margin_percent !== undefined) add("Margin", t.margin_percent + " %");
    box.appendChild(dl);
  }

  function renderApproval(approval) {
    var box = document.getElementById("approval-flags");
    clear(box);
    if (!approval || !approval.required) return;
    box.appendChild(el("h3", "Needs approval"));
    var list = el("ul");
    approval.reasons.forEach(function (m) {
      var item = el("li", m.message + " ", "flag");
      item.appendChild(el("span", "(" + m.rule + ")", "muted"));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function renderViolations(violations) {
    var box = document.getElementById("violations");
    clear(box);
    if (!violations.length) return;
    box.appendChild(el("h3", "Configuration errors"));
    var list = el("ul");
    violations.forEach(function (v) { list.appendChild(el("li", v.message)); });
    box.appendChild(list);
  }

  function applyResult(data) {
    var byKey = {};
    var pricing = data.pricing;
    (pricing ? pricing.lines : []).forEach(function (p) { (byKey[p.key] = byKey[p.key] || []).push(p); });
    var violations = pricing ? pricing.violations : [];
    var violationsByKey = {};
    violations.forEach(function (v) {
      (v.lines || []).forEach(function (k) { (violationsByKey[k] = violationsByKey[k] || []).push(v.message); });
    });
    lineBodies().forEach(function (body) {
      renderLine(body, byKey[body.dataset.key] || [], violationsByKey[body.dataset.key] || []);
    });
    renderTotals(pricing);
    renderApproval(data.approval);
    renderViolations(violations);
  }

  function applyProblem(problem, lines) {
    var byKey = {};
    var general = [];
    (problem.errors || [{ field: problem.field || "", message: problem.detail }]).forEach(function (e) {
      var key = e.line;
      var m = /^lines\[(\d+)\]/.exec(e.field || "");
      if (!key && m && lines[parseInt(m[1], 10)]) key = lines[parseInt(m[1], 10)].key;
      if (key) (byKey[key] = byKey[key] || []).push(e.message); else general.push(e.message);
    });
    lineBodies().forEach(function (body) { setRowErrors(body, byKey[body.dataset.key] || []); });
    var box = document.getElementById("violations");
    clear(box);
    general.forEach(function (m) { box.appendChild(el("p", m)); });
  }

  function preview() {
    var lines = collectLines();
    var body = collectHeader();
    body.lines = lines;
    var mine = ++seq;
    form.setAttribute("aria-busy", "true");
    fetch(previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (result) {
      if (mine !== seq) return; // a newer preview is on its way
      form.removeAttribute("aria-busy");
      if (result.ok) applyResult(result.json); else applyProblem(result.json, lines);
    }).catch(function () { if (mine === seq) form.removeAttribute("aria-busy"); });
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(preview, 150);
  }

  function search(term) {
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      var url = productsUrl + "?q=" + encodeURIComponent(term) + "&currency=" + encodeURIComponent(form.dataset.currency) +
        "&price_book=" + encodeURIComponent(value("id_price_book"));
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (products) {
          clear(datalist);
          products.forEach(function (p) {
            var option = el("option");
            option.value = p.sku;
            option.label = p.name + (p.is_bundle ? " (bundle)" : "");
            datalist.appendChild(option);
          });
        }).catch(function () {});
    }, 120);
  }

  function nextKey() {
    var max = 0;
    lineBodies().forEach(function (b) {
      var m = /^L(\d+)$/.exec(b.dataset.key || "");
      if (m) max = Math.max(max, parseInt(m[1], 10));
    });
    return "L" + (max + 1);
  }

  function wireBody(body) {
    var remove = body.querySelector(".remove-line");
    remove.hidden = false;
    remove.addEventListener("click", function () {
      body.querySelectorAll("input").forEach(function (input) { if (input.type !== "hidden") input.value = ""; });
      body.hidden = true;
      schedule();
      var next = lineBodies().filter(function (b) { return !b.hidden; })[0];
      if (next) field(next, "sku").focus(); else addButton.focus();
    });
  }

  function addLine() {
    var bodies = lineBodies();
    var template = bodies[bodies.length - 1];
    var index = bodies.length;
    var key = nextKey();
    var copy = template.cloneNode(true);
    copy.hidden = false;
    copy.dataset.key = key;
    copy.dataset.index = String(index);
    copy.querySelectorAll("[id]").forEach(function (node) { node.id = node.id.replace(/-\d+$/, "-" + index); });
    copy.querySelectorAll("[for]").forEach(function (node) { node.htmlFor = node.htmlFor.replace(/-\d+$/, "-" + index); });
    copy.querySelectorAll("[aria-describedby]").forEach(function (node) { node.setAttribute("aria-describedby", "err-" + index); });
    copy.querySelectorAll("input").forEach(function (input) {
      input.name = input.name.replace(/^line-\d+-/, "line-" + index + "-");
      input.value = input.type === "hidden" ? key : "";
      input.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll("label.visually-hidden").forEach(function (label) { label.textContent = label.textContent.replace(/line \S+$/, "line " + key).replace(/line \S+ belongs to$/, "line " + key + " belongs to"); });
    copy.querySelector(".remove-line").setAttribute("aria-label", "Remove line " + key);
    clear(copy.querySelector(".list-cell")); clear(copy.querySelector(".net-cell"));
    clear(copy.querySelector(".waterfall-box")); clear(copy.querySelector(".row-errors"));
    copy.querySelector("tr.inputs").classList.remove("invalid");
    table.appendChild(copy);
    wireBody(copy);
    field(copy, "sku").focus();
  }

  lineBodies().forEach(wireBody);
  addButton.hidden = false;
  addButton.addEventListener("click", addLine);
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("sku")) search(target.value);
    if (target.closest && (target.closest("#lines") || /^id_(start_date|term_months|payment_terms_days|price_book|sale_context|terms|promotion_codes)$/.test(target.id))) schedule();
  });
  form.addEventListener("change", function (event) {
    if (event.target.id === "id_sale_context") schedule();
  });
})();
