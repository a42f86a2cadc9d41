(function () {
  "use strict";
  var source = document.getElementById("findings-data");
  var body = document.getElementById("findings-body");
  if (!source || !body) { return; }
  var rows = JSON.parse(source.textContent || "[]");
  var count = document.getElementById("findings-count");
  var controls = {
    text: document.getElementById("f-text"),
    status: document.getElementById("f-status"),
    severity: document.getElementById("f-severity"),
    service: document.getElementById("f-service"),
    overdue: document.getElementById("f-overdue")
  };
  var sortKey = null;
  var sortDir = 1;
  var columns = ["status", "severity", "control", "resource", "where", "reason", "due"];

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }

  function matches(r) {
    var q = controls.text.value.trim().toLowerCase();
    if (controls.status.value && r.status !== controls.status.value) { return false; }
    if (controls.severity.value && r.severity !== controls.severity.value) { return false; }
    if (controls.service.value && r.service !== controls.service.value) { return false; }
    if (controls.overdue.checked && !r.overdue) { return false; }
    if (!q) { return true; }
    return [r.control, r.title, r.resource, r.resource_id, r.reason, r.account, r.region, r.where, r.refs, r.tags]
      .join(" ").toLowerCase().indexOf(q) !== -1;
  }

  function value(r, key) {
    if (key === "severity") { return -r.rank; }
    return String(r[key] || "");
  }

  function draw() {
    var shown = rows.filter(matches);
    if (sortKey) {
      shown.sort(function (a, b) {
        var x = value(a, sortKey), y = value(b, sortKey);
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
      });
    }
    while (body.firstChild) { body.removeChild(body.firstChild); }
    var fragment = document.createDocumentFragment();
    shown.forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, r.status, "st st-" + r.status);
      var sev = document.createElement("span");
      sev.className = "sev sev-" + r.severity;
      sev.textContent = r.severity;
      cell(tr, "").appendChild(sev);
      var c = cell(tr, r.control);
      c.title = r.title;
      var res = cell(tr, r.resource, "mono");
      res.title = r.resource_id;
      if (r.tags) {
        var tags = document.createElement("div");
        tags.className = "small";
        tags.textContent = r.tags;
        res.appendChild(tags);
      }
      // account/region never breaks mid-token; IaC file paths may wrap
      cell(tr, r.where, r.account ? "mono nowrap" : "mono");
      var reason = cell(tr, r.reason);
      if (r.exception) {
        var note = document.createElement("div");
        note.className = "small";
        note.textContent = "Exception: " + r.exception;
        reason.appendChild(note);
      }
      cell(tr, (r.overdue ? "overdue " : "") + r.due, r.overdue ? "nowrap overdue" : "nowrap");
      fragment.appendChild(tr);
    });
    body.appendChild(fragment);
    count.textContent = shown.length + " of " + rows.length + " findings";
  }

  Object.keys(controls).forEach(function (k) {
    controls[k].addEventListener(k === "text" ? "input" : "change", draw);
  });
  Array.prototype.forEach.call(document.querySelectorAll("#findings th[data-key]"), function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      if (columns.indexOf(key) === -1) { return; }
      sortDir = sortKey === key ? -sortDir : 1;
      sortKey = key;
      draw();
    });
  });
  draw();
})();
