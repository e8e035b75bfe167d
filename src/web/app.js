// studyhall's few lines of JavaScript: adding materials with live status, generating,
// starting sessions, reporting items, and the study loop (keys: Space, 1-4, Enter).
// Everything goes through the JSON API, signed in by the page's cookie and CSRF token.
"use strict";

const csrf = document.querySelector('meta[name="csrf"]')?.content ?? "";

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": csrf };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, { method, headers, body: payload, credentials: "same-origin" });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const reason = data?.errors?.map((e) => `${e.field} ${e.message}`).join("; ") || data?.detail || response.statusText;
    throw new Error(reason);
  }
  return { status: response.status, data };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function say(root, message) {
  const line = root.querySelector("[data-status]");
  if (line) line.textContent = message;
}

async function until(check, ms = 400) {
  for (;;) {
    const done = await check();
    if (done) return done;
    await sleep(ms);
  }
}

// Adding a material: text, a web page or a file; then its status, live.
const adder = document.querySelector("[data-add-material]");
if (adder) {
  const kinds = adder.querySelectorAll('input[name="kind"]');
  const show = () => {
    const kind = adder.querySelector('input[name="kind"]:checked').value;
    adder.querySelectorAll("[data-kind]").forEach((part) => (part.hidden = part.dataset.kind !== kind));
  };
  kinds.forEach((radio) => radio.addEventListener("change", show));
  adder.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(adder);
    const kind = form.get("kind");
    const subject = form.get("subject_area") || undefined;
    try {
      say(adder, "Adding…");
      let body;
      if (kind === "file") {
        body = new FormData();
        body.append("title", form.get("title"));
        if (subject) body.append("subject_area", subject);
        body.append("file", form.get("file"));
      } else if (kind === "url") {
        body = { title: form.get("title"), source_type: "url", source_url: form.get("source_url"), subject_area: subject };
      } else {
        body = { title: form.get("title"), source_type: "text", text: form.get("text"), subject_area: subject };
      }
      const { data } = await api("POST", "/materials", body);
      say(adder, "Processing…");
      const material = await until(async () => {
        const { data: now } = await api("GET", "/materials/" + data.id);
        return now.status !== "processing" && now;
      });
      say(adder, material.status === "ready" ? "Ready." : "It could not be read: " + (material.metadata?.error ?? "unknown"));
      window.location.href = "/materials/" + data.id;
    } catch (error) {
      say(adder, "Not added: " + error.message);
    }
  });
}

// A material's page: generate, start sessions, report items.
document.querySelectorAll("[data-generate]").forEach((button) =>
  button.addEventListener("click", async () => {
    const root = button.closest("section");
    try {
      say(root, "Generating…");
      const { data } = await api("POST", `/materials/${button.dataset.generate}/generate`, {});
      const job = await until(async () => {
        const { data: now } = await api("GET", "/jobs/" + data.job_id);
        return (now.status === "done" || now.status === "failed") && now;
      });
      if (job.status === "failed") throw new Error(job.reason);
      say(root, `Made ${job.result.added} new item(s).`);
      window.location.reload();
    } catch (error) {
      say(root, "Generation failed: " + error.message);
    }
  }),
);

document.querySelectorAll("[data-start]").forEach((button) =>
  button.addEventListener("click", async () => {
    try {
      const body = { study_material_id: button.dataset.material, session_type: button.dataset.start };
      const { data } = await api("POST", "/sessions", body);
      window.location.href = "/study/" + data.id;
    } catch (error) {
      say(button.closest("section"), "Could not start: " + error.message);
    }
  }),
);

document.querySelectorAll("[data-report]").forEach((button) =>
  button.addEventListener("click", async () => {
    const comment = window.prompt("What is wrong with this item?") ?? "";
    try {
      await api("POST", `/assets/${button.dataset.report}/feedback`, { feedback_type: "report", comment: comment || undefined });
      button.replaceWith(Object.assign(document.createElement("span"), { className: "status status-failed", textContent: "reported" }));
    } catch (error) {
      button.textContent = "Could not report: " + error.message;
    }
  }),
);

// Forms that call the API: <form data-api="METHOD /path">, their named fields as JSON
// (empty ones left out); data-confirm asks first, data-redirect goes on after,
// data-reset clears the fields.
document.querySelectorAll("form[data-api]").forEach((form) =>
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const [method, path] = form.dataset.api.split(" ");
    const body = {};
    new FormData(form).forEach((value, key) => {
      if (value !== "") body[key] = value;
    });
    try {
      await api(method, path, method === "DELETE" ? undefined : body);
      if (form.dataset.redirect) {
        window.location.href = form.dataset.redirect;
        return;
      }
      if (form.dataset.reset !== undefined) form.reset();
      say(form, "Saved.");
    } catch (error) {
      say(form, "Not saved: " + error.message);
    }
  }),
);

// The study loop.
const study = document.querySelector("[data-session]");
if (study) {
  const session = study.dataset.session;
  const card = study.querySelector("[data-card]");
  const position = study.querySelector("[data-position]");
  let item = null; // the item shown
  let shownAt = 0;
  let stage = "loading"; // front | back | choosing | feedback | summary | done
  let back = null;

  const el = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  };
  const show = (...nodes) => {
    card.replaceChildren(...nodes);
    card.focus();
  };

  async function next() {
    const { status, data } = await api("GET", `/sessions/${session}/next`);
    if (status === 204) return finish();
    item = data.asset;
    shownAt = performance.now();
    position.textContent = `Item ${data.position}, ${data.remaining} left`;
    const content = item.content;
    if (item.asset_type === "flashcard") {
      stage = "front";
      back = null;
      show(el("p", content.front, "front"), el("p", "Press Space to show the answer.", "hint"));
    } else if (item.asset_type === "quiz") {
      stage = "choosing";
      const list = el("ol", undefined, "choices");
      content.choices.forEach((choice, index) => {
        const button = el("button", `${index + 1}. ${choice}`);
        button.type = "button";
        button.addEventListener("click", () => choose(index));
        list.append(el("li"));
        list.lastChild.append(button);
      });
      show(el("p", content.question, "front"), list);
    } else {
      // A summary first, then (Space) the passage it sums up, then (Space) on.
      stage = item.passage ? "summary-first" : "summary";
      const points = el("ul");
      (content.key_points ?? []).forEach((point) => points.append(el("li", point)));
      const hint = item.passage ? "Press Space to read the passage." : "Press Space to continue.";
      show(el("h2", "Summary"), el("p", content.text), points, el("p", hint, "hint"));
    }
  }

  async function reveal() {
    const { data } = await api("GET", `/assets/${item.id}`);
    back = data.content.back;
    stage = "back";
    const rate = el("div", undefined, "rate");
    ["Again", "Hard", "Good", "Easy"].forEach((label, index) => {
      const button = el("button", `${index + 1}. ${label}`);
      button.type = "button";
      button.addEventListener("click", () => rateCard(index + 1));
      rate.append(button);
    });
    show(el("p", item.content.front, "front"), el("p", back, "back"), rate);
  }

  async function answer(interaction_data, interaction_type = "answer") {
    const body = {
      generated_asset_id: item.id,
      interaction_type,
      interaction_data,
      response_time_ms: Math.min(3600000, Math.round(performance.now() - shownAt)),
    };
    const { data } = await api("POST", `/sessions/${session}/interactions`, body);
    return data;
  }

  async function rateCard(rating) {
    if (stage !== "back") return;
    stage = "loading";
    const recorded = await answer({ rating });
    const due = recorded.feedback_data?.schedule?.interval_days;
    const when = due === undefined ? "" : due < 1 ? "later today" : `in ${Math.round(due)} day(s)`;
    show(el("p", `Next review ${when}.`, "feedback"));
    await sleep(400);
    next();
  }

  async function choose(index) {
    if (stage !== "choosing") return;
    stage = "loading";
    const recorded = await answer({ choice_index: index });
    const feedback = recorded.feedback_data ?? {};
    stage = "feedback";
    show(
      el("p", recorded.is_correct ? "Correct." : `Not quite: the answer is ${feedback.correct_answer}.`, recorded.is_correct ? "good" : "bad"),
      el("p", feedback.explanation ?? ""),
      el("p", "Press Space or Enter for the next one.", "hint"),
    );
  }

  async function finish() {
    stage = "done";
    const { data } = await api("POST", `/sessions/${session}/end`);
    const counts = data.session_data ?? {};
    const accuracy = counts.graded ? Math.round((100 * counts.correct) / counts.graded) + "%" : "–";
    position.textContent = "Session complete";
    const home = el("a", "Back to the dashboard");
    home.href = "/";
    show(el("h2", "Well done"), el("p", `${counts.done ?? 0} item(s), accuracy ${accuracy}.`, "summary"), home);
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select") || event.repeat) return;
    const key = event.key;
    if (key === " " || key === "Enter") {
      if (stage === "front") reveal();
      else if (stage === "feedback") next();
      else if (stage === "summary-first") {
        stage = "summary";
        show(el("h2", "The passage"), el("p", item.passage, "passage"), el("p", "Press Space to continue.", "hint"));
      }
      else if (stage === "summary") {
        stage = "loading";
        answer({}, "view").then(next);
      } else return;
      event.preventDefault();
    } else if (["1", "2", "3", "4"].includes(key)) {
      if (stage === "back") rateCard(Number(key));
      else if (stage === "choosing" && Number(key) <= item.content.choices.length) choose(Number(key) - 1);
      else return;
      event.preventDefault();
    }
  });

  study.querySelector("[data-end]")?.addEventListener("click", () => {
    if (stage !== "done") finish();
  });

  next().catch((error) => show(el("p", "Something went wrong: " + error.message, "bad")));
}
