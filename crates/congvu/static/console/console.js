// congvu console: progressive enhancement only. Every page works without this file;
// it is served from 'self' (CSP script-src 'self'), with no inline script anywhere.
"use strict";

// Forms that change or delete something ask first.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Form 01/02: while a name is typed, show the address the directory would derive
// for it and any collision, from GET /console/requests/derive (JSON).
function deriveInto(input) {
  const output = document.getElementById(input.getAttribute("data-derive"));
  const agency = document.getElementById("agency");
  if (!output || !agency) {
    return;
  }
  const name = input.value.trim();
  if (name === "") {
    output.textContent = "";
    return;
  }
  const query = new URLSearchParams({ agency: agency.value, name: name });
  fetch("/console/requests/derive?" + query.toString(), {
    credentials: "same-origin",
    headers: { "Accept": "application/json" },
  })
    .then((response) => response.json())
    .then((derived) => {
      output.classList.toggle("collision", Boolean(derived.collision));
      output.textContent = derived.text;
    })
    .catch(() => {
      output.textContent = "";
    });
}

// One pending lookup per name field: typing in one line does not cancel another's.
const deriveTimers = new Map();
document.addEventListener("input", (event) => {
  const input = event.target;
  if (input.hasAttribute && input.hasAttribute("data-derive")) {
    window.clearTimeout(deriveTimers.get(input));
    deriveTimers.set(input, window.setTimeout(() => deriveInto(input), 250));
  }
});

// "Add a line": clones the form's <template> of one line, numbering its fields.
document.addEventListener("click", (event) => {
  const button = event.target.closest ? event.target.closest("[data-add-line]") : null;
  if (!button) {
    return;
  }
  const template = document.getElementById(button.getAttribute("data-add-line"));
  const list = document.getElementById(button.getAttribute("data-into"));
  if (!template || !list) {
    return;
  }
  const index = list.children.length;
  const html = template.innerHTML.replace(/__N__/g, String(index)).replace(/__N1__/g, String(index + 1));
  const holder = document.createElement("div");
  holder.innerHTML = html;
  while (holder.firstElementChild) {
    list.appendChild(holder.firstElementChild);
  }
});
