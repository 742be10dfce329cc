// Small behaviours shared by every page (no inline handlers: the CSP forbids them).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  forgetSavedFlag();
  // A form that ends something for good asks first (the chat's End, an admin's password reset).
  document.addEventListener("submit", (event) => {
    const text = event.target.dataset?.confirm;
    if (text && !window.confirm(text)) event.preventDefault();
  });
  for (const input of document.querySelectorAll("input[type=file][data-max-bytes]")) {
    input.addEventListener("change", () => checkFileSize(input));
  }
  reachableScrolling();
  let resized = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resized);
    resized = window.setTimeout(reachableScrolling, 150);
  });
});

// A table wider than the screen (a phone, a zoomed page) scrolls sideways inside its
// wrapper: a keyboard user scrolls it with the arrow keys once the wrapper has focus, so a
// wrapper that scrolls joins the tab order, as a region named after its table.
function reachableScrolling() {
  for (const wrap of document.querySelectorAll(".table-wrap")) {
    const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls === wrap.hasAttribute("tabindex")) continue;
    if (!scrolls) {
      for (const name of ["tabindex", "role", "aria-label"]) wrap.removeAttribute(name);
      continue;
    }
    const caption = wrap.querySelector("caption");
    const heading = wrap.closest("section, details")?.querySelector("h2, h3, summary");
    const title = (caption || heading || document.querySelector("h1"))?.textContent;
    wrap.setAttribute("tabindex", "0");
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", (title || "").replace(/\s+/g, " ").trim());
  }
}

// A file over the server's limit is refused before it is sent, instead of after the upload.
function checkFileSize(input) {
  const limit = Number(input.dataset.maxBytes);
  const tooLarge = [...input.files].some((file) => file.size > limit);
  input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
  if (tooLarge) input.reportValidity();
}

// "Review saved." is shown once: drop ?saved=1 from the address once the page shows it,
// so reloading the page (or coming back to it) does not claim a save that did not happen.
function forgetSavedFlag() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has("saved")) return;
  url.searchParams.delete("saved");
  window.history.replaceState(window.history.state, "", `${url.pathname}${url.search}${url.hash}`);
}
