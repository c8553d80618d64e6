// @mention autocomplete for post text areas (progressive enhancement: without JavaScript
// people type @name.surname themselves). A text area opts in with data-mentions="<url>".
(function () {
  "use strict";

  function currentWord(area) {
    var before = area.value.slice(0, area.selectionStart);
    var match = /(^|[^\w@])@([\w.\-]*)$/.exec(before);
    return match ? { text: match[2], start: area.selectionStart - match[2].length } : null;
  }

  function setUp(area) {
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var listId = area.id + "-mentions";
    var options = [];
    var active = -1;
    var pending = null;

    list.id = listId;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    if (area.labels && area.labels[0]) {  // a listbox needs a name: that of its text area
      area.labels[0].id = area.labels[0].id || area.id + "-label";
      list.setAttribute("aria-labelledby", area.labels[0].id);
    }
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", listId);
    area.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);

    function close() {
      list.hidden = true;
      list.textContent = "";
      options = [];
      active = -1;
      area.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      var word = currentWord(area);
      if (!word || !options[index]) { return close(); }
      var handle = options[index].handle;
      var end = area.selectionStart;
      area.value = area.value.slice(0, word.start) + handle + " " + area.value.slice(end);
      var caret = word.start + handle.length + 1;
      area.setSelectionRange(caret, caret);
      close();
      area.focus();
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        area.setAttribute("aria-activedescendant", listId + "-" + index);
      }
    }

    function show(people) {
      close();
      options = people;
      if (!people.length) { return; }
      people.forEach(function (person, i) {
        var item = document.createElement("li");
        item.id = listId + "-" + i;
        item.setAttribute("role", "option");
        item.textContent = person.name + " (@" + person.handle + ")" +
          (person.organisation ? " — " + person.organisation : "");
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(item);
      });
      list.hidden = false;
      highlight(0);
      status.textContent = people.length + " ↓↑";
    }

    area.addEventListener("input", function () {
      var word = currentWord(area);
      if (!word) { return close(); }
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(area.dataset.mentions + "?q=" + encodeURIComponent(word.text),
            { credentials: "same-origin", signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(show)
        .catch(function () { /* typing on: the next keystroke asks again */ });
    });

    area.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % options.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + options.length) % options.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape") {
        close();
      }
    });

    area.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  document.querySelectorAll("textarea[data-mentions]").forEach(setUp);
})();
