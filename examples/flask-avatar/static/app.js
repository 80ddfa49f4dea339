// The Cruddur profile page: dev login, profile with avatar, edit form, avatar upload.
//
// Avatar upload, the seed's way ("Upload"): check the file here (JPEG/PNG magic bytes, and that the
// browser can decode it), POST /api/avatars/key_upload for a presigned PUT URL, PUT the file straight
// to the uploads bucket, then poll GET /api/profile/<handle> until avatar_version changes (the
// process-images Lambda wrote the new avatar). The Lambda logs and skips a file it cannot read, so
// the page cannot hear about it; after the processing timeout it asks the server directly
// (POST /api/profile/avatar), whose 413/415/422 answer is shown - the user always gets a verdict.
// "Upload directly" POSTs the file to the app, which makes the avatar itself.
//
// Every avatar URL the API hands out is versioned (...jpg?v=<content hash>), so a new avatar is a new
// URL: the browser (and CloudFront) never shows a stale copy.
"use strict";

(function () {
  const SESSION_KEY = "cruddur.session";
  const params = new URLSearchParams(location.search);
  // Seconds to wait for the Lambda before asking the server directly (?processing_timeout=N).
  const PROCESSING_TIMEOUT_S = positive(params.get("processing_timeout"), 30);
  const POLL_INTERVAL_MS = 500;

  const $ = (id) => document.getElementById(id);
  let session = loadSession(); // {token, user}
  let profile = null; // the last GET /api/profile/<handle> answer
  let busy = false;

  function positive(text, fallback) {
    const n = Number(text);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  }

  function loadSession() {
    try {
      const s = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
      return s && s.token && s.user && s.user.handle ? s : null;
    } catch (_) {
      return null;
    }
  }

  function saveSession(s) {
    session = s;
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else localStorage.removeItem(SESSION_KEY);
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // ------------------------------------------------------------------ API

  class Unauthorized extends Error {}

  // One JSON API call. Resolves {status, data}; throws Unauthorized on a 401 of a signed-in call,
  // Error("network") when the app cannot be reached.
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (session) headers.Authorization = "Bearer " + session.token;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, { method, headers, body: payload, cache: "no-store" });
    } catch (e) {
      throw new Error("The app could not be reached: check that it is running.");
    }
    let data = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = { error: "bad_response", detail: text.slice(0, 200) };
      }
    }
    if (res.status === 401 && session) throw new Unauthorized();
    return { status: res.status, data: data || {} };
  }

  function describeError(status, data) {
    const codes = [].concat(data.errors || [], data.error ? [data.error] : []);
    const text = codes.map((c) => MESSAGES[c] || c.replace(/_/g, " ")).join(" ");
    return (text || "The server answered HTTP " + status + ".") + (data.detail ? " (" + data.detail + ")" : "");
  }

  // What the API's error codes mean, in words.
  const MESSAGES = {
    display_name_blank: "Display name can't be blank.",
    bio_too_long: "Bio is too long (300 characters at most): shorten it and save again.",
    unauthorized: "You are not signed in.",
    too_large: "This photo is too large for the server: choose a smaller one.",
    unsupported_format: "This file is not a JPEG or PNG image: choose a JPEG or PNG photo.",
    corrupt_image: "This image is damaged and cannot be read: choose another photo.",
    image_too_large: "This image has too many pixels for the server: choose a smaller one.",
    image_rejected: "The server could not make an avatar of this image: choose another photo.",
    invalid_extension: "Only JPEG and PNG photos can be uploaded.",
    handle_invalid: "A handle is 1 to 32 lowercase letters, digits or underscores.",
    display_name_too_long: "Display name is too long (64 characters at most).",
    display_name_invalid: "Display name must be text.",
    bio_invalid: "Bio must be text.",
    no_file: "No file was sent.",
  };
  // Which form field a 422 code belongs to.
  const FIELD_OF = {
    display_name_blank: "display_name",
    display_name_too_long: "display_name",
    display_name_invalid: "display_name",
    bio_too_long: "bio",
    bio_invalid: "bio",
  };
  const BIO_MAX = 300; // the API's limit (bio_too_long past it); shown as a counter, not enforced here

  // ------------------------------------------------------------------ views

  function show(view) {
    $("login-view").hidden = view !== "login";
    $("profile-view").hidden = view !== "profile";
    $("whoami").hidden = !session;
    if (session) $("whoami-handle").textContent = "@" + session.user.handle;
  }

  function message(el, text) {
    el.textContent = text || "";
    el.hidden = !text;
  }

  function signedOut(note) {
    saveSession(null);
    profile = null;
    show("login");
    message($("login-error"), note || "");
    $("login-handle").focus();
  }

  function isMine(p) {
    return !!session && p.handle.toLowerCase() === String(session.user.handle).toLowerCase();
  }

  function renderProfile(p, { fillForm } = {}) {
    profile = p;
    $("owner-tools").hidden = !isMine(p);
    $("viewing-other").hidden = isMine(p) || !session;
    const name = p.display_name || p.handle;
    $("profile-display-name").textContent = name;
    $("profile-handle").textContent = p.handle;
    $("profile-bio").textContent = p.bio || "";
    $("profile-bio").hidden = !p.bio;
    $("profile-bio-empty").hidden = !!p.bio;
    $("avatar-placeholder").textContent = (name.trim()[0] || "?").toUpperCase();
    if (fillForm) {
      $("edit-display-name").value = p.display_name || "";
      $("edit-bio").value = p.bio || "";
      countBio();
      $("profile-fields").disabled = false;
    }
    renderAvatar(p.avatar_url);
  }

  // Shows the avatar once its image has loaded (so a failed load leaves the placeholder).
  function renderAvatar(url) {
    const img = $("avatar");
    img.alt = "Avatar of @" + (profile ? profile.handle : "");
    if (!url) {
      img.hidden = true;
      img.removeAttribute("src");
      $("avatar-placeholder").hidden = false;
      return Promise.resolve(false);
    }
    if (img.getAttribute("src") === url && img.complete && img.naturalWidth) return Promise.resolve(true);
    return new Promise((resolve) => {
      const pre = new Image();
      pre.onload = () => {
        img.src = url;
        img.hidden = false;
        $("avatar-placeholder").hidden = true;
        resolve(true);
      };
      pre.onerror = () => resolve(false);
      pre.src = url;
    });
  }

  // The profile in the URL (/profile/<handle>), else the signed-in user's.
  const URL_HANDLE = document.body.dataset.handle || "";

  async function loadProfile(opts) {
    const handle = URL_HANDLE || session.user.handle;
    const { status, data } = await api("GET", "/api/profile/" + encodeURIComponent(handle));
    if (status === 404) throw new Error("There is no user @" + handle + ".");
    if (status !== 200) throw new Error("Could not load the profile: " + describeError(status, data));
    renderProfile(data, opts);
    return data;
  }

  // ------------------------------------------------------------------ login

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const handle = $("login-handle").value.trim().toLowerCase();
    const displayName = $("login-display-name").value.trim();
    if (!handle) return message($("login-error"), "Enter a handle.");
    message($("login-error"), "");
    $("login-submit").disabled = true;
    try {
      const body = { handle };
      if (displayName) body.display_name = displayName;
      const { status, data } = await api("POST", "/api/auth/dev-login", body);
      if (status !== 200 || !data.token) return message($("login-error"), "Could not log in: " + describeError(status, data));
      saveSession({ token: data.token, user: data.user || { handle } });
      await start();
    } catch (e) {
      message($("login-error"), e.message);
    } finally {
      $("login-submit").disabled = false;
    }
  });

  $("logout").addEventListener("click", () => signedOut());

  // ------------------------------------------------------------------ profile form

  function countBio() {
    const n = $("edit-bio").value.trim().length;
    $("bio-count").textContent = n + " / " + BIO_MAX;
    $("bio-count").classList.toggle("over", n > BIO_MAX);
  }
  $("edit-bio").addEventListener("input", countBio);

  $("profile-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const f of ["display_name", "bio"]) {
      message($("error-" + f), "");
      $(f === "bio" ? "edit-bio" : "edit-display-name").removeAttribute("aria-invalid");
    }
    message($("profile-error"), "");
    message($("profile-saved"), "");
    $("profile-save").disabled = true;
    try {
      const body = { display_name: $("edit-display-name").value, bio: $("edit-bio").value };
      const { status, data } = await api("POST", "/api/profile/update", body);
      if (status === 200) {
        renderProfile(Object.assign({}, profile, data));
        message($("profile-saved"), "Profile saved.");
        return;
      }
      if (status === 422 && Array.isArray(data.errors)) {
        const general = [];
        for (const code of data.errors) {
          const field = FIELD_OF[code];
          if (field) {
            const el = $("error-" + field);
            message(el, (el.hidden ? "" : el.textContent + " ") + MESSAGES[code]);
            $(field === "bio" ? "edit-bio" : "edit-display-name").setAttribute("aria-invalid", "true");
          } else general.push(MESSAGES[code] || code.replace(/_/g, " "));
        }
        if (general.length) message($("profile-error"), general.join(" "));
        return;
      }
      message($("profile-error"), "Could not save: " + describeError(status, data));
    } catch (e) {
      if (e instanceof Unauthorized) return signedOut("Your session has expired: log in again.");
      message($("profile-error"), e.message);
    } finally {
      $("profile-save").disabled = false;
    }
  });

  // ------------------------------------------------------------------ avatar

  function setStatus(state, text, via) {
    const box = $("avatar-status");
    box.dataset.state = state;
    box.dataset.via = via || "";
    box.setAttribute("role", state === "error" ? "alert" : "status");
    $("avatar-status-text").textContent = text || "";
  }

  function setBusy(b) {
    busy = b;
    const hasFile = $("avatar-file").files.length > 0;
    $("avatar-upload").disabled = b || !hasFile;
    $("avatar-upload-direct").disabled = b || !hasFile;
    $("avatar-file").disabled = b;
  }

  $("avatar-file").addEventListener("change", () => {
    setBusy(false);
    setStatus("idle", "");
  });

  // The image format from the first bytes: "jpg", "png", or {unsupported: name} / null.
  async function sniff(file) {
    const b = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    const at = (off, bytes) => bytes.every((v, i) => b[off + i] === v);
    if (at(0, [0xff, 0xd8, 0xff])) return "jpg";
    if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
    if (at(0, [0x47, 0x49, 0x46, 0x38])) return { unsupported: "GIF" };
    if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50])) return { unsupported: "WebP" };
    if (at(4, [0x66, 0x74, 0x79, 0x70])) return { unsupported: "HEIC/AVIF" };
    if (at(0, [0x42, 0x4d])) return { unsupported: "BMP" };
    return null;
  }

  // Whether the browser can decode the whole file (catches truncated and damaged photos before
  // they are uploaded: the Lambda would only log and skip them).
  async function decodes(file) {
    try {
      const bmp = await createImageBitmap(file);
      const ok = bmp.width > 0 && bmp.height > 0;
      bmp.close();
      return ok;
    } catch (_) {
      return false;
    }
  }

  // Checks done before either upload; returns the extension, or throws an Error with the message.
  async function checkFile(file) {
    if (file.size === 0) throw new Error("This file is empty: choose a JPEG or PNG photo.");
    const kind = await sniff(file);
    if (!kind) throw new Error("This file is not an image the app can read: choose a JPEG or PNG photo.");
    if (typeof kind === "object") throw new Error(kind.unsupported + " images are not supported: choose a JPEG or PNG photo.");
    if (!(await decodes(file)))
      throw new Error("This image is damaged or incomplete (it cannot be decoded): choose another photo.");
    return kind;
  }

  function applyAvatar(data) {
    profile = Object.assign({}, profile, { avatar_url: data.avatar_url, avatar_version: data.version });
    return renderAvatar(data.avatar_url);
  }

  // POST /api/profile/avatar. Returns true when the avatar was made and shown.
  async function uploadDirect(file, { via, prefix } = {}) {
    setStatus("uploading", (prefix || "") + "Uploading to the app…", via);
    const form = new FormData();
    form.append("file", file, file.name || "avatar");
    const { status, data } = await api("POST", "/api/profile/avatar", form);
    if (status === 200 && data.avatar_url) {
      await applyAvatar(data);
      setStatus("done", (prefix || "") + "New avatar saved (" + data.width + "×" + data.height + ").", via);
      return true;
    }
    setStatus("error", (prefix || "") + describeError(status, data), via);
    return false;
  }

  // The seed's way: presigned PUT to the uploads bucket, the Lambda processes it, poll for the version.
  async function uploadViaBucket(file) {
    setStatus("checking", "Checking the photo…", "bucket");
    const ext = await checkFile(file);
    const before = profile ? profile.avatar_version : null;

    setStatus("uploading", "Uploading…", "bucket");
    const key = await api("POST", "/api/avatars/key_upload", { extension: ext });
    if (key.status !== 200 || !key.data.url) {
      setStatus("error", "Could not start the upload: " + describeError(key.status, key.data), "bucket");
      return;
    }
    let put;
    try {
      put = await fetch(key.data.url, {
        method: key.data.method || "PUT",
        headers: key.data.headers || {},
        body: file,
      });
    } catch (e) {
      setStatus("error", "The upload storage could not be reached (network or CORS error): try again or use Upload directly.", "bucket");
      return;
    }
    await put.text().catch(() => ""); // read the (empty) answer to its end
    if (!put.ok) {
      setStatus("error", "The upload storage refused the photo (HTTP " + put.status + "): try again or use Upload directly.", "bucket");
      return;
    }

    setStatus("processing", "Processing… your photo is being made into a 512×512 avatar.", "bucket");
    const deadline = Date.now() + PROCESSING_TIMEOUT_S * 1000;
    while (Date.now() < deadline) {
      await sleep(POLL_INTERVAL_MS);
      const { status, data } = await api("GET", "/api/profile/" + encodeURIComponent(profile.handle));
      if (status !== 200) continue;
      if (data.avatar_url && data.avatar_version != null && data.avatar_version !== before) {
        profile = Object.assign({}, profile, data);
        if (await renderAvatar(data.avatar_url)) {
          setStatus("done", "New avatar saved (512×512).", "bucket");
          return;
        }
      } else if (data.avatar_pending === false) {
        // The app stopped waiting without a new version: the Lambda wrote the same avatar again
        // (the same photo), or the wait expired. Let the app process the file: a clear verdict.
        return uploadDirect(file, { via: "fallback", prefix: "" });
      }
    }
    // No new version in time: the Lambda skipped the file (it could not read it) or is not running.
    // Ask the app to process the same file: its answer (saved, or why not) is the verdict.
    await uploadDirect(file, {
      via: "fallback",
      prefix: "Processing did not finish within " + PROCESSING_TIMEOUT_S + " s; checked with the server: ",
    });
  }

  async function runUpload(fn) {
    const file = $("avatar-file").files[0];
    if (!file || busy) return;
    setBusy(true);
    try {
      await fn(file);
    } catch (e) {
      if (e instanceof Unauthorized) return signedOut("Your session has expired: log in again.");
      setStatus("error", e.message, $("avatar-status").dataset.via);
    } finally {
      setBusy(false);
    }
  }

  $("avatar-upload").addEventListener("click", () => runUpload(uploadViaBucket));
  $("avatar-upload-direct").addEventListener("click", () => runUpload((f) => uploadDirect(f, { via: "direct" })));

  // ------------------------------------------------------------------ start

  async function start() {
    if (!session && !URL_HANDLE) return signedOut();
    show("profile");
    $("profile-fields").disabled = true;
    message($("page-error"), "");
    $("profile-card").hidden = false;
    try {
      await loadProfile({ fillForm: true });
    } catch (e) {
      if (e instanceof Unauthorized) return signedOut("Your session has expired: log in again.");
      $("profile-card").hidden = true;
      $("owner-tools").hidden = true;
      message($("page-error"), e.message);
    }
  }

  start();
})();
