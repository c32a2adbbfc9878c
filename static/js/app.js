// Behaviour the pages share, kept out of the templates.
// Forms with data-confirm ask before they submit (deletes).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// On a phone the active tab may sit beyond the right edge of the scrolling tab bar.
document.querySelector(".customer-tabs .active")?.scrollIntoView({ block: "nearest", inline: "center" });
