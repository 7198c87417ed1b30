// Keyboard answers: pressing the key named by an element's data-key clicks it. A form is sent only once.
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
  const target = document.querySelector(`[data-key="${CSS.escape(event.key.toLowerCase())}"]`);
  if (target) {
    event.preventDefault();
    target.click();
  }
});

document.addEventListener("submit", (event) => {
  if (event.target.dataset.sent) {
    event.preventDefault();
  }
  event.target.dataset.sent = "yes";
});
