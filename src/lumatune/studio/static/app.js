// lumatune studio: the page. Every request carries the token (header; GET images by ?token=). The server does
// the developing; this file draws, keeps the look being edited, and generates one control per look parameter
// from the schema the server reads from the params definitions.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const S = {
  files: [], path: null, info: null, schema: [], looks: [], spec: null, base: null, lookRef: null,
  wb: null, mode: "single", zoom: false, picking: false, clip: false, split: 0.5, compareRef: null,
  images: {}, controller: {}, paints: 0, lastPaint: null, releaseAt: null, busy: 0,
};
// true when no render is waiting for a frame or for the server (tests and benchmarks wait on it)
S.settled = () => S.busy === 0 && !Object.values(pending).some(Boolean);
window.studio = S;

function url(path, params = {}) {
  const [bare, query] = path.split("?");
  const q = new URLSearchParams(query || "");
  for (const [k, v] of Object.entries({ ...params, token: TOKEN })) q.set(k, v);
  return `${bare}?${q}`;
}
async function api(path, body, { signal } = {}) {
  const options = body === undefined ? { headers: { "X-Lumatune-Token": TOKEN } } : {
    method: "POST", signal, body: JSON.stringify(body),
    headers: { "X-Lumatune-Token": TOKEN, "Content-Type": "application/json" },
  };
  const response = await fetch(url(path), options);
  if (!response.ok) {
    let message = `${response.status}`;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}
function status(text, error = false) {
  $("status").textContent = text; $("status").classList.toggle("error", error);
}
function fail(error) { if (error.name !== "AbortError") status(error.message, true); }
const clone = (x) => JSON.parse(JSON.stringify(x));

// ---------- views ----------
function show(view) {
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === `${view}-view`));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === view));
  $("crumb").textContent = view === "folder" ? "" : S.info ? S.info.name : "";
  if (view === "lab") runLab().catch(fail);
  if (view === "image") render("main");
}
document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => show(t.dataset.view)));

// ---------- library ----------
function exposureText(f) {
  const parts = [];
  if (f.exposure_time) parts.push(f.exposure_time >= 1 ? `${f.exposure_time} s` : `1/${Math.round(1 / f.exposure_time)} s`);
  if (f.f_number) parts.push(`f/${(+f.f_number).toFixed(1)}`);
  if (f.iso) parts.push(`ISO ${Math.round(f.iso)}`);
  if (f.focal_length) parts.push(`${(+f.focal_length).toFixed(0)} mm`);
  return parts.join("  ·  ");
}
function ev100(f) { return f.exposure_time && f.f_number ? Math.log2(f.f_number ** 2 / f.exposure_time) - Math.log2((f.iso || 100) / 100) : 0; }
function drawGrid() {
  const needle = $("filter").value.toLowerCase();
  const key = $("sort").value;
  const keyOf = { name: (f) => f.name, camera: (f) => f.camera || "", exposure: ev100, date: (f) => f.date || "" }[key];
  const files = S.files.filter((f) => [f.name, f.camera, f.lens].join(" ").toLowerCase().includes(needle))
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : a.name.localeCompare(b.name)));
  $("count").textContent = `${files.length} of ${S.files.length} raws`;
  $("grid").replaceChildren(...files.map((f) => {
    const card = document.createElement("div");
    card.className = "card"; card.dataset.path = f.path; card.title = f.path;
    card.innerHTML = `<div class="thumb"><img loading="lazy" alt=""></div><div class="caption">
      <div class="name"></div><div class="sub cam"></div><div class="sub lens"></div><div class="sub exp"></div></div>`;
    card.querySelector("img").src = url("/api/thumb", { path: f.path });
    card.querySelector(".name").textContent = f.name;
    if (f.chart) card.querySelector(".name").insertAdjacentHTML("beforeend", '<span class="badge">chart</span>');
    card.querySelector(".cam").textContent = f.error || f.camera || "…";
    card.querySelector(".lens").textContent = f.lens || "";
    card.querySelector(".exp").textContent = exposureText(f);
    card.addEventListener("click", () => openImage(f.path).catch(fail));
    return card;
  }));
}
async function loadInfos() {  // camera, lens, exposure of each raw, one request at a time (each reads a raw)
  for (const f of S.files) {
    if (f.camera !== undefined || f.error) continue;
    Object.assign(f, await (await api("/api/info?" + new URLSearchParams({ path: f.path }))).json());
    const card = document.querySelector(`.card[data-path="${CSS.escape(f.path)}"]`);
    if (card) {
      card.querySelector(".cam").textContent = f.error || f.camera;
      card.querySelector(".lens").textContent = f.lens || "";
      card.querySelector(".exp").textContent = exposureText(f);
    }
  }
  document.body.dataset.infos = "1";
  if ($("sort").value !== "name") drawGrid();
}
$("filter").addEventListener("input", drawGrid);
$("sort").addEventListener("change", drawGrid);

// ---------- develop ----------
async function openImage(path) {
  S.path = path; S.info = S.files.find((f) => f.path === path); S.wb = null; S.zoom = false;
  if (S.info.camera === undefined && !S.info.error) Object.assign(S.info, await (await api("/api/info?" + new URLSearchParams({ path }))).json());
  document.querySelector('[data-view="image"]').disabled = false;
  document.querySelector('[data-view="lab"]').disabled = !S.info.chart;
  $("meta").innerHTML = "";
  const lines = [S.info.name, S.info.camera, S.info.lens, exposureText(S.info),
    `${S.info.size[0]} × ${S.info.size[1]} px`];
  lines.filter(Boolean).forEach((l) => { const d = document.createElement("div"); d.textContent = l; $("meta").append(d); });
  drawLooks();
  await pickLook(S.lookRef || "default", false);
  wbText();
  show("image");
}
function drawLooks() {
  $("looks").replaceChildren(...S.looks.map((l) => {
    const item = document.createElement("div");
    item.className = `look${l.user ? " user" : ""}`; item.dataset.ref = l.ref; item.title = l.ref;
    item.innerHTML = "<img alt=''><span></span>";
    item.querySelector("img").src = url("/api/lookthumb", { path: S.path, look: l.ref });
    item.querySelector("span").textContent = l.name;
    item.addEventListener("click", () => pickLook(l.ref).catch(fail));
    return item;
  }));
  $("compare-look").replaceChildren(...S.looks.map((l) => new Option(l.name, l.ref)));
  if (!S.compareRef) S.compareRef = S.looks.find((l) => l.ref !== "default")?.ref || "default";
  $("compare-look").value = S.compareRef;
}
async function pickLook(ref, draw = true) {
  const spec = await (await api("/api/look?" + new URLSearchParams({ ref }))).json();
  S.lookRef = ref; S.spec = spec; S.base = clone(spec);
  document.querySelectorAll(".look").forEach((el) => el.classList.toggle("selected", el.dataset.ref === ref));
  $("save-name").value = `${spec.name}-studio.toml`;
  drawControls();
  if (draw) { render("main"); if (S.mode === "split") render("before"); }
}

// value of a control in a spec (or its default)
function valueOf(spec, c) {
  const block = spec.blocks[c.stage] || {};
  const m = c.name.match(/^(.*)\[(\d+)\]$/);
  if (m) { const list = block[m[1]]; return list && list.length > +m[2] ? list[+m[2]] : c.default; }
  return c.name in block ? block[c.name] : c.default;
}
function setValue(c, value) {
  const block = (S.spec.blocks[c.stage] = S.spec.blocks[c.stage] || {});
  const m = c.name.match(/^(.*)\[(\d+)\]$/);
  if (m) {
    const stage = S.schema.find((s) => s.stage === c.stage);
    const all = stage.controls.filter((x) => x.name.startsWith(`${m[1]}[`));
    const list = block[m[1]] && block[m[1]].length === all.length ? block[m[1]].slice() : all.map((x) => valueOf(S.spec, x));
    list[+m[2]] = value; block[m[1]] = list;
  } else block[c.name] = value;
}
function fmt(v, c) {
  if (typeof v !== "number") return String(v);
  const digits = c.step >= 1 ? 0 : c.step >= 0.1 ? 1 : c.step >= 0.01 ? 2 : 3;
  return `${v.toFixed(digits)}${c.unit ? " " + (c.unit === "degrees" ? "°" : c.unit) : ""}`;
}
function drawControls() {
  const sections = S.schema.filter((s) => s.controls.length).map((stage) => {
    const section = document.createElement("details");
    section.className = "section"; section.dataset.stage = stage.stage;
    section.open = stage.stage in S.spec.blocks || stage.stage === "exposure";
    const summary = document.createElement("summary");
    summary.textContent = stage.stage;
    const enabled = document.createElement("input");
    enabled.type = "checkbox"; enabled.checked = !S.spec.disabled.includes(stage.stage); enabled.title = "stage on";
    enabled.addEventListener("click", (e) => e.stopPropagation());
    enabled.addEventListener("change", () => {
      S.spec.disabled = S.spec.disabled.filter((d) => d !== stage.stage);
      if (!enabled.checked) S.spec.disabled.push(stage.stage);
      release(); render("main");
    });
    summary.prepend(enabled);
    section.append(summary);
    for (const c of stage.controls) section.append(control(c));
    return section;
  });
  $("controls").replaceChildren(...sections);
}
function control(c) {
  const box = document.createElement("div");
  box.className = "ctl"; box.title = `${c.stage}.${c.name}: ${c.doc}${c.min != null ? ` [${c.min} … ${c.max}]` : ""}`;
  const id = `ctl-${c.stage}-${c.name}`.replace(/[\[\]]/g, "_");
  const label = document.createElement("label"); label.htmlFor = id; label.textContent = (c.label || c.name).replace(/_/g, " ");
  const out = document.createElement("output");
  let input;
  const value = valueOf(S.spec, c);
  const changed = () => box.classList.toggle("changed", JSON.stringify(valueOf(S.spec, c)) !== JSON.stringify(valueOf(S.base, c)));
  if (c.kind === "slider" || c.kind === "number") {
    input = document.createElement("input");
    input.type = c.kind === "slider" ? "range" : "number";
    if (c.min != null) input.min = c.min; if (c.max != null) input.max = c.max; input.step = c.step;
    input.value = value; out.textContent = fmt(+value, c);
    input.addEventListener("input", () => { setValue(c, +input.value); out.textContent = fmt(+input.value, c); changed(); render("main"); });
    input.addEventListener("change", () => { release(); render("main"); });
    input.addEventListener("dblclick", () => { input.value = c.default; input.dispatchEvent(new Event("input")); release(); });
  } else if (c.kind === "toggle") {
    input = document.createElement("input"); input.type = "checkbox"; input.checked = !!value;
    input.addEventListener("change", () => { setValue(c, input.checked); changed(); release(); render("main"); });
  } else if (c.kind === "choice") {
    input = document.createElement("select");
    input.append(...c.choices.map((x) => new Option(x, x))); input.value = value;
    input.addEventListener("change", () => { setValue(c, input.value); changed(); release(); render("main"); });
  } else {
    input = document.createElement("input"); input.value = value; input.className = "mono";
    input.addEventListener("change", () => { setValue(c, input.value); changed(); release(); render("main"); });
  }
  input.id = id; input.dataset.stage = c.stage; input.dataset.name = c.name;
  if (c.kind === "slider" || c.kind === "number") box.append(label, out, input); else box.append(label, input);
  changed();
  return box;
}
function release() { S.releaseAt = performance.now(); }

function previewSize() {
  const v = $("viewer");
  const ratio = window.devicePixelRatio || 1;
  const edge = Math.max(v.clientWidth, v.clientHeight) * ratio;
  return Math.max(64, Math.min(2048, Math.round(edge)));
}
function body(extra = {}) { return { path: S.path, look: S.spec, wb: S.wb, size: previewSize(), ...extra }; }

const pending = {};
function render(channel) {  // coalesce to one request per frame; a newer request aborts the older one
  if (!S.path || !S.spec) return;
  if (pending[channel]) return;
  pending[channel] = requestAnimationFrame(() => {
    pending[channel] = 0; S.busy += 1;
    renderNow(channel).catch(fail).finally(() => { S.busy -= 1; if (!S.busy) $("busy").hidden = true; });
  });
}
async function renderNow(channel) {
  if (S.controller[channel]) S.controller[channel].abort();
  const controller = (S.controller[channel] = new AbortController());
  const sentAt = performance.now();
  const releaseAt = S.releaseAt;
  let look = S.spec;
  if (channel === "before") look = S.base;
  if (channel === "compare") look = (await (await api("/api/look?" + new URLSearchParams({ ref: S.compareRef }))).json());
  $("busy").hidden = false;
  const response = await api("/api/preview", body({ look, channel }), { signal: controller.signal });
  if (response.status === 204) return;  // a newer request on this channel replaced it
  const bitmap = await createImageBitmap(await response.blob());
  if (controller.signal.aborted) return;
  S.images[channel] = bitmap;
  paint();
  if (channel === "main") {
    S.paints += 1;
    const now = performance.now();
    S.lastPaint = { sentAt, paintedAt: now, serverMs: +response.headers.get("x-render-ms"),
      fromRelease: releaseAt != null && releaseAt <= sentAt + 1 ? now - releaseAt : null,
      width: bitmap.width, height: bitmap.height };
    $("render-time").textContent = `${Math.round(now - sentAt)} ms`;
    drawHistogram();
    status("");
  }
}
function fit(canvas, box) {  // show a canvas as large as fits its box (contain), up or down
  const scale = Math.min(box.clientWidth / canvas.width, box.clientHeight / canvas.height);
  canvas.style.width = `${Math.floor(canvas.width * scale)}px`; canvas.style.height = `${Math.floor(canvas.height * scale)}px`;
}
function sized(canvas, bitmap) {
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) { canvas.width = bitmap.width; canvas.height = bitmap.height; }
  return canvas.getContext("2d", { willReadFrequently: true });
}
function paint() {
  const main = S.images.main;
  $("stage-single").hidden = S.mode === "compare" || S.zoom;
  $("stage-compare").hidden = S.mode !== "compare" || S.zoom;
  $("stage-zoom").hidden = !S.zoom;
  if (!main) return;
  if (S.mode === "compare") {
    sized($("compare-a"), main).drawImage(main, 0, 0);
    $("caption-a").textContent = `${S.spec.name} (edited)`;
    if (S.images.compare) sized($("compare-b"), S.images.compare).drawImage(S.images.compare, 0, 0);
    const half = { clientWidth: ($("stage-compare").clientWidth - 12) / 2, clientHeight: $("stage-compare").clientHeight - 28 };
    fit($("compare-a"), half); if (S.images.compare) fit($("compare-b"), half);
    $("caption-b").textContent = S.looks.find((l) => l.ref === S.compareRef)?.name || "";
    return;
  }
  const canvas = $("main-canvas");
  const ctx = sized(canvas, main);
  ctx.drawImage(main, 0, 0);
  fit(canvas, $("stage-single"));
  const line = $("split-line");
  line.hidden = S.mode !== "split";
  if (S.mode === "split" && S.images.before) {
    const x = Math.round(S.split * main.width);
    ctx.drawImage(S.images.before, 0, 0, x, main.height, 0, 0, x, main.height);
    const rect = canvas.getBoundingClientRect(), host = $("stage-single").getBoundingClientRect();
    line.style.left = `${rect.left - host.left + S.split * rect.width}px`;
    line.style.top = `${rect.top - host.top}px`; line.style.bottom = "auto"; line.style.height = `${rect.height}px`;
  }
  drawClipping();
}
function drawClipping() {
  const clip = $("clip-canvas"), main = $("main-canvas");
  clip.hidden = !S.clip;
  if (!S.clip || !main.width) return;
  clip.width = main.width; clip.height = main.height;
  clip.style.width = main.style.width; clip.style.height = main.style.height;
  const src = main.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, main.width, main.height).data;
  const out = new ImageData(main.width, main.height);
  for (let i = 0; i < src.length; i += 4) {
    const hi = src[i] >= 255 || src[i + 1] >= 255 || src[i + 2] >= 255, lo = src[i] + src[i + 1] + src[i + 2] === 0;
    if (hi) out.data.set([255, 40, 40, 255], i); else if (lo) out.data.set([40, 90, 255, 255], i);
  }
  clip.getContext("2d").putImageData(out, 0, 0);
}
function drawHistogram() {
  const main = S.images.main;
  if (!main) return;
  const c = document.createElement("canvas"); c.width = main.width; c.height = main.height;
  const ctx = c.getContext("2d", { willReadFrequently: true }); ctx.drawImage(main, 0, 0);
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  const bins = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  let high = 0, low = 0;
  for (let i = 0; i < px.length; i += 4) {
    bins[0][px[i]]++; bins[1][px[i + 1]]++; bins[2][px[i + 2]]++;
    if (px[i] === 255 || px[i + 1] === 255 || px[i + 2] === 255) high++;
    if (px[i] + px[i + 1] + px[i + 2] === 0) low++;
  }
  const n = px.length / 4;
  S.clipped = { high: high / n, low: low / n };
  const h = $("histogram"), g = h.getContext("2d");
  const peak = Math.max(...bins.map((b) => Math.max(...b.slice(1, 255)))) || 1;
  g.clearRect(0, 0, h.width, h.height);
  g.globalCompositeOperation = "lighter";
  ["rgba(200,60,60,.6)", "rgba(70,170,80,.6)", "rgba(70,110,210,.6)"].forEach((colour, ch) => {
    g.fillStyle = colour; g.beginPath(); g.moveTo(0, h.height);
    for (let x = 0; x < 256; x++) g.lineTo(x, h.height - Math.min(1, Math.sqrt(bins[ch][x] / peak)) * (h.height - 4));
    g.lineTo(255, h.height); g.closePath(); g.fill();
  });
  g.globalCompositeOperation = "source-over";
  const pct = (v) => (v * 100 >= 10 ? (v * 100).toFixed(0) : (v * 100).toFixed(1));
  $("clip-high").textContent = S.clipped.high > 0.001 ? `▲ ${pct(S.clipped.high)} % highlights clipped` : "";
  $("clip-low").textContent = S.clipped.low > 0.001 ? `▼ ${pct(S.clipped.low)} % shadows clipped` : "";
}

// modes
function setMode(mode) {
  S.mode = mode; S.zoom = false; $("zoom").classList.remove("on");
  ["single", "split", "compare"].forEach((m) => $(`mode-${m}`).classList.toggle("on", m === mode));
  $("compare-look").hidden = mode !== "compare";
  if (mode === "split") render("before");
  if (mode === "compare") render("compare");
  paint();
}
["single", "split", "compare"].forEach((m) => $(`mode-${m}`).addEventListener("click", () => setMode(m)));
$("compare-look").addEventListener("change", () => { S.compareRef = $("compare-look").value; render("compare"); });
$("clip-toggle").addEventListener("click", () => { S.clip = !S.clip; $("clip-toggle").classList.toggle("on", S.clip); paint(); });
let dragging = false;
$("split-line").addEventListener("pointerdown", (e) => { dragging = true; e.target.setPointerCapture(e.pointerId); });
window.addEventListener("pointerup", () => { dragging = false; });
window.addEventListener("pointermove", (e) => {
  if (!dragging) return;
  const rect = $("main-canvas").getBoundingClientRect();
  S.split = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width)); paint();
});
window.addEventListener("resize", () => paint());

// white balance and zoom: clicks on the image
function setPicking(on) { S.picking = on; $("viewer").classList.toggle("picking", on); $("pick-grey").classList.toggle("on", on); $("wb-pick").classList.toggle("on", on); }
$("pick-grey").addEventListener("click", () => setPicking(!S.picking));
$("wb-pick").addEventListener("click", () => setPicking(!S.picking));
$("wb-reset").addEventListener("click", () => { S.wb = null; wbText(); release(); render("main"); if (S.mode === "split") render("before"); });
function wbText() { $("wb-text").textContent = S.wb ? `picked: R ${(1 / S.wb[0]).toFixed(2)} · B ${(1 / S.wb[2]).toFixed(2)}` : "as shot"; }
$("zoom").addEventListener("click", () => {
  if (S.zoom) { S.zoom = false; $("zoom").classList.remove("on"); $("viewer").classList.remove("zooming"); paint(); return; }
  $("viewer").classList.toggle("zooming"); $("zoom").classList.toggle("on", $("viewer").classList.contains("zooming"));
});
$("main-canvas").addEventListener("click", async (e) => {
  const rect = e.target.getBoundingClientRect();
  const x = (e.clientX - rect.left) / rect.width, y = (e.clientY - rect.top) / rect.height;
  try {
    if (S.picking) {
      setPicking(false);
      S.wb = (await (await api("/api/wb", { path: S.path, x, y })).json()).wb;
      wbText(); release(); render("main"); if (S.mode === "split") render("before");
    } else if ($("viewer").classList.contains("zooming")) {
      $("viewer").classList.remove("zooming");
      const v = $("viewer");
      const response = await api("/api/zoom", { path: S.path, look: S.spec, wb: S.wb, cx: x, cy: y,
        width: Math.min(2048, v.clientWidth - 32), height: Math.min(2048, v.clientHeight - 32) });
      const bitmap = await createImageBitmap(await response.blob());
      sized($("zoom-canvas"), bitmap).drawImage(bitmap, 0, 0);
      S.zoom = true; paint();
    }
  } catch (error) { fail(error); }
});
$("zoom-canvas").addEventListener("click", () => { S.zoom = false; $("zoom").classList.remove("on"); paint(); });

// ---------- keep ----------
$("save-look").addEventListener("click", async () => {
  try {
    const name = $("save-name").value.trim();
    const spec = { ...S.spec, name: name.replace(/\.toml$/, "") };
    const request = { look: spec, file: name, wb: S.wb };
    let response;
    try { response = await api("/api/save_look", request); } catch (error) {
      if (!/exists/.test(error.message) || !confirm(`${name} exists. Replace it?`)) throw error;
      response = await api("/api/save_look", { ...request, overwrite: true });
    }
    const saved = await response.json();
    S.spec.name = spec.name;
    $("save-result").textContent = `saved ${saved.path}${saved.tuning ? ` and ${saved.tuning}` : ""}`;
    S.looks = (await (await api("/api/looks")).json()).looks; drawLooks();
    document.querySelectorAll(".look").forEach((el) => el.classList.toggle("selected", el.dataset.ref === S.lookRef));
  } catch (error) { $("save-result").textContent = error.message; fail(error); }
});
async function follow(job, label) {
  const bar = $("progress"); bar.hidden = false; bar.value = 0;
  for (;;) {
    const state = await (await api("/api/job?" + new URLSearchParams({ id: job }))).json();
    bar.max = state.total || 1; bar.value = state.done;
    $("job-result").textContent = `${label}: ${state.done} / ${state.total}`;
    if (state.finished) {
      S.lastJob = state;
      $("job-result").textContent = state.error ? state.error : `${label} done in ${state.seconds} s: ${state.outputs.join(", ")}`;
      $("job-result").dataset.done = state.error ? "error" : "ok";
      return state;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
$("export").addEventListener("click", async () => {
  try {
    const started = await (await api("/api/export", { path: S.path, look: S.spec, wb: S.wb, format: $("export-format").value })).json();
    await follow(started.job, "export");
  } catch (error) { fail(error); }
});
$("apply-folder").addEventListener("click", async () => {
  try {
    const started = await (await api("/api/apply", { look: S.spec, wb: S.wb, format: $("export-format").value })).json();
    await follow(started.job, `folder → ${started.folder}`);
  } catch (error) { fail(error); }
});

// ---------- lab ----------
async function runLab() {
  $("lab-summary").textContent = "measuring…";
  const result = await (await api("/api/lab", { path: S.path, look: S.spec, wb: S.wb })).json();
  const response = await api("/api/preview", body({ look: S.spec, channel: "lab", size: 1600 }));
  const image = $("lab-image");
  image.onload = () => {  // as large as the stage allows, up or down
    const box = $("lab-stage"), scale = Math.min((box.clientWidth - 32) / image.naturalWidth, (box.clientHeight - 32) / image.naturalHeight);
    image.style.width = `${Math.floor(image.naturalWidth * scale)}px`; image.style.height = `${Math.floor(image.naturalHeight * scale)}px`;
  };
  image.src = URL.createObjectURL(await response.blob());
  $("lab-summary").textContent = `mean ΔE00 ${result.de00_mean.toFixed(2)}  ·  max ${result.de00_max.toFixed(2)}`;
  const grade = (d) => (d < 2 ? "good" : d < 5 ? "fair" : "poor");
  $("lab-overlay").replaceChildren(...result.patches.filter((p) => p.box).map((p) => {
    const d = document.createElement("div");
    d.className = `patch ${grade(p.de00)}`; d.title = `${p.name}: ΔE00 ${p.de00.toFixed(2)}`;
    Object.assign(d.style, { left: `${p.box[0] * 100}%`, top: `${p.box[1] * 100}%`,
      width: `${(p.box[2] - p.box[0]) * 100}%`, height: `${(p.box[3] - p.box[1]) * 100}%` });
    d.textContent = p.de00.toFixed(1);
    return d;
  }));
  $("lab-table").tBodies[0].replaceChildren(...result.patches.map((p) => {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td></td><td></td>";
    tr.cells[0].textContent = p.name; tr.cells[1].textContent = p.de00.toFixed(2);
    tr.cells[1].className = grade(p.de00);
    return tr;
  }));
  S.lab = result;
}

// ---------- start ----------
(async function start() {
  try {
    const [folder, schema, looks] = await Promise.all([api("/api/folder"), api("/api/schema"), api("/api/looks")]);
    const data = await folder.json();
    S.files = data.files; S.schema = (await schema.json()).stages; S.looks = (await looks.json()).looks;
    $("folder-name").textContent = data.folder;
    drawGrid();
    status(`${S.files.length} raws`);
    document.body.dataset.ready = "1";
    await loadInfos();
  } catch (error) { fail(error); }
})();
