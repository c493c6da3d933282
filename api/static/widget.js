/* Harbor & Pine assistant: an embeddable chat bubble (no build step, no CDN, no cookies).
 *
 * Paste into a page of an allowed origin (ASSISTANT_API_ALLOWED_ORIGINS):
 *   <script src="https://API-HOST/widget/widget.js" defer></script>
 * Optional attributes: data-api="https://API-HOST" (default: where the script came from), data-title="...".
 * It talks to POST /v1/chat (Server-Sent Events read from fetch), shows the sources and sends thumbs to
 * /v1/feedback. All text is inserted as text, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__hpAssistantLoaded) return;
  window.__hpAssistantLoaded = true;
  var api = (script.getAttribute("data-api") || new URL(script.src).origin).replace(/\/$/, "");
  var title = script.getAttribute("data-title") || "Questions? Ask us";
  var conversationId = null;
  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);

  function init() {

  var css = [
    ".hp-bubble{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;",
    "padding:12px 18px;background:#1f5f4a;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".hp-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:min(380px,calc(100vw - 40px));",
    "height:min(520px,calc(100vh - 120px));display:none;flex-direction:column;background:#fff;color:#222;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);font:14px/1.45 system-ui,sans-serif;overflow:hidden}",
    ".hp-panel.hp-open{display:flex}",
    ".hp-head{padding:12px 14px;background:#1f5f4a;color:#fff;font-weight:600}",
    ".hp-log{flex:1;overflow-y:auto;padding:12px}",
    ".hp-msg{margin:0 0 10px;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".hp-user{background:#e8f1ee;margin-left:40px}",
    ".hp-bot{background:#f4f4f4;margin-right:20px}",
    ".hp-error{background:#fdecea;color:#8a1c1c}",
    ".hp-sources{margin:6px 0 0;padding-left:18px;font-size:12px;color:#555}",
    ".hp-rate{margin-top:6px;font-size:12px}.hp-rate button{border:1px solid #ccc;background:#fff;",
    "border-radius:6px;margin-right:6px;cursor:pointer;padding:2px 8px}",
    ".hp-form{display:flex;border-top:1px solid #ddd}.hp-form input{flex:1;border:0;padding:12px;font:inherit}",
    ".hp-form button{border:0;background:#1f5f4a;color:#fff;padding:0 16px;font:inherit;cursor:pointer}"
  ].join("");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  var style = el("style");
  style.textContent = css;
  document.head.appendChild(style);
  var bubble = el("button", "hp-bubble", title);
  bubble.type = "button";
  bubble.setAttribute("aria-expanded", "false");
  var panel = el("div", "hp-panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var head = el("div", "hp-head", title);
  var log = el("div", "hp-log");
  log.setAttribute("aria-live", "polite");
  var form = el("form", "hp-form");
  var input = el("input");
  input.type = "text";
  input.maxLength = 1000;
  input.placeholder = "Type your question";
  input.setAttribute("aria-label", "Your question");
  var send = el("button", null, "Send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  document.body.appendChild(panel);
  document.body.appendChild(bubble);

  bubble.addEventListener("click", function () {
    var open = panel.classList.toggle("hp-open");
    bubble.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
  });

  function say(cls, text) {
    var node = el("div", "hp-msg " + cls, text);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function showSources(node, sources) {
    if (!sources || !sources.length) return;
    var list = el("ol", "hp-sources");
    list.setAttribute("aria-label", "Sources");
    sources.forEach(function (s) {
      var item = el("li");
      var text = s.title && s.title !== s.source ? s.title + " (" + s.source + ")" : s.source;
      if (/^https?:\/\//i.test(s.source)) {
        var link = el("a", null, text);
        link.href = s.source;
        link.target = "_blank";
        link.rel = "noopener noreferrer nofollow";
        item.appendChild(link);
      } else {
        item.textContent = text;
      }
      list.appendChild(item);
    });
    node.appendChild(list);
  }

  function showRating(node, interactionId, ratedConversation) {
    if (interactionId === null || interactionId === undefined) return;
    var box = el("div", "hp-rate");
    [["Helpful", 1], ["Not helpful", 0]].forEach(function (pair) {
      var b = el("button", null, pair[1] ? "\uD83D\uDC4D" : "\uD83D\uDC4E");
      b.type = "button";
      b.setAttribute("aria-label", pair[0]);
      b.addEventListener("click", function () {
        fetch(api + "/v1/feedback", {
          method: "POST",
          headers: {"Content-Type": "application/json"},
          body: JSON.stringify({conversation_id: ratedConversation, interaction_id: interactionId, rating: pair[1]})
        }).then(function (r) {
          box.textContent = r.ok ? "Thanks for your feedback." : "Your feedback could not be saved.";
        }, function () { box.textContent = "Your feedback could not be saved."; });
      });
      box.appendChild(b);
    });
    node.appendChild(box);
  }

  function handle(event, data, node, text) {
    if (event === "start") {
      conversationId = data.conversation_id;
    } else if (event === "delta") {
      text.value += data.text;
      node.firstChild.textContent = text.value;
      log.scrollTop = log.scrollHeight;
    } else if (event === "done") {
      conversationId = data.conversation_id;
      node.firstChild.textContent = data.answer;
      showSources(node, data.sources);
      showRating(node, data.interaction_id, data.conversation_id);
    } else if (event === "error") {
      node.className = "hp-msg hp-error";
      node.firstChild.textContent = data.error || "Sorry, something went wrong.";
    }
  }

  function ask(message) {
    say("hp-user", message);
    var node = say("hp-bot", "");
    node.appendChild(document.createTextNode("\u2026"));
    var text = {value: ""};
    send.disabled = true;
    var body = {message: message};
    if (conversationId) body.conversation_id = conversationId;
    fetch(api + "/v1/chat", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (err) {
            if (response.status === 404) conversationId = null;  // expired: the next message starts afresh
            throw new Error(err.error || "The assistant could not answer (" + response.status + ").");
          });
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buffer += decoder.decode(chunk.value, {stream: true});
            var blocks = buffer.split("\n\n");
            buffer = blocks.pop();
            blocks.forEach(function (block) {
              var event = "message", data = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) event = line.slice(7);
                else if (line.indexOf("data: ") === 0) data += line.slice(6);
              });
              if (data) handle(event, JSON.parse(data), node, text);
            });
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) {
        node.className = "hp-msg hp-error";
        var refused = err instanceof TypeError;  // CORS refusal or network failure: fetch gives no details
        node.firstChild.textContent = refused ? "The assistant is not available on this site right now." : err.message;
      })
      .then(function () { send.disabled = false; });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var message = input.value.trim();
    if (!message) return;
    input.value = "";
    ask(message);
  });
  }
})();
