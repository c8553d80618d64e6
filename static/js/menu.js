// The header menu is a <details> element and works without JavaScript; this only closes it
// when Escape is pressed inside it or something outside it is clicked, as menus do.
(function () {
  "use strict";
  var menus = document.querySelectorAll("details[data-menu]");
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  });
  // Signing out forgets the drafts kept in this browser (drafts.js): the next person at a
  // shared computer does not find them.
  document.querySelectorAll(".sign-out-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      try {
        Object.keys(localStorage).forEach(function (key) {
          if (key.indexOf("forum-draft:") === 0) localStorage.removeItem(key);
        });
      } catch (e) { /* no storage: nothing kept */ }
    });
  });
  // On a phone the group's tabs are one row that scrolls sideways (forum.css): the current
  // tab is brought into view so that "Chat" or "Members" is not hidden past the edge.
  document.querySelectorAll(".group-nav ul").forEach(function (row) {
    var current = row.querySelector("[aria-current]");
    if (current && row.scrollWidth > row.clientWidth) {
      var li = current.parentElement;
      row.scrollLeft = Math.max(0, li.offsetLeft - row.offsetLeft - (row.clientWidth - li.offsetWidth) / 2);
    }
  });
  menus.forEach(function (menu) {
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
})();
