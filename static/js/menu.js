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
  menus.forEach(function (menu) {
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
})();
