/* The campus console's few lines of JavaScript: live updates (Server-Sent Events), switch buttons that
   show the device's real reply, the gate's alert sound. Pages work without it, minus the live parts. */
(function () {
  "use strict";
  var body = document.body;
  var page = body.dataset.page;
  var csrf = body.dataset.csrf;

  function post(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(data)
    }).then(function (r) {
      return r.json().catch(function () { return {ok: false, error: "HTTP " + r.status}; });
    }, function (err) { return {ok: false, error: String(err)}; });
  }

  // -- sound: a short two-tone beep from an oscillator (no file); browsers allow it after a click ----
  var audio = null;
  function unlockSound() {
    if (!audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) { audio = new Ctx(); }
    }
    if (audio && audio.state === "suspended") { audio.resume(); }
  }
  function beep() {
    if (!audio) { return; }
    var t = audio.currentTime;
    [0, 0.25].forEach(function (offset, i) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = i ? 660 : 880;
      gain.gain.setValueAtTime(0.3, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, t + offset + 0.2);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(t + offset); osc.stop(t + offset + 0.22);
    });
  }
  var soundButton = document.getElementById("sound");
  if (soundButton) {
    var enable = function () {
      unlockSound(); beep();
      soundButton.textContent = soundButton.dataset.on;
      soundButton.setAttribute("aria-pressed", "true");
      try { localStorage.setItem("campus-sound", "on"); } catch (e) { /* private mode */ }
    };
    soundButton.addEventListener("click", enable);
    var wanted = false;
    try { wanted = localStorage.getItem("campus-sound") === "on"; } catch (e) { /* private mode */ }
    if (wanted) {  // the browser still wants one gesture on this page before it plays anything
      document.addEventListener("pointerdown", function once() {
        document.removeEventListener("pointerdown", once); enable();
      });
    }
  }

  // -- gate: alerts arrive as server-rendered cards ---------------------------------------------------
  // Two refreshes can cross (the stream's catch-up and a live alert): an answer older than one already
  // shown is dropped, or a slow early answer would put the counters back to before the alert.
  var countersAsked = 0, countersShown = 0;
  function refreshCounters() {
    var mine = ++countersAsked;
    fetch("/api/gate", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || mine < countersShown) { return; }
        countersShown = mine;
        Object.keys(data.counters).forEach(function (k) {
          var el = document.querySelector('[data-counter="' + k + '"]');
          if (el && data.counters[k] !== null) { el.textContent = data.counters[k]; }
        });
      });
  }
  function catchUp() {  // the stream (re)connected: merge the open alerts as the server has them now
    if (page !== "gate") { return; }
    fetch("/api/gate/cards", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var list = document.getElementById("alerts");
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        var open = {}, fresh = false;
        Array.prototype.slice.call(tpl.content.children).reverse().forEach(function (card) {
          var id = card.dataset.alertId, old = list.querySelector('[data-alert-id="' + id + '"]');
          open[id] = 1;
          if (!old) {
            list.insertBefore(card, list.firstChild); fresh = true;
          } else if (old.className !== card.className && !old.contains(document.activeElement)) {
            old.replaceWith(card);  // acknowledged elsewhere meanwhile; never under the user's typing
          }
        });
        list.querySelectorAll("[data-alert-id]").forEach(function (el) {
          if (!open[el.dataset.alertId]) { el.remove(); }  // closed meanwhile
        });
        document.getElementById("no-alerts").hidden = list.children.length > 0;
        if (fresh) { beep(); }
        refreshCounters();
      });
  }
  function onAlert(data) {
    if (page !== "gate" || !data.gate) { return; }
    var list = document.getElementById("alerts");
    var old = list.querySelector('[data-alert-id="' + data.id + '"]');
    if (data.state === "closed") {
      if (old) { old.remove(); }
    } else if (data.html) {
      var tpl = document.createElement("template");
      tpl.innerHTML = data.html.trim();
      var card = tpl.content.firstElementChild;
      if (old) { old.replaceWith(card); } else { list.insertBefore(card, list.firstChild); beep(); }
    }
    document.getElementById("no-alerts").hidden = list.children.length > 0;
    refreshCounters();
  }

  // -- appliances: state from the agent, replies from the agent ----------------------------------------
  function onState(data) {
    var li = document.querySelector('[data-key="' + [data.site, data.node, data.device].join("/") + '"]');
    if (!li || !data.state || typeof data.state.on !== "boolean") { return; }
    var cell = li.querySelector("[data-state]");
    cell.textContent = data.text;
    cell.className = "state " + (data.state.on ? "on" : "off");
  }
  function wire(selector, url, payload) {
    document.querySelectorAll(selector).forEach(function (button) {
      button.addEventListener("click", function () {
        var row = button.closest("li");
        var reply = row.querySelector("[data-reply]");
        var buttons = row.querySelectorAll("button");
        buttons.forEach(function (b) { b.disabled = true; });
        reply.textContent = reply.dataset.pending;
        reply.className = "reply pending";
        post(url, payload(button)).then(function (res) {
          reply.textContent = res.message || res.error || "?";
          reply.className = "reply " + (res.ok ? "ok" : "bad");
          buttons.forEach(function (b) { b.disabled = false; });
        });
      });
    });
  }
  wire("[data-switch]", "/api/switch", function (b) {
    return {site: b.dataset.site, node: b.dataset.node, device: b.dataset.device, action: b.dataset.switch};
  });
  wire("[data-group]", "/api/switch-group", function (b) {
    return {site: b.dataset.site, group: b.dataset.name, action: b.dataset.group};
  });

  // -- the live stream ---------------------------------------------------------------------------------
  if (["gate", "appliances", "nodes"].indexOf(page) >= 0 && window.EventSource) {
    var status = document.getElementById("live-status");
    var source = new EventSource("/events");
    source.addEventListener("open", function () { status.hidden = true; catchUp(); });
    source.addEventListener("error", function () {
      status.textContent = body.dataset.liveLost; status.hidden = false;
    });
    source.addEventListener("alert", function (e) { onAlert(JSON.parse(e.data)); });
    source.addEventListener("state", function (e) { onState(JSON.parse(e.data)); });
    source.addEventListener("status", function (e) {
      if (page === "nodes") { location.reload(); return; }
      var data = JSON.parse(e.data);  // the gate's cameras: their node went on- or offline
      document.querySelectorAll('[data-node="' + data.site + "/" + data.node + '"]').forEach(function (el) {
        var cell = el.querySelector("[data-online]");
        if (cell) { cell.textContent = data.text; }
        el.className = data.online ? "ok" : "bad";
      });
    });
    source.addEventListener("reload", function () { location.reload(); });
    body.dataset.live = "connecting";
    source.addEventListener("open", function () { body.dataset.live = "open"; });
  }
})();
