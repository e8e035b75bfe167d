// On every signed-in page (the navigation brings it). Browsers keep pages in their
// back-forward cache even when served with Cache-Control: no-store, so after signing out
// Back would show the learner's page again, on a shared computer too. A page leaving
// for that cache is blanked, and one brought back from it is asked for again: signed
// out, that is the sign-in page.
"use strict";
window.addEventListener("pagehide", (event) => {
  if (event.persisted) document.body.hidden = true;
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) location.reload();
});
