// The conversation: send with fetch, read the server-sent events as they stream in
// (trainee → delta… → message… → state, or error), update the client's meters and mood.
// Every text goes in with textContent, never as HTML.
"use strict";

(() => {
  const root = document.getElementById("chat");
  if (!root) return;
  const sessionId = root.dataset.session;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const strings = JSON.parse(document.getElementById("chat-strings").textContent);
  const form = document.getElementById("compose");
  const box = document.getElementById("message");
  const send = document.getElementById("send");
  const log = document.getElementById("transcript");
  const status = document.getElementById("chat-status");
  const errorBox = document.getElementById("chat-error");
  const endedNotice = document.getElementById("ended-notice");
  let busy = false;
  let sent = ""; // the text of the turn in flight: cleared from the box once stored

  const scrollDown = () => log.lastElementChild?.scrollIntoView({ block: "nearest" });

  function bubble(role, seq, text) {
    const item = document.createElement("li");
    item.className = `msg msg-${role}`;
    if (seq !== null) {
      item.id = `msg-${seq}`;
      item.dataset.seq = String(seq);
    }
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "client" ? strings["client"] : strings["you"];
    const body = document.createElement("p");
    body.className = "text";
    body.textContent = text;
    item.append(who, body);
    return item;
  }

  function addMessage(message) {
    if (document.getElementById(`msg-${message.seq}`)) return; // a retried turn
    log.append(bubble(message.role, message.seq, message.content));
    scrollDown();
  }

  let streaming = null;
  function streamDelta(text) {
    if (!streaming) {
      streaming = bubble("client", null, "");
      streaming.classList.add("streaming");
      streaming.id = "streaming";
      streaming.setAttribute("aria-hidden", "true"); // the finished message is announced instead
      log.append(streaming);
    }
    streaming.querySelector(".text").textContent += text;
    scrollDown();
  }
  function dropStreaming() {
    streaming?.remove();
    streaming = null;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function updateState(session) {
    const state = session.state;
    for (const [meter, raw] of Object.entries(state.meters)) {
      const row = document.querySelector(`.meter-row[data-meter="${CSS.escape(meter)}"]`);
      if (!row) continue;
      const value = Math.round(raw);
      const gauge = row.querySelector("meter");
      const before = Math.round(Number(gauge.value));
      gauge.value = value;
      gauge.textContent = String(value);
      row.querySelector("output").textContent = String(value);
      const delta = row.querySelector(".meter-delta");
      const change = value - before;
      delta.textContent = change === 0 ? "" : change > 0 ? `+${change}` : `−${-change}`;
      delta.className = `meter-delta ${change > 0 ? "up" : change < 0 ? "down" : ""}`;
      row.classList.toggle("changed", change !== 0);
    }
    const mood = document.getElementById("mood");
    if (mood.dataset.mood !== state.mood) {
      mood.classList.remove(`mood-${mood.dataset.mood}`);
      mood.classList.add(`mood-${state.mood}`, "changed");
      mood.dataset.mood = state.mood;
    }
    mood.textContent = strings[`mood.${state.mood}`] || state.mood;
    document.getElementById("phase").textContent = strings[`phase.${state.phase}`] || state.phase;
    document.getElementById("turn").textContent = String(state.turn);
    if (session.status !== "active") {
      const outcome = strings[`outcome.${session.outcome}`] || session.outcome || "";
      document.getElementById("ended-text").textContent = `${strings["ended"]} (${outcome})`;
      endedNotice.hidden = false;
      form.hidden = true;
      document.getElementById("end-button").focus();
    }
  }

  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return null;
    return { event, data: JSON.parse(data.join("\n")) };
  }

  function handle({ event, data }) {
    switch (event) {
      case "trainee":
        addMessage(data);
        status.textContent = strings["typing"];
        break;
      case "delta":
        streamDelta(data.text);
        break;
      case "message":
        dropStreaming();
        addMessage(data);
        break;
      case "state":
        dropStreaming();
        if (box.value.trim() === sent) box.value = ""; // keep anything typed meanwhile
        status.textContent = "";
        updateState(data);
        break;
      case "error":
        dropStreaming();
        status.textContent = "";
        showError(data.detail || strings["error"]);
        break;
    }
  }

  async function sendMessage() {
    const content = box.value.trim();
    if (!content || busy) return;
    busy = true;
    sent = content;
    send.disabled = true;
    log.setAttribute("aria-busy", "true");
    errorBox.hidden = true;
    status.textContent = strings["sending"];
    try {
      const response = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/messages`, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "text/event-stream",
          "X-CSRF-Token": csrf,
        },
        body: JSON.stringify({ content }),
      });
      if (!response.ok || !response.body) {
        let detail = `${strings["error"]} (${response.status})`;
        try {
          detail = (await response.json()).detail || detail;
        } catch (_) {
          /* not JSON */
        }
        status.textContent = "";
        showError(typeof detail === "string" ? detail : JSON.stringify(detail));
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const parsed = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (parsed) handle(parsed);
        }
      }
      if (buffer.trim()) {
        const parsed = parseEvent(buffer);
        if (parsed) handle(parsed);
      }
    } catch (err) {
      dropStreaming();
      status.textContent = "";
      showError(`${strings["error"]}: ${err.message}`);
    } finally {
      busy = false;
      send.disabled = false;
      log.removeAttribute("aria-busy");
      if (!form.hidden) box.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage();
    }
  });
  scrollDown();
  box.focus();
})();
