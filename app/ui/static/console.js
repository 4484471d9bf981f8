// Progressive enhancements; every page works without them.
"use strict";

// Upload with a progress bar; the server's redirect gives the result page.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form[data-progress]")) return;
  event.preventDefault();
  const bar = form.querySelector("#progress");
  const text = form.querySelector("#progress-text");
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  bar.hidden = false;
  request.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const percent = Math.round((100 * e.loaded) / e.total);
    bar.value = percent;
    text.textContent = percent < 100 ? `Uploading: ${percent}%` : "Checking the manifest...";
  };
  request.onload = () => {
    if (request.status < 400) { window.location.assign(request.responseURL); return; }
    document.open(); document.write(request.responseText); document.close();
  };
  request.onerror = () => { text.textContent = "The upload failed; check the connection and try again."; };
  request.send(new FormData(form));
});

// "Select all" in the review queue.
document.addEventListener("change", (event) => {
  if (event.target.id !== "select-all") return;
  document.querySelectorAll("#selection input[name=hawb_ids]")
    .forEach((box) => { box.checked = event.target.checked; });
});

// The CFS board refreshes itself; an unchanged board costs a 304.
const board = document.getElementById("board");
if (board) {
  setInterval(async () => {
    const response = await fetch(board.dataset.refresh, {
      headers: { "If-None-Match": board.dataset.etag }, credentials: "same-origin" });
    if (response.redirected) { window.location.reload(); return; }  // signed out
    if (response.status !== 200) return;
    board.dataset.etag = response.headers.get("ETag") || "";
    board.innerHTML = await response.text();
  }, Number(board.dataset.interval || 10000));
}

// Sortable tables: a click on a column's header sorts the rows shown by it (numbers as
// numbers, times by their datetime), again to reverse. Only the rows on the page move.
function cellKey(cell) {
  const time = cell.querySelector("time");
  if (time) return time.getAttribute("datetime") || "";
  const text = cell.textContent.trim();
  const number = Number(text.replace(/[,$\s]/g, ""));
  return text !== "" && !Number.isNaN(number) ? number : text.toLowerCase();
}
document.querySelectorAll("table.sortable").forEach((table) => {
  table.querySelectorAll("thead th").forEach((header, column) => {
    if (header.querySelector("input")) return;  // the select-all box
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = header.textContent;
    header.textContent = "";
    header.appendChild(button);
    button.addEventListener("click", () => {
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach((th) => th.removeAttribute("aria-sort"));
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows).filter((row) => row.cells.length > column);
      rows.sort((a, b) => {
        const x = cellKey(a.cells[column]);
        const y = cellKey(b.cells[column]);
        const order = typeof x === "number" && typeof y === "number" ? x - y
          : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach((row) => body.appendChild(row));
    });
  });
});
