// studyhall's few lines of JavaScript: adding materials with live status, generating,
// starting sessions, a material's items (edit, suspend, delete, restore, report), and
// the study loop (buttons, taps, keys).
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
  let response;
  try {
    response = await fetch("/api/v1" + path, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new Error("studyhall could not be reached: check the connection and try again.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // not JSON: a proxy's page, say
  }
  if (!response.ok) {
    if (response.status === 401) {
      // Signed out (a password changed elsewhere, the sign-in expired): sign in again, then back here.
      window.location.href = "/signin?next=" + encodeURIComponent(location.pathname + location.search);
    }
    throw Object.assign(new Error(explain(response.status, data)), { status: response.status, field: data?.errors?.[0]?.field, errors: data?.errors ?? [] });
  }
  return { status: response.status, data };
}

// A refusal in the learner's words: each field named as the page labels it ("Current
// password is wrong."), else the server's own sentence, and in general words for what
// only the server can fix.
function explain(status, data) {
  if (data?.errors?.length) return data.errors.map(({ field, message }) => fieldSentence(labelOf(field), message)).join(" ");
  if (status === 401) return "You were signed out: sign in again.";
  if (status === 413) return "That is larger than this studyhall accepts.";
  if (status >= 500) return "Something went wrong on our side; try again in a moment.";
  return data?.detail || "That could not be done; reload the page and try again.";
}

// "Current password" + "is wrong" → "Current password is wrong."; a message that is not
// a predicate follows a colon ("Address: no site called … can be found.").
function fieldSentence(label, message) {
  const predicate = /^(is|are|must|may|has|have|cannot|can|does|should|was|were|needs)\b/.test(message);
  const text = predicate ? `${label} ${message}` : `${label}: ${message}`;
  return /[.!?]$/.test(text) ? text : text + ".";
}

// The label of the field named `name` on this page (its hint left out), or the name in words.
function labelOf(name) {
  const input = document.querySelector(`[name="${CSS.escape(name)}"]`);
  const label = input?.labels?.[0];
  if (label) {
    const words = label.cloneNode(true);
    words.querySelectorAll(".hint").forEach((hint) => hint.remove());
    return words.textContent.trim();
  }
  const words = name.replace(/^.*\./, "").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Tells the outcome in a form's status line: a refusal as an error (an alert), a
// success as a success, anything else as progress.
function say(root, message, outcome) {
  const line = root.querySelector("[data-status]");
  if (!line) return;
  line.classList.toggle("failed", outcome === "failed");
  line.classList.toggle("done", outcome === "done");
  line.setAttribute("role", outcome === "failed" ? "alert" : "status");
  line.textContent = message;
  if (outcome === "failed") line.scrollIntoView({ block: "nearest" });
}

// Marks the field a refusal names as invalid (after clearing earlier marks).
function markInvalid(form, field) {
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  if (field) form.querySelector(`[name="${CSS.escape(field)}"]`)?.setAttribute("aria-invalid", "true");
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
    const file = adder.querySelector("#file");
    markInvalid(adder, null);
    if (kind === "file" && !file.files.length) {
      markInvalid(adder, "file");
      say(adder, "Not added. Choose a file to add.", "failed");
      file.focus();
      return;
    }
    // Sent once: Add waits for the answer (and the server makes one material of an add
    // repeated within seconds).
    const add = adder.querySelector("button[type=submit]");
    if (add.disabled) return;
    add.disabled = true;
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
      if (material.status === "ready") say(adder, "Ready.", "done");
      else say(adder, "It could not be read: " + (material.metadata?.error ?? "the reason is unknown"), "failed");
      window.location.href = "/materials/" + data.id;
    } catch (error) {
      markInvalid(adder, error.field);
      say(adder, "Not added. " + error.message, "failed");
      add.disabled = false;
    }
  });
}

// A material still being processed (added or reprocessed elsewhere): its page comes
// back once it is ready or has failed.
document.querySelectorAll("[data-processing]").forEach(async (status) => {
  await until(async () => (await api("GET", "/materials/" + status.dataset.materialStatus)).data.status !== "processing", 1000);
  window.location.reload();
});

// What a generation job is doing, in words ("Reading passage 812 of 1,977…").
function generating(job) {
  const p = job.progress;
  const count = (n) => Number(n).toLocaleString("en");
  if (job.status === "queued") return "Waiting for a worker…";
  if (p?.stage === "reading") return `Reading passage ${count(p.done + 1)} of ${count(p.total)}…`;
  if (p?.stage === "asking") return `Asked the model about ${count(p.done)} of ${count(p.total)} passages…`;
  if (p?.stage === "saving") return `Saving ${count(p.total)} items…`;
  return "Generating…";
}

// A material's page: generate (the study buttons wait meanwhile), start sessions.
document.querySelectorAll("[data-generate]").forEach((button) =>
  button.addEventListener("click", async () => {
    const root = button.closest("section");
    const waiting = [button, ...root.querySelectorAll("[data-start]")].filter((b) => !b.disabled);
    waiting.forEach((b) => (b.disabled = true));
    try {
      say(root, "Generating…");
      const { data } = await api("POST", `/materials/${button.dataset.generate}/generate`, {});
      const job = await until(async () => {
        const { data: now } = await api("GET", "/jobs/" + data.job_id);
        if (now.status !== "done" && now.status !== "failed") say(root, generating(now));
        return (now.status === "done" || now.status === "failed") && now;
      });
      if (job.status === "failed") throw new Error(job.reason);
      say(root, `Made ${job.result.added} new item(s).`, "done");
      window.location.reload();
    } catch (error) {
      say(root, "Generation failed: " + error.message, "failed");
      waiting.forEach((b) => (b.disabled = false));
    }
  }),
);

document.querySelectorAll("[data-start]").forEach((button) =>
  button.addEventListener("click", async () => {
    try {
      const body = { study_material_id: button.dataset.material, session_type: button.dataset.start };
      // Study now: a review across all the learner's materials.
      if ("allMaterials" in button.dataset) body.configuration = { all_materials: true };
      const { data } = await api("POST", "/sessions", body);
      window.location.href = "/study/" + data.id;
    } catch (error) {
      say(button.closest("section"), "Could not start: " + error.message);
    }
  }),
);

// A material's items: edit (PATCH, the API's refusals said under their fields),
// suspend, unsuspend, restore and delete, then the page again with what was done said
// beside the item (or above the list, when the filter no longer shows it).
const items = document.querySelector("[data-items]");
if (items) {
  const SAID = "studyhall-item-said";
  const done = (id, message) => {
    sessionStorage.setItem(SAID, JSON.stringify({ id, message }));
    location.reload();
  };
  try {
    const said = JSON.parse(sessionStorage.getItem(SAID) ?? "null");
    sessionStorage.removeItem(SAID);
    if (said) {
      const line = items.querySelector(`[data-item="${CSS.escape(said.id)}"] [data-item-said]`) ?? items.querySelector("[data-status]");
      line.textContent = said.message;
      line.scrollIntoView({ block: "center" });
    }
  } catch {
    sessionStorage.removeItem(SAID);
  }
  const ACTIONS = {
    suspended: ["PATCH", { status: "suspended" }, "Suspended: it is out of your sessions until you unsuspend it."],
    ready: ["PATCH", { status: "ready" }, "Back in your sessions."],
    delete: ["DELETE", undefined, "Deleted."],
    accept: ["PATCH", { status: "ready" }, "Accepted: it is in your sessions."],
    reject: ["DELETE", undefined, "Rejected."],
  };
  items.querySelectorAll("[data-item-action]").forEach((button) =>
    button.addEventListener("click", async () => {
      const action = button.dataset.itemAction;
      if (action === "delete" && !window.confirm("Delete this item? It leaves your sessions (the deleted items can be restored).")) return;
      const [method, body, message] = ACTIONS[action];
      const line = button.closest("[data-item]").querySelector("[data-item-said]");
      try {
        await api(method, `/assets/${button.dataset.asset}`, body);
        done(button.dataset.asset, message);
      } catch (error) {
        line.textContent = "Not done: " + error.message;
      }
    }),
  );

  items.querySelector("[data-accept-all]")?.addEventListener("click", async (event) => {
    const button = event.currentTarget;
    try {
      const { data } = await api("POST", `/materials/${button.dataset.acceptAll}/assets/accept`);
      done(null, `Accepted ${data.accepted} new item${data.accepted === 1 ? "" : "s"}: they are in your sessions.`);
    } catch (error) {
      say(items, "Not done: " + error.message);
    }
  });

  // An edit form's fields as the item's content.
  const content = (form) => {
    const data = new FormData(form);
    const text = (name) => data.get(name) ?? "";
    if (form.dataset.kind === "flashcard") {
      const card = { front: text("front"), back: text("back") };
      if (data.get("cloze")) card.cloze = true;
      return card;
    }
    if (form.dataset.kind === "quiz") {
      return {
        kind: text("kind"),
        question: text("question"),
        choices: data.getAll("choice"),
        answer_index: Number(data.get("answer_index") ?? -1),
        explanation: text("explanation"),
      };
    }
    const points = text("key_points").split("\n").map((point) => point.trim()).filter(Boolean);
    return { text: text("text"), key_points: points };
  };
  // "must be 1 to 2000 characters" as "Must be 1 to 2000 characters."
  const sentence = (message) => message.charAt(0).toUpperCase() + message.slice(1).replace(/\.?$/, ".");
  items.querySelectorAll("form[data-edit]").forEach((form) =>
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      form.closest("[data-item]").querySelector("[data-item-said]").textContent = "";
      form.querySelectorAll("[data-error-for]").forEach((line) => (line.textContent = ""));
      form.querySelectorAll("[aria-invalid]").forEach((field) => field.removeAttribute("aria-invalid"));
      try {
        await api("PATCH", `/assets/${form.dataset.edit}`, { content: content(form) });
        done(form.dataset.edit, "Saved.");
      } catch (error) {
        const refusals = error.errors.length ? error.errors : [{ field: "content", message: error.message }];
        for (const { field, message } of refusals) {
          const part = field.replace(/^content\./, "");
          const line = [...form.querySelectorAll("[data-error-for]")].find((node) =>
            node.dataset.errorFor.split(" ").includes(part),
          ) ?? form.querySelector('[data-error-for="content"]');
          line.textContent = sentence(message);
          const input = form.querySelector(`[aria-describedby="${line.id}"]`);
          if (input) input.setAttribute("aria-invalid", "true");
        }
        form.querySelector('[aria-invalid="true"]')?.focus();
      }
    }),
  );

  // Reporting: a dialog with the reasons; Cancel or Escape closes it having done nothing.
  const dialog = document.getElementById("report-dialog");
  let reporting = null;
  items.querySelectorAll("[data-report]").forEach((button) =>
    button.addEventListener("click", () => {
      reporting = button;
      dialog.returnValue = "";
      dialog.querySelector("form").reset();
      dialog.showModal();
    }),
  );
  dialog?.addEventListener("close", async () => {
    const button = reporting;
    reporting = null;
    if (!button || dialog.returnValue !== "report") {
      button?.focus();
      return;
    }
    const form = new FormData(dialog.querySelector("form"));
    const comment = String(form.get("comment") ?? "").trim();
    const reason = form.get("reason");
    try {
      const body = { feedback_type: "report", comment: comment ? `${reason}: ${comment}` : reason };
      await api("POST", `/assets/${button.dataset.report}/feedback`, body);
      done(button.dataset.report, "Reported: it is out of your sessions until you restore it.");
    } catch (error) {
      button.closest("[data-item]").querySelector("[data-item-said]").textContent = "Could not report: " + error.message;
    }
  });
}

// The settings page's "Optimise": fits the learner's FSRS parameters (a job), then shows
// the outcome and the log losses.
document.querySelectorAll("form[data-optimise]").forEach((form) =>
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const root = form.closest("[data-fsrs]");
    const button = form.querySelector("button");
    const show = (selector, text) => {
      const node = root.querySelector(selector);
      if (node) node.textContent = text;
    };
    button.disabled = true;
    try {
      say(root, "Optimising…");
      const { data } = await api("POST", "/me/fsrs/optimise");
      const job = await until(async () => {
        const { data: now } = await api("GET", "/jobs/" + data.job_id);
        return (now.status === "done" || now.status === "failed") && now;
      });
      if (job.status === "failed") throw new Error(job.reason);
      const { data: fsrs } = await api("GET", "/me/fsrs");
      const loss = (value) => (value === null ? "–" : value.toFixed(4));
      show("[data-fsrs-default]", loss(fsrs.log_loss_default));
      show("[data-fsrs-fitted]", loss(fsrs.log_loss_fitted));
      show("[data-fsrs-reviews]", `${fsrs.reviews} (${fsrs.training_reviews} a day or more apart)`);
      show("[data-fsrs-outcome]", fsrs.outcome);
      if (fsrs.fitted) show("[data-fsrs-kind]", "Your reviews are scheduled with parameters fitted to your own answers.");
      say(root, job.result.improved ? "Done: your parameters were updated." : "Done: your parameters did not change.");
    } catch (error) {
      say(root, "Could not optimise: " + error.message);
    } finally {
      button.disabled = false;
    }
  }),
);

// Forms that call the API: <form data-api="METHOD /path">, their named fields as JSON
// (empty ones left out, data-number ones as numbers); data-confirm asks first,
// data-redirect goes on after, data-reload shows the page again, a [data-link] field
// shows the link the answer made, and the outcome is told in the form's status line.
document.querySelectorAll("form[data-api]").forEach((form) =>
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const [method, path] = form.dataset.api.split(" ");
    markInvalid(form, null);
    const body = {};
    new FormData(form).forEach((value, key) => {
      const field = form.elements.namedItem(key)?.dataset ?? {};
      if ("list" in field) body[key] = value.split(",").map((v) => v.trim()).filter(Boolean);
      else if ("number" in field && value !== "") body[key] = Number(value);
      else if (value !== "") body[key] = value;
      else if ("clearable" in field) body[key] = null;
    });
    // Sent once: the button waits for the answer (a double click sends nothing more).
    const submit = form.querySelector("button[type=submit], button:not([type])");
    if (submit?.disabled) return;
    if (submit) submit.disabled = true;
    try {
      const { data } = await api(method, path, method === "DELETE" ? undefined : body);
      if (form.dataset.redirect) {
        window.location.href = form.dataset.redirect;
        return;
      }
      // A link made for someone else (an invitation, a password reset): shown once, to copy.
      const link = form.querySelector("[data-link]");
      if (link && data?.link) {
        link.value = data.link;
        link.hidden = false;
        link.select();
        say(form, "Copy this link and send it: it works once and is not shown again.", "done");
        return;
      }
      if ("reload" in form.dataset) {
        window.location.reload();
        return;
      }
      say(form, "Saved.", "done");
    } catch (error) {
      markInvalid(form, error.field);
      say(form, "Not saved. " + error.message, "failed");
    } finally {
      if (submit) submit.disabled = false;
    }
  }),
);

// The study loop: one item at a time, the same by touch, mouse or keys. Every step has
// its buttons (Show answer; Again, Hard, Good, Easy with the interval each gives; Next;
// Continue), a tap on a card's front turns it over, and the keys do the same: Space or
// Enter goes on, 1-4 rate a card or choose an answer. Another tab may answer the item
// shown or end the session: the item moves on with a notice, and an ended session says
// so with links to its results and its material.
const study = document.querySelector("[data-session]");
if (study) {
  const session = study.dataset.session;
  const card = study.querySelector("[data-card]");
  const actions = study.querySelector("[data-actions]");
  const position = study.querySelector("[data-position]");
  const notice = study.querySelector("[data-notice]");
  const BLANK = "_____";
  const RATINGS = ["Again", "Hard", "Good", "Easy"];
  let item = null; // the item shown, as `next` gave it
  let shownAt = 0;
  let stage = "loading"; // front | back | choosing | feedback | summary | passage | loading | ended
  let primary = null; // what Space and Enter do now
  let checking = false;

  const el = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  };
  const button = (label, action, className) => {
    const node = el("button", undefined, className);
    node.type = "button";
    node.append(...[label].flat());
    node.addEventListener("click", () => run(action));
    return node;
  };
  const key = (n) => el("kbd", String(n), "key");
  const show = (nodes, buttons = [], onward = null) => {
    card.replaceChildren(...nodes);
    actions.replaceChildren(...buttons);
    primary = onward;
    card.focus({ preventScroll: true });
  };
  const tell = (message) => {
    notice.textContent = message;
    notice.hidden = !message;
  };

  // Runs a step of the loop; whatever fails ends in words on the page, never an
  // uncaught error.
  function run(step) {
    return Promise.resolve()
      .then(step)
      .catch((error) => {
        if (error.status === 409 && error.field === "generated_asset_id") {
          tell("That item was answered in another tab, so here is the next one.");
          return run(next);
        }
        if (error.status === 409) return ended();
        stage = "loading";
        show([el("p", "Something went wrong: " + error.message, "bad")], [button("Try again", () => location.reload())]);
      });
  }

  // An interval in days, short ("10m", "3d") and in words ("10 minutes", "3 days").
  function span(days) {
    const units = [
      [1 / 1440, "m", "minute"],
      [1 / 24, "h", "hour"],
      [1, "d", "day"],
      [30.44, "mo", "month"],
      [365.25, "y", "year"],
    ];
    const limits = [60, 24, 30.5, 12, Infinity];
    const at = units.findIndex(([size], index) => days / size < limits[index]);
    const [size, short, word] = units[at];
    const amount = at < 3 ? Math.max(1, Math.round(days / size)) : Math.round((days / size) * 10) / 10;
    return { short: amount + short, long: `${amount} ${word}${amount === 1 ? "" : "s"}` };
  }

  // A cloze sentence with its blank filled in and marked, or as it is (blank shown).
  function sentence(text, answer, className) {
    const line = el("p", undefined, className);
    text.split(BLANK).forEach((part, index) => {
      if (index > 0) line.append(answer === undefined ? el("span", BLANK, "blank") : el("mark", answer));
      line.append(part);
    });
    return line;
  }

  const wordsIn = (text) => text.split(/\s+/).filter(Boolean).length;
  const sentencesOf = (text) => text.match(/[^.!?]+[.!?]*\s*/g) ?? [text];

  // The first sentences of a long text, the rest folded away.
  function brief(text, words = 45) {
    const sentences = sentencesOf(text);
    let count = 0;
    let cut = 0;
    while (cut < sentences.length && (cut === 0 || count + wordsIn(sentences[cut]) <= words)) {
      count += wordsIn(sentences[cut]);
      cut += 1;
    }
    const rest = sentences.slice(cut).join("").trim();
    if (!rest) return [el("p", text)];
    const more = el("details", undefined, "more");
    more.append(el("summary", `Read more (${wordsIn(rest)} words)`), el("p", rest));
    return [el("p", sentences.slice(0, cut).join("").trim()), more];
  }

  async function next() {
    stage = "loading";
    const { status, data } = await api("GET", `/sessions/${session}/next`);
    if (status === 204) return finish();
    present(data);
  }

  function present(data) {
    item = data.asset;
    item.intervals = data.intervals;
    shownAt = performance.now();
    // A card in a learning step, served again, says so.
    const again = data.again ? " · again, in a learning step" : "";
    position.textContent = `Item ${data.position} of ${data.position + data.remaining - 1}${again}`;
    if (item.asset_type === "flashcard") front();
    else if (item.asset_type === "quiz") question();
    else summary();
  }

  function front() {
    stage = "front";
    const { content } = item;
    const text = content.cloze ? sentence(content.front, undefined, "front") : el("p", content.front, "front");
    show([text, el("p", "Tap the card to see the answer.", "hint touch-only")], [button("Show answer", reveal)], reveal);
  }

  async function reveal() {
    if (stage !== "front") return;
    stage = "loading";
    const { data } = await api("GET", `/assets/${item.id}`);
    const { front: text, back, cloze } = data.content;
    stage = "back";
    const shown = cloze ? [sentence(text, back, "front back")] : [el("p", text, "front"), el("p", back, "back")];
    const rate = RATINGS.map((label, index) => {
      const days = item.intervals?.[label.toLowerCase()];
      const when = days === undefined ? null : span(days);
      const parts = [key(index + 1), el("span", label, "label")];
      if (when) parts.push(el("span", when.short, "when"));
      const node = button(parts, () => rateCard(index + 1));
      if (when) node.setAttribute("aria-label", `${label}: next review in ${when.long}`);
      return node;
    });
    const group = el("div", undefined, "rate");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "How well did you remember it?");
    group.append(...rate);
    show(shown, [group]);
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
    tell("");
    const recorded = await answer({ rating });
    const days = recorded.feedback_data?.schedule?.interval_days;
    if (days !== undefined) tell(`Last card rated ${RATINGS[rating - 1]}: next review in ${span(days).long}.`);
    await next();
  }

  function question() {
    stage = "choosing";
    const list = el("ol", undefined, "choices");
    item.content.choices.forEach((choice, index) => {
      const li = el("li");
      li.append(button([key(index + 1), el("span", choice, "label")], () => choose(index)));
      list.append(li);
    });
    show([el("p", item.content.question, "front"), list]);
  }

  // The question stays, with the learner's choice and the right answer marked, the
  // explanation and the sentence of the material it comes from.
  async function choose(index) {
    if (stage !== "choosing") return;
    stage = "loading";
    tell("");
    const recorded = await answer({ choice_index: index });
    const feedback = recorded.feedback_data ?? {};
    const asset = await api("GET", `/assets/${item.id}`).then(({ data }) => data, () => ({}));
    stage = "feedback";
    const choices = card.querySelectorAll(".choices button");
    choices.forEach((node, at) => {
      node.disabled = true;
      if (at === index) node.classList.add("chosen");
      if (at === feedback.answer_index) node.classList.add("right");
      const tags = [at === index && "Your answer", at === feedback.answer_index && "Right answer"].filter(Boolean);
      if (tags.length) node.append(el("span", tags.join(" · "), "tag"));
    });
    const verdict = recorded.is_correct
      ? el("p", "Correct.", "good")
      : el("p", `Not quite: the answer is ${feedback.correct_answer}.`, "bad");
    const nodes = [card.querySelector(".front"), card.querySelector(".choices"), verdict];
    const params = asset.generation_params ?? {};
    const source = params.sentence ?? params.evidence ?? feedback.source_chunk?.excerpt;
    // An explanation that is the material's own sentence is shown once, as the source.
    if (feedback.explanation && feedback.explanation.trim() !== source?.trim()) {
      nodes.push(el("p", feedback.explanation, "explanation"));
    }
    if (source) {
      const quote = el("figure", undefined, "source");
      quote.append(el("figcaption", "From the material"), el("blockquote", source));
      nodes.push(quote);
    }
    const onward = () => stage === "feedback" && next();
    show(nodes, [button("Next", onward)], onward);
  }

  function summary() {
    stage = "summary";
    const { content } = item;
    const nodes = [el("h2", item.content_chunk_id ? "Summary" : "Summary of the material")];
    const points = content.key_points ?? [];
    if (points.length) {
      const list = el("ul", undefined, "points");
      points.slice(0, 4).forEach((point) => list.append(el("li", point)));
      nodes.push(list);
      if (points.length > 4) {
        const more = el("details", undefined, "more");
        const rest = el("ul", undefined, "points");
        points.slice(4).forEach((point) => rest.append(el("li", point)));
        const morePoints = points.length - 4;
        more.append(el("summary", `${morePoints} more point${morePoints === 1 ? "" : "s"}`), rest);
        nodes.push(more);
      }
    }
    // Sentences the key points hold already are not shown twice (a material's summary
    // is its key points strung together).
    const text = sentencesOf(content.text ?? "").filter((sentence) => !points.includes(sentence.trim()));
    if (text.join("").trim()) nodes.push(...brief(text.join("").trim()));
    const buttons = [button("Continue", carryOn, item.passage ? "secondary" : undefined)];
    if (item.passage) buttons.unshift(button("Read the passage", passage));
    show(nodes, buttons, item.passage ? passage : carryOn);
  }

  function passage() {
    if (stage !== "summary") return;
    stage = "passage";
    show([el("h2", "The passage"), el("p", item.passage, "passage")], [button("Continue", carryOn)], carryOn);
  }

  async function carryOn() {
    if (stage !== "summary" && stage !== "passage") return;
    stage = "loading";
    tell("");
    await answer({}, "view");
    await next();
  }

  // The session's end: its results, shown by the page itself once it has ended (here
  // or in another tab).
  async function finish() {
    stage = "ended";
    show([el("p", "Ending the session…")]);
    await api("POST", `/sessions/${session}/end`).catch((error) => {
      if (error.status !== 409) throw error;
    });
    location.reload();
  }

  function ended() {
    stage = "ended";
    item = null;
    tell("");
    study.querySelector(".keys").hidden = true;
    position.textContent = "Session ended";
    const results = el("a", "See the results", "button");
    results.href = location.pathname;
    const material = el("a", study.dataset.backLabel, "button secondary");
    material.href = study.dataset.back;
    const links = el("p", undefined, "links");
    links.append(results, material);
    study.querySelector("[data-end]").hidden = true;
    show([el("h2", "This session has ended"), el("p", "It was ended in another tab, or left idle for too long. Every answer you gave is kept."), links]);
  }

  // Back in this tab: if another one moved the session on, follow it.
  async function recheck() {
    if (checking || !item || !["front", "back", "choosing", "summary", "passage"].includes(stage)) return;
    checking = true;
    const [shown, was] = [item.id, stage];
    try {
      const { status, data } = await api("GET", `/sessions/${session}/next`);
      if (stage !== was || item?.id !== shown) return; // the learner went on meanwhile
      if (status === 204) return finish();
      if (data.asset.id !== shown) {
        tell("That item was answered in another tab, so here is the next one.");
        present(data);
      }
    } finally {
      checking = false;
    }
  }

  card.addEventListener("click", (event) => {
    if (stage === "front" && !event.target.closest("button, a, summary")) run(reveal);
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select") || event.repeat || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key === " " || event.key === "Enter") {
      // A focused button or link acts by itself.
      if (event.target.closest("button, a, summary") || !primary || stage === "loading" || stage === "ended") return;
      run(primary);
    } else if (["1", "2", "3", "4"].includes(event.key)) {
      const n = Number(event.key);
      if (stage === "back") run(() => rateCard(n));
      else if (stage === "choosing" && n <= item.content.choices.length) run(() => choose(n - 1));
      else return;
    } else return;
    event.preventDefault();
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") run(recheck);
  });
  window.addEventListener("focus", () => run(recheck));

  study.querySelector("[data-end]").addEventListener("click", () => {
    if (stage !== "ended") run(finish);
  });

  run(next);
}
