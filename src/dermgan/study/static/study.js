// Loaded (without defer) before the page's body, so a key pressed as soon as a question appears counts.
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

// A page restored from the browser's history may be sent again (the server ignores replays).
window.addEventListener("pageshow", (event) => {
  if (event.persisted) for (const form of document.forms) delete form.dataset.sent;
});

// Relevance questions: say how many images are selected, so "none" is a visible, deliberate answer.
function countPicked() {
  const counter = document.querySelector(".picked-count");
  if (!counter) return;
  const picked = document.querySelectorAll('input[name="picked"]:checked').length;
  counter.textContent = picked === 0 ? "None selected" : `${picked} selected`;
}
document.addEventListener("change", countPicked);
document.addEventListener("DOMContentLoaded", countPicked);
