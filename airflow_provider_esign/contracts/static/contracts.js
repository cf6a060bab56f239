// The Contracts page. Every value from the server is put into the DOM with textContent or as an
// attribute value, never parsed as HTML: document names and vendor strings always show as text.
"use strict";

(function () {
  const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  const tokenMeta = document.querySelector('meta[name="esign-action-token"]');
  let actionToken = tokenMeta ? tokenMeta.content : "";
  const state = { conn_id: "", status: "", older_than_days: "", q: "", sort: "-sent", page: 1, per_page: 50 };
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "never";
    const s = Math.max(0, Math.round(seconds));
    if (s < 90) return s + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " days";
  }

  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return isNaN(date) ? String(iso) : date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }

  const SIGNER_MARK = { SIGNED: "✓", DECLINED: "✗", VIEWED: "◐", SENT: "○", PENDING: "○", UNKNOWN: "?" };

  function signerList(signers) {
    const list = el("ul", { className: "signers" });
    for (const signer of signers) {
      const label = signer.name ? signer.name + " <" + signer.email + ">" : signer.email;
      list.append(
        el(
          "li",
          { className: "signer " + String(signer.status).toLowerCase(), "data-signed": signer.signed ? "yes" : "no",
            title: signer.signed ? "signed" + (signer.signed_at ? " " + when(signer.signed_at) : "") : String(signer.status).toLowerCase() },
          el("span", { className: "mark", text: SIGNER_MARK[signer.status] || "?" }),
          el("span", { text: label })
        )
      );
    }
    return list;
  }

  function link(href, text) {
    return href ? el("a", { href: href, target: "_top", rel: "noopener noreferrer", text: text }) : el("span", { text: text });
  }

  function row(doc) {
    const remind = doc.actions.remind
      ? el("button", { type: "button", className: "secondary", "data-action": "remind", text: "Remind" })
      : null;
    const cancel = doc.actions.cancel
      ? el("button", { type: "button", className: "danger", "data-action": "cancel", text: "Cancel" })
      : null;
    const tr = el(
      "tr",
      { "data-document": doc.document_id, "data-status": doc.status },
      el("td", {}, el("div", { className: "name", text: doc.name || doc.document_id }),
        el("div", { className: "muted mono", text: doc.document_id }),
        doc.links.vendor ? el("div", {}, el("a", { href: doc.links.vendor, target: "_blank", rel: "noopener noreferrer", text: "Open at " + doc.vendor })) : null),
      el("td", {}, signerList(doc.signers)),
      el("td", {}, el("span", { className: "status s-" + String(doc.status).toLowerCase(), text: doc.status.replace("_", " ") }),
        doc.status_source === "send" ? el("div", { className: "muted", text: "at send, not read yet" }) : null),
      el("td", { text: doc.conn_id }),
      el("td", {}, el("div", {}, link(doc.links.run, doc.dag_id)),
        el("div", { className: "muted" }, link(doc.links.task, doc.task_id + (doc.map_index >= 0 ? " [" + doc.map_index + "]" : ""))),
        el("div", { className: "muted mono", text: doc.run_id })),
      el("td", {}, el("div", { text: when(doc.sent_at) }), el("div", { className: "muted", text: age(doc.age_seconds) + " ago" })),
      el("td", { text: doc.expires_at ? when(doc.expires_at) : "–" }),
      el("td", { className: "actions" }, remind, cancel,
        !doc.actions.allowed ? el("span", { className: "muted", text: "view only" }) : null)
    );
    tr.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) confirmAction(button.dataset.action, doc);
    });
    return tr;
  }

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(state)) if (value !== "" && value !== null) params.set(key, value);
    return params.toString();
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function load() {
    let response;
    try {
      response = await fetch(base + "api/documents?" + query(), { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (error) {
      showError("Airflow did not answer: " + error);
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(body.detail ? String(body.detail) : "Error " + response.status);
      return;
    }
    showError("");
    render(body);
  }

  function render(data) {
    $("count-in-flight").textContent = data.counts.in_flight;
    $("count-signed-today").textContent = data.counts.signed_today;
    $("count-failed-week").textContent = data.counts.failed_this_week;
    const freshness = $("freshness");
    freshness.replaceChildren();
    const select = $("f-conn");
    const known = new Set(Array.from(select.options).map((o) => o.value));
    for (const conn of data.connections) {
      let text = conn.conn_id + ": state read " + age(conn.age_seconds) + " ago";
      if (conn.age_seconds === null) text = conn.conn_id + ": not read yet";
      if (conn.refreshing) text += " (reading now)";
      const item = el("li", { className: conn.error ? "stale" : "" }, text);
      if (conn.error) item.append(el("span", { className: "why", text: " — vendor unreachable, showing the last known state: " + conn.error }));
      freshness.append(item);
      if (!known.has(conn.conn_id)) select.append(el("option", { value: conn.conn_id, text: conn.conn_id }));
    }
    $("rows").replaceChildren(...data.rows.map(row));
    $("empty").hidden = data.rows.length > 0;
    const pages = Math.max(1, Math.ceil(data.total / data.per_page));
    $("page-info").textContent = "Page " + data.page + " of " + pages + " (" + data.total + " documents)";
    $("prev").disabled = data.page <= 1;
    $("next").disabled = data.page >= pages;
    // A vendor read still running: ask again shortly (answered from the server's cache, no vendor call).
    clearTimeout(render.again);
    if (data.connections.some((conn) => conn.refreshing)) render.again = setTimeout(load, 3000);
    for (const button of document.querySelectorAll("button.sort")) {
      const key = button.dataset.sort;
      button.dataset.active = state.sort.replace("-", "") === key ? (state.sort.startsWith("-") ? "desc" : "asc") : "";
    }
  }

  function toast(message) {
    const box = $("toast");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (box.hidden = true), 6000);
  }

  async function post(path, body, retried) {
    const response = await fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: "Bearer " + actionToken },
      body: JSON.stringify(body),
    });
    if (response.status === 401 && !retried) {
      const fresh = await fetch(base + "api/token", { credentials: "same-origin" });
      if (fresh.ok) {
        actionToken = (await fresh.json()).token;
        return post(path, body, true);
      }
    }
    return response;
  }

  function confirmAction(action, doc) {
    const dialog = $("confirm");
    const name = doc.name || doc.document_id;
    $("confirm-title").textContent = action === "remind" ? "Send a reminder?" : "Cancel this document?";
    $("confirm-text").textContent =
      action === "remind"
        ? "The signers of “" + name + "” who have not signed yet get a reminder email from " + doc.vendor + "."
        : "“" + name + "” is voided at " + doc.vendor + ": nobody can sign it any more. This cannot be undone.";
    $("confirm-notify-label").hidden = action !== "cancel";
    $("confirm-notify").checked = false;
    $("confirm-ok").textContent = action === "remind" ? "Send reminder" : "Cancel document";
    dialog.returnValue = "";
    dialog.onclose = async () => {
      if (dialog.returnValue !== "ok") return;
      const body = { confirm: true };
      if (action === "cancel") body.notify = $("confirm-notify").checked;
      const path = "api/documents/" + encodeURIComponent(doc.conn_id) + "/" + encodeURIComponent(doc.document_id) + "/" + action;
      const response = await post(path, body, false);
      const result = await response.json().catch(() => ({}));
      if (!response.ok) toast("Not done: " + (result.detail || response.status));
      else toast(action === "remind" ? "Reminder sent to " + result.reminded + " signer(s) of “" + name + "”" : "Cancelled “" + name + "”");
      load();
    };
    dialog.showModal();
  }

  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    state.conn_id = $("f-conn").value;
    state.status = $("f-status").value;
    state.older_than_days = $("f-older").value;
    state.q = $("f-q").value.trim();
    state.page = 1;
    load();
  });
  $("reload").addEventListener("click", load);
  $("prev").addEventListener("click", () => { state.page = Math.max(1, state.page - 1); load(); });
  $("next").addEventListener("click", () => { state.page += 1; load(); });
  for (const button of document.querySelectorAll("button.sort")) {
    button.addEventListener("click", () => {
      const key = button.dataset.sort;
      state.sort = state.sort === "-" + key ? key : "-" + key;
      state.page = 1;
      load();
    });
  }
  load();
  setInterval(load, 60000); // page views are free for the vendors: the server answers from its cache
})();
