// The departure board refreshes itself every 30 seconds; a button pauses it (WCAG 2.2.2) and
// a status line tells screen readers quietly that it changed. Without JavaScript the page
// has a link that reloads it.
document.addEventListener("DOMContentLoaded", function () {
  var board = document.getElementById("board");
  var button = document.getElementById("board-pause");
  var status = document.getElementById("board-status");
  if (!board || !button || !window.fetch) return;
  var paused = false;
  button.hidden = false;
  button.addEventListener("click", function () {
    paused = !paused;
    button.setAttribute("aria-pressed", paused ? "true" : "false");
    button.querySelector(".kern-label").textContent = paused
      ? board.dataset.resume
      : board.dataset.pause;
  });
  window.setInterval(function () {
    if (paused || document.hidden) return;
    fetch(board.dataset.boardUrl, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        board.innerHTML = html;
        if (status) status.textContent = board.dataset.updated;
      })
      .catch(function () {
        /* keep the last board; the next round tries again */
      });
  }, 30000);
});
