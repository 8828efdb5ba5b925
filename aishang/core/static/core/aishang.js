// Lists: "select all" checkboxes and the bulk-action bar.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("[data-select-all]")) {
    const table = target.closest("form");
    table.querySelectorAll("input[name=pk]").forEach((box) => { box.checked = target.checked; });
  }
  if (target.matches("[data-select-all], input[name=pk]")) {
    const form = target.closest("form");
    const count = form.querySelectorAll("input[name=pk]:checked").length;
    const bar = form.querySelector("[data-bulk-bar]");
    if (bar) {
      bar.classList.toggle("d-none", count === 0);
      const counter = bar.querySelector("[data-selected-count]");
      if (counter) counter.textContent = count;
      const allMatching = bar.querySelector("[name=select_all_matching]");
      if (allMatching) allMatching.checked = false;
    }
  }
});
// After an htmx swap, keep focus visible in the swapped area for keyboard users.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const autofocus = event.detail.target.querySelector("[autofocus]");
  if (autofocus) autofocus.focus();
});
// Lists on a phone: the filters beyond the search box fold away behind a 筛选 button.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-toggle-filters]");
  if (!button) return;
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  button.closest("form").querySelectorAll(".list-filter-extra").forEach((col) => col.classList.toggle("d-none", !open));
});
