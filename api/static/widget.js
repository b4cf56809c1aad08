/*
 * Trading AI Assist: the embeddable chat widget.
 *
 *   <script src="https://HOST/widget.js" data-token="..." data-title="Ask us"></script>
 *
 * The script adds a chat bubble to the page it is included in. A question goes to the
 * streaming chat API of the server the script came from (POST /v1/chat/stream, server-sent
 * events); the answer, its SQL, its sources and a write waiting for the person's yes are shown
 * as the events arrive, and the conversation continues in the same thread.
 *
 * Attributes of the script tag:
 *   data-token     a bearer token (an Entra ID or development token, or an API key); or leave
 *                  it out and call window.TradingAssist.setToken(tokenOrFunction), where a
 *                  function (it may return a promise) is asked before every request, so the
 *                  host page can hand out fresh tokens
 *   data-title     the panel's title (default "Trading AI Assist")
 *   data-greeting  the first line shown in the panel
 *   data-open      "true" opens the panel at once
 *   data-api       the API's address, when it is not where widget.js was loaded from
 *
 * The page's origin must be listed in the server's CORS_ORIGINS. No dependencies, no inline
 * script or style: the styles are a constructed stylesheet in the widget's own shadow root, so
 * a host page's content security policy needs only the API in script-src and connect-src, and
 * the page's styles and the widget's do not touch.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var options = script.dataset;
  var api = (options.api || new URL(script.src).origin).replace(/\/+$/, "");
  var tokenSource = options.token || null;
  var threadId = null;
  var busy = false;

  var CSS = [
    ":host { all: initial; }",
    ".bubble { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;",
    "  width: 56px; height: 56px; border-radius: 50%; border: none; cursor: pointer;",
    "  background: #0b5cad; color: #fff; font: 600 14px system-ui, sans-serif;",
    "  box-shadow: 0 4px 14px rgba(0, 0, 0, .25); }",
    ".panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483000;",
    "  width: min(380px, calc(100vw - 40px)); height: min(540px, calc(100vh - 120px));",
    "  display: flex; flex-direction: column; background: #fff; color: #1b1f24;",
    "  border-radius: 12px; box-shadow: 0 8px 30px rgba(0, 0, 0, .25);",
    "  font: 14px/1.45 system-ui, sans-serif; overflow: hidden; }",
    ".panel[hidden] { display: none; }",
    "header { display: flex; align-items: center; justify-content: space-between;",
    "  padding: 10px 14px; background: #0b5cad; color: #fff; font-weight: 600; }",
    "header button { background: none; border: none; color: #fff; font-size: 18px;",
    "  cursor: pointer; }",
    ".log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column;",
    "  gap: 8px; }",
    ".msg { max-width: 88%; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap;",
    "  overflow-wrap: anywhere; }",
    ".user { align-self: flex-end; background: #0b5cad; color: #fff; }",
    ".assistant { align-self: flex-start; background: #eef1f5; }",
    ".status { color: #5b6570; font-size: 12px; font-style: italic; }",
    ".error { align-self: stretch; background: #fdecea; color: #8a1c12; }",
    "details { margin-top: 6px; font-size: 12px; }",
    "pre { margin: 4px 0 0; padding: 6px; background: #fff; border-radius: 6px;",
    "  white-space: pre-wrap; font: 12px ui-monospace, monospace; }",
    ".sources { margin: 6px 0 0; padding-left: 18px; font-size: 12px; color: #3a434d; }",
    ".confirm { margin-top: 8px; padding: 8px; border: 1px solid #c9d2dc; border-radius: 8px;",
    "  background: #fff; }",
    ".confirm button { margin: 6px 6px 0 0; padding: 5px 12px; border-radius: 6px;",
    "  border: 1px solid #0b5cad; cursor: pointer; background: #fff; color: #0b5cad; }",
    ".confirm button.approve { background: #0b5cad; color: #fff; }",
    ".confirm button:disabled { opacity: .5; cursor: default; }",
    "form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #e1e5ea; }",
    "input { flex: 1; padding: 8px; border: 1px solid #c9d2dc; border-radius: 8px;",
    "  font: inherit; }",
    "form button { padding: 8px 12px; border: none; border-radius: 8px; cursor: pointer;",
    "  background: #0b5cad; color: #fff; font: inherit; }",
    "form button:disabled { opacity: .5; cursor: default; }",
  ].join("\n");

  // -- the elements, in a shadow root of their own --------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // text only: an answer is never markup
    return node;
  }

  var host = el("div");
  host.id = "trading-assist-widget";
  var root = host.attachShadow({ mode: "open" });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];

  var bubble = el("button", "bubble", "Chat");
  bubble.type = "button";
  bubble.setAttribute("aria-label", "Open the chat");
  var panel = el("section", "panel");
  panel.hidden = true;
  panel.setAttribute("aria-label", options.title || "Trading AI Assist");
  var header = el("header");
  var close = el("button", "", "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", "Close the chat");
  header.append(el("span", "", options.title || "Trading AI Assist"), close);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("input");
  input.placeholder = "Ask about your accounts, orders, payments...";
  input.setAttribute("aria-label", "Your question");
  var send = el("button", "", "Send");
  send.type = "submit";
  form.append(input, send);
  panel.append(header, log, form);
  root.append(panel, bubble);
  if (options.greeting) log.append(el("div", "msg assistant", options.greeting));

  function setOpen(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
  }
  bubble.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });

  function scrolled(node) {
    log.scrollTop = log.scrollHeight;
    return node;
  }

  // -- talking to the API ---------------------------------------------------------------------
  async function headers() {
    var token = typeof tokenSource === "function" ? await tokenSource() : tokenSource;
    var sent = { "Content-Type": "application/json" };
    if (token) sent.Authorization = "Bearer " + token;
    return sent;
  }

  async function call(path, body, accept) {
    var sent = await headers();
    sent.Accept = accept;
    try {
      return await fetch(api + path, { method: "POST", headers: sent, body: JSON.stringify(body) });
    } catch (exc) {
      // the browser hides why: the server is down, or it does not let this site in (CORS)
      throw new Error(
        "Could not reach the assistant at " + api + ": it is not answering, or this site (" +
        location.origin + ") is not allowed to use it (the server's CORS_ORIGINS)."
      );
    }
  }

  async function refusal(response) {
    var message = response.statusText;
    try {
      message = (await response.json()).error.message;
    } catch (exc) { /* not our JSON: keep the status text */ }
    if (response.status === 401) {
      return "Not signed in (401): this page gave the assistant no valid access token. " +
        "The server says: " + message;
    }
    if (response.status === 403) return "Not allowed (403): " + message;
    if (response.status === 429) {
      var wait = response.headers.get("Retry-After");
      return "Too many questions (429)" + (wait ? ": try again in " + wait + " s." : ".");
    }
    return "The assistant refused (" + response.status + "): " + message;
  }

  // Server-sent events from a fetch body: blocks of "event: name" and "data: json" lines.
  async function* events(response) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        var name = "message";
        var data = [];
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (data.length) yield { event: name, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  // -- one answer, drawn as its events arrive ---------------------------------------------------
  function Answer() {
    this.box = el("div", "msg assistant");
    this.status = el("div", "status", "Thinking...");
    this.text = el("div");
    this.box.append(this.status, this.text);
    this.sources = null;
    this.confirm = null;
    log.append(scrolled(this.box));
  }

  Answer.prototype.on = function (event, data) {
    if (event === "route") {
      this.status.textContent = "Working on it (" + data.route + ")...";
    } else if (event === "sql") {
      var details = el("details");
      details.append(el("summary", "", "SQL"), el("pre", "", data.sql));
      this.box.append(details);
    } else if (event === "citations") {
      this.cite(data.citations);
    } else if (event === "answer") {
      this.text.textContent += data.answer;
    } else if (event === "confirm") {
      this.ask(data.pending_action);
    } else if (event === "done") {
      threadId = data.thread_id;
      if (!this.text.textContent) this.text.textContent = data.answer;
      if (!this.sources && data.citations && data.citations.length) this.cite(data.citations);
      if (this.confirm) this.confirm.querySelectorAll("button").forEach(function (b) {
        b.disabled = false; // the thread id to resume is known now
      });
      this.status.remove();
    } else if (event === "error") {
      this.status.remove();
      this.box.className = "msg error";
      this.text.textContent = data.message;
    }
    scrolled(this.box);
  };

  Answer.prototype.cite = function (citations) {
    this.sources = el("ol", "sources");
    this.sources.setAttribute("aria-label", "Sources");
    citations.forEach(function (c) {
      var where = [c.title, c.section, c.page ? "p. " + c.page : null].filter(Boolean);
      var item = el("li", "", where.join(", "));
      item.value = c.number;
      this.sources.append(item);
    }, this);
    this.box.append(this.sources);
  };

  Answer.prototype.ask = function (action) {
    var card = el("div", "confirm");
    var approve = el("button", "approve", "Approve");
    var reject = el("button", "", "Reject");
    [approve, reject].forEach(function (b) { b.type = "button"; b.disabled = true; });
    card.append(el("div", "", action.summary), approve, reject);
    this.confirm = card;
    this.box.append(card);
    var decide = async function (yes) {
      approve.disabled = reject.disabled = true;
      var answer = new Answer();
      try {
        var response = await call(
          "/v1/threads/" + encodeURIComponent(threadId) + "/resume",
          { approve: yes, action_id: action.id },
          "application/json"
        );
        if (!response.ok) throw new Error(await refusal(response));
        answer.on("done", await response.json());
      } catch (exc) {
        answer.on("error", { message: exc.message });
      }
    };
    approve.addEventListener("click", function () { decide(true); });
    reject.addEventListener("click", function () { decide(false); });
  };

  async function ask(question) {
    busy = send.disabled = true;
    log.append(scrolled(el("div", "msg user", question)));
    var answer = new Answer();
    try {
      var body = { message: question };
      if (threadId) body.thread_id = threadId;
      var response = await call("/v1/chat/stream", body, "text/event-stream");
      if (!response.ok) throw new Error(await refusal(response));
      for await (var item of events(response)) answer.on(item.event, item.data);
    } catch (exc) {
      answer.on("error", { message: exc.message });
    } finally {
      busy = send.disabled = false;
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    ask(question);
  });

  function start() {
    document.body.append(host);
    if (options.open === "true") setOpen(true);
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);

  window.TradingAssist = {
    /** A token, or a function returning one (or a promise of one), asked before each request. */
    setToken: function (source) { tokenSource = source; },
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
  };
})();
