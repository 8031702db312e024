// Ventanilla Studio: forms post without leaving the page, the page follows
// changes the studio announces (a flow file saved, another tab), the
// feature phone counts its hop budget down. Every form works without it.
"use strict";
(function () {
  const panels = document.getElementById("panels");
  let busy = false;
  let timer = null;

  function swap(html) {
    const active = document.activeElement;
    const id = active && active.id;
    const value = active && active.tagName === "INPUT" && active.type !== "hidden" && active.form && !active.form.dataset.sent ? active.value : null;
    panels.innerHTML = html;
    const version = document.getElementById("version");
    if (version) panels.dataset.version = version.dataset.version;
    if (id) {
      const el = document.getElementById(id);
      if (el) {
        el.focus();
        if (value !== null && el.tagName === "INPUT") el.value = value;
      }
    }
    wire();
  }

  function refresh() {
    if (busy) return;
    fetch("panels", { headers: { "X-Studio": "panels" } })
      .then((r) => r.text())
      .then(swap);
  }

  function startBudget(form) {
    const out = document.getElementById("budget");
    if (!out || !form.classList.contains("ussd-form")) return;
    const budget = Number(out.dataset.budget) || 4000;
    const start = performance.now();
    out.setAttribute("aria-live", "off");
    timer = setInterval(() => {
      const left = Math.max(0, budget - (performance.now() - start));
      out.textContent = "Waiting for the gateway: " + (left / 1000).toFixed(1) + " s of the hop budget left.";
    }, 100);
  }

  function submit(ev) {
    const form = ev.target;
    ev.preventDefault();
    const data = new URLSearchParams(new FormData(form, ev.submitter));
    form.dataset.sent = "1";
    busy = true;
    const began = performance.now();
    startBudget(form);
    fetch(form.action, { method: "POST", body: data, headers: { "X-Studio": "panels" } })
      .then((r) => r.text())
      .then((html) => {
        clearInterval(timer);
        busy = false;
        swap(html);
        // The round trip as the browser saw it, for the browser tests.
        document.body.dataset.lastHopMs = (performance.now() - began).toFixed(1);
        const input = form.querySelector("input[name=text]");
        const again = input && document.getElementById(input.id);
        if (again) again.focus();
      })
      .catch(() => { clearInterval(timer); busy = false; form.submit(); });
  }

  function wire() {
    // The threads show their latest messages, as a phone does.
    for (const t of panels.querySelectorAll(".thread")) t.scrollTop = t.scrollHeight;
    for (const f of panels.querySelectorAll("form.js-post")) f.addEventListener("submit", submit);
    const input = document.getElementById("ussd-input");
    const count = document.getElementById("ussd-input-count");
    if (input && count) {
      const show = () => { count.textContent = [...input.value].length + "/182"; };
      input.addEventListener("input", show);
      show();
    }
  }

  wire();
  if (window.EventSource) {
    const events = new EventSource("events");
    events.addEventListener("change", (e) => {
      if (String(e.data) !== panels.dataset.version) {
        panels.dataset.version = e.data;
        refresh();
      }
    });
  }
})();
