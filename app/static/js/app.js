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
});

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
