// congvu webmail: one script of our own (CSP script-src 'self'); the pages work
// without it, it adds live updates, checks before sending, drafts and completion.
"use strict";

const vi = document.documentElement.lang !== "en";
const t = (v, e) => (vi ? v : e);

// Buttons that ask first.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// The list: select all, and new mail without a reload (server-sent events from
// the store's change notifications).
const messages = document.getElementById("messages");
if (messages) {
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      for (const box of messages.querySelectorAll("input[name=uid]")) box.checked = all.checked;
    });
  }
  let refreshing = false;
  const refresh = async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      const answer = await fetch(window.location.href, { credentials: "same-origin" });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const ticked = new Set([...messages.querySelectorAll("input[name=uid]:checked")].map((b) => b.value));
      for (const id of ["lines", "range"]) {
        const fresh = page.getElementById(id);
        const here = document.getElementById(id);
        if (fresh && here) here.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
      }
      for (const box of messages.querySelectorAll("input[name=uid]")) box.checked = ticked.has(box.value);
      const folders = page.querySelector("nav.folders ul");
      const here = document.querySelector("nav.folders ul");
      if (folders && here) here.replaceChildren(...[...folders.childNodes].map((n) => document.importNode(n, true)));
    } finally {
      refreshing = false;
    }
  };
  if (window.EventSource && messages.dataset.events) {
    const events = new EventSource(messages.dataset.events);
    events.addEventListener("change", refresh);
  }
}

// Writing: completion from the directory, the policy's verdict before sending,
// upload progress, drafts.
const compose = document.getElementById("compose");
if (compose) {
  const list = document.getElementById("directory");
  let timer = null;
  for (const input of compose.querySelectorAll("[data-complete]")) {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const parts = input.value.split(/[,;]/);
        const last = parts.pop().trim();
        if (last.length < 2) return;
        const answer = await fetch("/mail/addresses?q=" + encodeURIComponent(last), { credentials: "same-origin" });
        if (!answer.ok) return;
        const before = parts.map((p) => p.trim()).filter((p) => p).join(", ");
        list.replaceChildren(...(await answer.json()).map((entry) => {
          const option = document.createElement("option");
          const one = entry.name ? `${entry.name} <${entry.address}>` : entry.address;
          option.value = before ? `${before}, ${one}` : one;
          option.textContent = entry.address;
          return option;
        }));
      }, 200);
    });
  }

  const problems = document.getElementById("problems");
  const show = (lines) => {
    problems.replaceChildren(...lines.map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    }));
    problems.hidden = lines.length === 0;
  };
  const progress = document.getElementById("upload");
  const sendButton = document.getElementById("send");
  const post = (url, onProgress) => new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.withCredentials = true;
    if (onProgress) {
      request.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) onProgress(Math.round((100 * e.loaded) / e.total));
      });
    }
    request.addEventListener("load", () => resolve(request));
    request.addEventListener("error", () => resolve(request));
    request.send(new FormData(compose));
  });

  const max = Number(compose.dataset.max || 0);
  compose.addEventListener("submit", async (event) => {
    event.preventDefault();
    sendButton.disabled = true;
    try {
      const size = [...document.getElementById("files").files].reduce((sum, f) => sum + f.size, 0);
      if (max && size > max) {
        show([t("Tệp đính kèm quá lớn.", "The attachments are too large.")]);
        return;
      }
      const checked = await post("/mail/check");
      if (checked.status !== 200) {
        show([checked.responseText || t("Không kiểm tra được thư.", "The message could not be checked.")]);
        return;
      }
      const verdict = JSON.parse(checked.responseText);
      if (!verdict.ok) {
        show(verdict.problems.map((p) => (vi ? `${p.vi} (${p.en})` : `${p.en} (${p.vi})`)));
        return;
      }
      show([]);
      progress.hidden = false;
      const sent = await post("/mail/send", (percent) => { progress.value = percent; });
      if (sent.status === 200 && sent.responseURL) {
        window.location.assign(sent.responseURL);
      } else {
        show([sent.responseText || t("Thư chưa gửi được.", "The message was not sent.")]);
      }
    } finally {
      sendButton.disabled = false;
    }
  });

  const saved = document.getElementById("saved");
  const draftField = document.getElementById("draft");
  let changed = false;
  compose.addEventListener("input", () => { changed = true; });
  const saveDraft = async () => {
    changed = false;
    const answer = await post("/mail/draft");
    if (answer.status === 200) {
      draftField.value = JSON.parse(answer.responseText).draft;
      const now = new Date();
      saved.textContent = t("Đã lưu nháp lúc ", "Draft saved at ") + now.toLocaleTimeString(vi ? "vi-VN" : "en-GB");
    } else {
      saved.textContent = t("Chưa lưu được nháp.", "The draft was not saved.");
    }
  };
  document.getElementById("save-draft").addEventListener("click", saveDraft);
  setInterval(() => { if (changed) saveDraft(); }, 60000);
}
