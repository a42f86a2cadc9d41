/* controlmap internal site: search, snippet tabs, copy buttons, print helpers.
 * Works on file:// and any static host. Builds DOM with createElement/textContent only:
 * nothing read from the index or the page is ever parsed as HTML. */
(function () {
  "use strict";

  var root = document.documentElement.getAttribute("data-root") || "";
  var live = document.getElementById("live-region");
  var MAX_RESULTS = 12;

  function announce(text) {
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* ---- search ------------------------------------------------------------------------- */
  function squash(text) { return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, ""); }
  function words(text) { return String(text || "").toLowerCase().split(/[^a-z0-9.]+/).filter(Boolean); }

  var prepared = null;
  function entries() {
    if (prepared) return prepared;
    var raw = window.CONTROLMAP_SEARCH || [];
    prepared = raw.map(function (e) {
      var names = (e.names || []).map(function (n) { return String(n).toLowerCase(); });
      return {
        e: e,
        names: names,
        squashed: names.map(squash),
        title: String(e.title || "").toLowerCase(),
        words: words(e.title),
        hay: [e.title, e.sub, e.text, e.kind].concat(e.names || []).join(" ").toLowerCase()
      };
    });
    return prepared;
  }

  function score(item, q, qs, tokens) {
    for (var t = 0; t < tokens.length; t++) {
      if (item.hay.indexOf(tokens[t]) < 0 && item.squashed.join(" ").indexOf(squash(tokens[t])) < 0) return 0;
    }
    var best = 5;
    // Punctuation-blind matching ("aws-db-instance" = aws_db_instance) is for one typed name.
    // Several words ("rds instance") describe a thing: squashed, they also match check IDs
    // (rds_instance_...), which must not put every control ahead of the resource type itself,
    // so for a phrase such a match only lifts an entry above the bare text matches.
    var phrase = tokens.length > 1;
    for (var i = 0; i < item.names.length; i++) {
      var name = item.names[i], sq = item.squashed[i];
      if (name === q || (!phrase && qs && sq === qs)) { best = Math.max(best, 100); }
      else if (name.indexOf(q) === 0 || (!phrase && qs && sq.indexOf(qs) === 0)) { best = Math.max(best, 60); }
      else if (name.indexOf(q) >= 0) { best = Math.max(best, 30); }
      else if (phrase && qs && sq.indexOf(qs) >= 0) { best = Math.max(best, 20); }
    }
    if (item.title === q) best = Math.max(best, 90);
    else if (item.title.indexOf(q) === 0) best = Math.max(best, 45);
    else if (phrase && tokens.every(function (t) {
      return item.words.some(function (w) { return w.indexOf(t) === 0; });
    })) best = Math.max(best, 40);  // every word starts a word of the title: "RDS DB instance"
    else if (item.title.indexOf(q) >= 0) best = Math.max(best, 25);
    return best - (item.e.rank || 0);
  }

  function search(query) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    var tokens = q.split(/\s+/);
    var qs = squash(q);
    var hits = [];
    entries().forEach(function (item) {
      var s = score(item, q, qs, tokens);
      if (s > 0) hits.push({ s: s, e: item.e });
    });
    // numeric: A.8.2 before A.8.10, CC6.2 before CC6.10
    hits.sort(function (a, b) {
      return b.s - a.s || String(a.e.title).localeCompare(String(b.e.title), undefined, { numeric: true });
    });
    return hits.map(function (h) { return h.e; });
  }

  function resultLink(entry) {
    var a = el("a");
    a.href = root + entry.url;
    a.appendChild(el("span", "sr-kind", entry.kind));
    a.appendChild(el("span", "sr-title", entry.title));
    a.appendChild(el("span", "sr-sub", entry.sub));
    return a;
  }

  function setupCombobox(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) return;
    var active = -1;
    var current = [];

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      var items = list.querySelectorAll("[role=option]");
      if (!items.length) return;
      active = (index + items.length) % items.length;
      for (var i = 0; i < items.length; i++) items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }
    function render() {
      var q = input.value;
      while (list.firstChild) list.removeChild(list.firstChild);
      active = -1;
      if (!q.trim()) { close(); return; }
      current = search(q).slice(0, MAX_RESULTS);
      if (!current.length) {
        list.appendChild(el("li", "sr-empty", "No match for \u201c" + q + "\u201d"));
      }
      current.forEach(function (entry, i) {
        var li = el("li");
        li.id = "sr-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var a = resultLink(entry);
        a.tabIndex = -1;
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      announce(current.length + " result" + (current.length === 1 ? "" : "s"));
    }
    input.addEventListener("input", render);
    input.addEventListener("focus", function () { if (input.value.trim()) render(); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown") { ev.preventDefault(); if (list.hidden) render(); highlight(active + 1); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(active - 1); }
      else if (ev.key === "Escape") { if (!list.hidden) { ev.preventDefault(); close(); } else { input.value = ""; } }
      else if (ev.key === "Enter") {
        ev.preventDefault();
        var pick = current[active >= 0 ? active : 0];
        if (pick) { window.location.href = root + pick.url; }
        else if (input.value.trim()) {
          window.location.href = input.getAttribute("data-search-page") + "?q=" + encodeURIComponent(input.value.trim());
        }
      }
    });
    document.addEventListener("click", function (ev) {
      if (ev.target !== input && !list.contains(ev.target)) close();
    });
  }

  function setupSearchPage() {
    var input = document.querySelector("[data-search-page-input]");
    if (!input) return;
    var out = document.querySelector("[data-search-page-results]");
    var status = document.querySelector("[data-search-status]");
    var form = document.querySelector("[data-search-form]");
    function render() {
      while (out.firstChild) out.removeChild(out.firstChild);
      var q = input.value;
      if (!q.trim()) { status.textContent = "Type to search."; return; }
      var hits = search(q);
      status.textContent = hits.length + " result" + (hits.length === 1 ? "" : "s") + " for \u201c" + q.trim() + "\u201d";
      hits.slice(0, 200).forEach(function (entry) {
        var li = el("li");
        li.appendChild(resultLink(entry));
        out.appendChild(li);
      });
    }
    if (form) form.addEventListener("submit", function (ev) { ev.preventDefault(); render(); });
    input.addEventListener("input", render);
    var q = new URLSearchParams(window.location.search).get("q");
    if (q) input.value = q;
    render();
    input.focus();
  }

  /* ---- snippet tabs with a remembered language --------------------------------------------- */
  var LANG_KEY = "controlmap.snippet-language";
  function preferredLang() {
    try { return window.localStorage.getItem(LANG_KEY); } catch (e) { return null; }
  }
  function rememberLang(lang) {
    try { window.localStorage.setItem(LANG_KEY, lang); } catch (e) { /* storage may be off */ }
  }
  var tabGroups = [];
  function selectLang(lang, focus) {
    tabGroups.forEach(function (group) { group.select(lang, focus === group); });
  }

  function setupTabs(container, index) {
    var panels = Array.prototype.slice.call(container.querySelectorAll(":scope > .snippet"));
    if (panels.length < 2) return;
    container.classList.add("tabbed");
    var tablist = el("div", "tablist");
    tablist.setAttribute("role", "tablist");
    tablist.setAttribute("aria-label", "How to apply");
    var tabs = panels.map(function (panel, i) {
      var title = panel.querySelector(".snippet-title");
      var tab = el("button", "tab", title ? title.textContent : panel.getAttribute("data-lang"));
      tab.type = "button";
      tab.id = "tab-" + index + "-" + i;
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      tab.setAttribute("data-lang", panel.getAttribute("data-lang"));
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      tab.addEventListener("click", function () {
        rememberLang(tab.getAttribute("data-lang"));
        selectLang(tab.getAttribute("data-lang"), group);
      });
      tab.addEventListener("keydown", function (ev) {
        var step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
        var target = null;
        if (step) target = tabs[(i + step + tabs.length) % tabs.length];
        if (ev.key === "Home") target = tabs[0];
        if (ev.key === "End") target = tabs[tabs.length - 1];
        if (target) {
          ev.preventDefault();
          rememberLang(target.getAttribute("data-lang"));
          selectLang(target.getAttribute("data-lang"), group);
        }
      });
      tablist.appendChild(tab);
      return tab;
    });
    container.insertBefore(tablist, container.firstChild);
    var group = {
      select: function (lang, focus) {
        var found = tabs.some(function (t) { return t.getAttribute("data-lang") === lang; });
        var chosen = found ? lang : tabs[0].getAttribute("data-lang");
        tabs.forEach(function (tab, i) {
          var on = tab.getAttribute("data-lang") === chosen;
          tab.setAttribute("aria-selected", on ? "true" : "false");
          tab.tabIndex = on ? 0 : -1;
          panels[i].hidden = !on;
          if (on && focus) tab.focus();
        });
      }
    };
    tabGroups.push(group);
  }

  /* ---- copy buttons -------------------------------------------------------------------------- */
  function copyText(text, done) {
    function fallback() {
      var area = el("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  function setupCopy(pre) {
    var wrap = el("div", "code-wrap");
    pre.parentNode.insertBefore(wrap, pre);
    wrap.appendChild(pre);
    var button = el("button", "copy", "Copy");
    button.type = "button";
    var label = pre.closest(".snippet");
    var what = label ? label.querySelector(".snippet-title") : null;
    button.setAttribute("aria-label", "Copy " + (what ? what.textContent : "code") + " snippet");
    button.addEventListener("click", function () {
      var code = pre.querySelector("code") || pre;
      copyText(code.textContent, function (ok) {
        button.textContent = ok ? "Copied" : "Press Ctrl+C";
        if (!ok) {
          var range = document.createRange();
          range.selectNodeContents(code);
          var sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }
        announce(ok ? "Copied to clipboard" : "Select and copy manually");
        window.setTimeout(function () { button.textContent = "Copy"; }, 1800);
      });
    });
    wrap.appendChild(button);
  }

  /* ---- keyboard shortcut and print ------------------------------------------------------------- */
  function setupShortcut(input) {
    document.addEventListener("keydown", function (ev) {
      var tag = (ev.target && ev.target.tagName) || "";
      if (ev.key === "/" && !ev.ctrlKey && !ev.metaKey && !/^(INPUT|TEXTAREA|SELECT)$/.test(tag)) {
        ev.preventDefault();
        input.focus();
        input.select();
      }
    });
  }

  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      if (!d.open) { d.setAttribute("data-print-opened", ""); d.open = true; }
    });
  });
  window.addEventListener("afterprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-print-opened]"), function (d) {
      d.open = false;
      d.removeAttribute("data-print-opened");
    });
  });

  function init() {
    var input = document.getElementById("site-search");
    if (input) { setupCombobox(input); setupShortcut(input); }
    setupSearchPage();
    Array.prototype.forEach.call(document.querySelectorAll("pre.code"), setupCopy);
    Array.prototype.forEach.call(document.querySelectorAll("[data-tabs]"), setupTabs);
    selectLang(preferredLang() || "terraform", null);
    document.documentElement.classList.add("js");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
