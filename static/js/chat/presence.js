// Who has the chat open ("Here now", [data-chat-present]) and who is typing
// ([data-chat-typing]). The full list of people comes with each `join` answer; after that
// `presence_changed` says who came and who went, and `typing` who is writing (shown for 4 s,
// or until their message arrives or the connection is lost).

import { fill } from "./rendering.js";

// options: {typingLine, presenceBox, presenceList (elements, each may be null), strings,
//   group, me, locale}.
export function createPresence(options) {
  var typingLine = options.typingLine;
  var presenceBox = options.presenceBox;
  var presenceList = options.presenceList;
  var strings = options.strings;

  var typingPeople = new Map(); // person id → {name, timer}
  var present = new Map(); // person id → {id, name, organisation}

  // --- typing ------------------------------------------------------------------------------------

  function renderTyping() {
    if (!typingLine) { return; }
    var names = Array.from(typingPeople.values()).map(function (p) { return p.name; });
    typingLine.textContent = names.length === 0 ? "" : names.length === 1
      ? fill(strings.typing_one, { name: names[0] }) : strings.typing_many;
  }

  function stopTyping(personId) {
    var person = typingPeople.get(personId);
    if (person) {
      clearTimeout(person.timer);
      typingPeople.delete(personId);
      renderTyping();
    }
  }

  // The connection is lost: nobody is known to be typing any more.
  function clearTyping() {
    typingPeople.forEach(function (person) { clearTimeout(person.timer); });
    typingPeople.clear();
    renderTyping();
  }

  // A `typing` event: {group, user: {id, name}}.
  function typing(data) {
    if (data.group !== options.group || !data.user || data.user.id === options.me) { return; }
    stopTyping(data.user.id);
    var timer = setTimeout(function () { stopTyping(data.user.id); }, 4000);
    typingPeople.set(data.user.id, { name: data.user.name, timer: timer });
    renderTyping();
  }

  // --- who is here ---------------------------------------------------------------------------------

  function renderPresence() {
    if (!presenceBox || !presenceList) { return; }
    var people = Array.from(present.values()).sort(function (a, b) {
      return a.name.localeCompare(b.name, options.locale) || a.id - b.id;
    });
    presenceBox.hidden = false;
    presenceList.textContent = "";
    if (!people.length) {
      presenceList.appendChild(Object.assign(document.createElement("li"),
        { textContent: strings.nobody }));
      return;
    }
    people.forEach(function (person) {
      var item = document.createElement("li");
      item.textContent = person.name + (person.organisation ? " — " + person.organisation : "") +
        (person.id === options.me ? " (" + strings.you + ")" : "");
      presenceList.appendChild(item);
    });
  }

  // The whole list, from a `join` answer.
  function reset(people) {
    present.clear();
    people.forEach(function (person) { present.set(person.id, person); });
    renderPresence();
  }

  // A `presence_changed` event: {group, joined: [person], left: [id]}.
  function changed(data) {
    if (data.group !== options.group) { return; }
    (data.joined || []).forEach(function (person) { present.set(person.id, person); });
    (data.left || []).forEach(function (id) { present.delete(id); });
    renderPresence();
  }

  return {
    reset: reset,
    changed: changed,
    typing: typing,
    stopTyping: stopTyping,
    clearTyping: clearTyping
  };
}
