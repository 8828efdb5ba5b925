// Meter pages. The reading grid: usage computed as the clerk types, Enter/↓ and ↑ move between rows' readings,
// the first empty reading gets focus. The meter form: choosing another project reloads its choices.
(() => {
  const CENTS = /^\d+(\.\d{1,2})?$/;

  // "123.4" -> 12340n (hundredths), or null when it is not a reading.
  function toCents(text) {
    const value = String(text).trim().replace(/,/g, "");
    if (!CENTS.test(value)) return null;
    const [whole, fraction = ""] = value.split(".");
    return BigInt(whole) * 100n + BigInt((fraction + "00").slice(0, 2));
  }

  function formatCents(cents) {
    const sign = cents < 0n ? "-" : "";
    const absolute = cents < 0n ? -cents : cents;
    return `${sign}${absolute / 100n}.${String(absolute % 100n).padStart(2, "0")}`;
  }

  // The server's arithmetic: (current − previous, plus 10^digits for a rollover) × multiplier, in Decimal.
  // Hundredths × hundredths are ten-thousandths; rounded half up to two places for display.
  function usageOf(row, text, rollover) {
    const current = toCents(text);
    if (current === null) return {error: row.closest("form").dataset.msgNumber};
    const previous = toCents(row.dataset.previous);
    const range = 10n ** BigInt(row.dataset.digits) * 100n;
    if (current >= range) return {error: row.closest("form").dataset.msgRange};
    let difference = current - previous;
    if (rollover) {
      if (current >= previous) return {error: row.closest("form").dataset.msgFalseRollover};
      difference += range;
    } else if (difference < 0n) {
      return {error: row.closest("form").dataset.msgLower};
    }
    const usage = (difference * toCents(row.dataset.multiplier) + 50n) / 100n;
    const above = row.dataset.unusualAbove ? toCents(row.dataset.unusualAbove) : null;
    return {usage, unusual: above !== null && usage > above};
  }

  function refresh(row) {
    const input = row.querySelector("[data-reading-input]");
    const out = row.querySelector("[data-usage]");
    const message = row.querySelector("[data-live-message]");
    if (!input || !out) return;
    const text = input.value.trim();
    row.classList.remove("row-unusual", "row-live-error");
    message.textContent = "";
    message.className = "row-message small";
    if (!text) { out.textContent = "--"; return; }
    const result = usageOf(row, text, row.querySelector("[data-rollover]").checked);
    if (result.error) {
      out.textContent = "--";
      row.classList.add("row-live-error");
      message.classList.add("text-danger");
      message.textContent = result.error;
      return;
    }
    out.textContent = formatCents(result.usage);
    if (result.unusual) {
      row.classList.add("row-unusual");
      message.classList.add("text-warning-emphasis");
      message.textContent = row.closest("form").dataset.msgUnusual;
    }
  }

  function countFilled(form) {
    const counter = form.querySelector("[data-filled-count]");
    if (!counter) return;
    const filled = [...form.querySelectorAll("[data-reading-input]")].filter((input) => input.value.trim()).length;
    counter.textContent = counter.dataset.template.replace("%s", filled);
  }

  const form = document.getElementById("reading-grid-form");
  if (form) {
    const inputs = [...form.querySelectorAll("[data-reading-input]")];
    inputs.forEach((input) => refresh(input.closest("tr")));
    countFilled(form);
    form.addEventListener("input", (event) => {
      const row = event.target.closest("tr[data-meter]");
      if (row) refresh(row);
      countFilled(form);
    });
    form.addEventListener("change", (event) => {
      if (event.target.matches("[data-rollover]")) refresh(event.target.closest("tr"));
    });
    form.addEventListener("keydown", (event) => {
      if (!event.target.matches("[data-reading-input]")) return;
      const index = inputs.indexOf(event.target);
      let next = null;
      if (event.key === "Enter" || event.key === "ArrowDown") {
        event.preventDefault();  // Enter moves on; saving is the button's job
        next = inputs[index + 1] || form.querySelector("[data-testid=save]");
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        next = inputs[index - 1];
      }
      if (next) {
        next.focus();
        if (next.select) next.select();
      }
    });
    form.addEventListener("submit", () => {
      form.querySelector("[data-testid=save]").disabled = true;
    });
    const first = inputs.find((input) => input.classList.contains("is-invalid"))
      || inputs.find((input) => !input.value.trim());
    if (first) first.focus();
  }

  // Choosing another project, building, entrance or kind opens its grid; typed readings are not thrown away
  // without asking.
  const choice = document.getElementById("grid-choice");
  if (choice) {
    choice.addEventListener("change", (event) => {
      const name = event.target.dataset.gridReload;
      if (!name) return;
      const typed = form && [...form.querySelectorAll("[data-reading-input]")].some((input) => input.value.trim());
      if (typed && !window.confirm(choice.dataset.msgDiscard)) return;
      if (name === "project") choice.querySelectorAll("[name=building],[name=entrance]").forEach((s) => { s.value = ""; });
      if (name === "building") choice.querySelectorAll("[name=entrance]").forEach((s) => { s.value = ""; });
      choice.submit();
    });
  }

  // The meter form: a new meter's unit, building and master meter are chosen within its project.
  document.addEventListener("change", (event) => {
    if (!event.target.matches("[data-reload-on-change=project]")) return;
    const query = new URLSearchParams(window.location.search);
    query.set("project", event.target.value);
    window.location.search = query.toString();
  });
})();
