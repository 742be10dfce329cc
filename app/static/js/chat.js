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
  // A touch screen: its keyboard has no Shift, and it covers half the screen when it opens,
  // so the box is not focused for the trainee there (the reply and the meters stay in view).
  const touch = window.matchMedia("(pointer: coarse)").matches;
  const send = document.getElementById("send");
  const log = document.getElementById("transcript"); // the list of messages
  const live = document.getElementById("conversation"); // the live region that scrolls it
  const status = document.getElementById("chat-status");
  const errorBox = document.getElementById("chat-error");
  const endedNotice = document.getElementById("ended-notice");
  const counter = document.getElementById("char-count");
  const maxChars = Number(box.dataset.maxChars);
  const draftKey = `sparring.draft.${sessionId}`;
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

  // What the client picked up from a trainee's message (its detected moves), shown when the
  // trainee asks for it. A plain question says nothing more beside an open one or an invitation.
  function heardLine(moves) {
    const line = document.createElement("p");
    line.className = "heard";
    const asked = moves.includes("open_question") || moves.includes("invite_discussion");
    const shown = moves.filter((move) => !(asked && move === "question"));
    const labels = shown.map((move) => strings[`move.${move}`] || move);
    line.textContent = `${strings["heard"]}: ${labels.length ? labels.join(" · ") : strings["heard_nothing"]}`;
    return line;
  }
  for (const item of log.querySelectorAll("li.msg-trainee[data-moves]")) {
    item.append(heardLine(item.dataset.moves.split(" ").filter(Boolean)));
  }

  // The highest message number on the page: a gap before a new one means another tab (or
  // device) played turns this page has not shown.
  const lastSeq = () =>
    Math.max(0, ...[...log.querySelectorAll("li[data-seq]")].map((li) => Number(li.dataset.seq)));
  let behind = false;

  function addMessage(message) {
    if (document.getElementById(`msg-${message.seq}`)) return; // a retried turn
    const item = bubble(message.role, message.seq, message.content);
    if (message.role === "trainee") item.append(heardLine(message.moves || []));
    log.append(item);
    scrollDown();
  }

  // The choice to see what the client picks up stays with the browser, for every session.
  const heardToggle = document.getElementById("show-heard");
  const showHeard = (on) => root.classList.toggle("show-heard", on);
  try {
    heardToggle.checked = window.localStorage.getItem("sparring.showHeard") === "1";
  } catch (_) {
    /* storage blocked: the box starts unticked */
  }
  showHeard(heardToggle.checked);
  document.getElementById("show-heard-field").hidden = false;
  heardToggle.addEventListener("change", () => {
    showHeard(heardToggle.checked);
    try {
      window.localStorage.setItem("sparring.showHeard", heardToggle.checked ? "1" : "0");
    } catch (_) {
      /* not remembered */
    }
  });

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

  // Shown below the box, which a long conversation can push under the fold: scrolled to,
  // or Send would seem to do nothing.
  // `ofDraft`: an error about the text itself (empty, too long), over once it is edited.
  function showError(text, ofDraft = false) {
    errorBox.textContent = text;
    errorBox.hidden = false;
    errorBox.dataset.ofDraft = ofDraft ? "yes" : "";
    errorBox.scrollIntoView({ block: "nearest" });
  }

  // An error body's text from its code, as the server would have sent it.
  const coded = (code, params) => errorText({ code, params }, strings["error"]);

  // The length against the limit, shown once the text nears it, instead of a maxlength
  // that would cut a pasted text without a word.
  // Characters as the server counts them: an emoji is one, not two UTF-16 units.
  const charsIn = (text) => [...text].length;
  function countChars() {
    const length = charsIn(box.value.trim());
    counter.hidden = length < maxChars * 0.9;
    counter.textContent = `${length} / ${maxChars}`;
    counter.classList.toggle("over", length > maxChars);
  }

  // What is being written survives a reload, a switch of language or a lost connection,
  // until the client has it.
  function keepDraft() {
    try {
      if (box.value) window.sessionStorage.setItem(draftKey, box.value);
      else window.sessionStorage.removeItem(draftKey);
    } catch (_) {
      /* storage blocked: not kept */
    }
  }
  function restoreDraft() {
    try {
      const draft = window.sessionStorage.getItem(draftKey);
      if (draft && !box.value) box.value = draft;
    } catch (_) {
      /* nothing kept */
    }
  }

  // Good or bad news for the trainee: data-better says which way the meter should go
  // (anger, chaos, free requests… are better low); a meter without it is not judged.
  function verdictOf(better, change) {
    if (change === 0 || (better !== "high" && better !== "low")) return "";
    return (change > 0) === (better === "high") ? "good" : "bad";
  }

  // An error body as text: in the page's language where the error has a code (the API's
  // message stays English), else its `detail`.
  function errorText(body, fallback) {
    const text = body && body.code ? strings[`error_code.${body.code}`] : undefined;
    if (typeof text === "string") {
      return text.replace(/\{(\w+)\}/g, (whole, name) => String(body.params?.[name] ?? whole));
    }
    return detailText(body?.detail, fallback);
  }

  // A `detail` as text: a message, or FastAPI's list of validation errors.
  function detailText(detail, fallback) {
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail)) {
      const texts = detail.map((item) => (item && typeof item.msg === "string" ? item.msg : ""));
      const joined = texts.filter(Boolean).join("; ");
      if (joined) return joined;
    }
    return fallback;
  }

  // Whether the session is over (ended in another tab, or by the client): then the page
  // is reloaded, so it shows the ended state and the way to the report card.
  async function sessionEnded() {
    try {
      const response = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      return response.ok && (await response.json()).session.status !== "active";
    } catch (_) {
      return false;
    }
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
      delta.className = `meter-delta ${verdictOf(row.dataset.better, change)}`;
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
      document.getElementById("ended-text").textContent = outcome ? `${strings["ended"]} ${strings["outcome"]}: ${outcome}.` : strings["ended"];
      endedNotice.hidden = false;
      form.hidden = true;
      becomeEndable();
      delete document.getElementById("end-form").dataset.confirm; // nothing left to lose
      const endButton = document.getElementById("end-button");
      endButton.textContent = strings["see_report"];
      endButton.focus();
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

  // Once the trainee has written, the session is ended and graded, not discarded.
  function becomeEndable() {
    const form = document.getElementById("end-form");
    if (!form || form.getAttribute("action") === form.dataset.endAction) return;
    form.setAttribute("action", form.dataset.endAction);
    form.dataset.confirm = strings["confirm_end"];
    document.getElementById("end-button").textContent = form.dataset.endLabel;
  }

  function handle({ event, data }) {
    switch (event) {
      case "trainee":
        errorBox.hidden = true; // the message is stored: an earlier error is over
        behind = data.seq > lastSeq() + 1;
        addMessage(data);
        becomeEndable();
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
        keepDraft();
        countChars();
        status.textContent = "";
        updateState(data);
        if (behind) location.reload(); // the whole conversation, the other tab's turns too
        break;
      case "error":
        dropStreaming();
        status.textContent = "";
        showError(errorText(data, strings["error"]));
        break;
    }
  }

  async function sendMessage() {
    const content = box.value.trim();
    if (busy) return;
    if (!content) {
      showError(coded("message_empty"), true);
      return;
    }
    if (charsIn(content) > maxChars) {
      showError(coded("message_too_long", { length: charsIn(content), limit: maxChars }), true);
      return;
    }
    busy = true;
    sent = content;
    send.disabled = true;
    live.setAttribute("aria-busy", "true");
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
        const fallback = `${strings["error"]} (${response.status})`;
        let detail = fallback;
        try {
          detail = errorText(await response.json(), fallback);
        } catch (_) {
          /* not JSON */
        }
        if (response.status === 409 && (await sessionEnded())) {
          window.location.reload();
          return;
        }
        status.textContent = "";
        showError(detail);
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
      live.removeAttribute("aria-busy");
      if (!form.hidden && !touch) box.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage();
  });
  // On a touch screen Enter adds a new line, Send sends.
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !touch) {
      event.preventDefault();
      sendMessage();
    }
  });
  box.addEventListener("input", () => {
    keepDraft();
    countChars();
    if (errorBox.dataset.ofDraft) errorBox.hidden = true;
  });
  restoreDraft();
  countChars();
  scrollDown();
  if (!touch) box.focus();
})();
