// Small behaviours shared by every page (no inline handlers: the CSP forbids them).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  forgetSavedFlag();
});

// "Review saved." is shown once: drop ?saved=1 from the address once the page shows it,
// so reloading the page (or coming back to it) does not claim a save that did not happen.
function forgetSavedFlag() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has("saved")) return;
  url.searchParams.delete("saved");
  window.history.replaceState(window.history.state, "", `${url.pathname}${url.search}${url.hash}`);
}
