// A multiple choice (templates/_macros/forms.html chips_field) made quicker to use: a filter
// that hides the choices not matching what is typed (ignoring case and accents: "leczna"
// finds "Łęczna"), the chosen ones as chips above it (a chip's button unticks its choice),
// and a polite live region telling how many are chosen. The checkboxes stay what the form
// sends: without this file the same list of checkboxes works on its own.
(function () {
  "use strict";
  var LETTERS = { "ł": "l", "đ": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h" };
  function fold(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[łđøßæœıħ]/g, function (c) { return LETTERS[c]; }).replace(/\s+/g, " ").trim();
  }

  function enhance(group, index) {
    var box = group.querySelector(".chips-box");
    var boxes = Array.prototype.slice.call(group.querySelectorAll('input[type="checkbox"]'));
    if (!box || !boxes.length) return;
    var id = (group.id || "chips-" + index);

    var chosen = document.createElement("ul");
    chosen.className = "chips-chosen";
    chosen.setAttribute("aria-label", group.dataset.chosenLabel);

    var filterField = document.createElement("div");
    filterField.className = "chips-filter";
    var label = document.createElement("label");
    label.htmlFor = id + "-filter";
    label.textContent = group.dataset.filterLabel;
    var filter = document.createElement("input");
    filter.type = "search";
    filter.id = id + "-filter";
    filter.autocomplete = "off";
    filter.setAttribute("aria-controls", box.querySelector(".chips-options").id || "");
    filterField.appendChild(label);
    filterField.appendChild(filter);

    var none = document.createElement("p");
    none.className = "chips-none";
    none.textContent = group.dataset.noneLabel;
    none.hidden = true;

    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    status.setAttribute("role", "status");

    box.parentNode.insertBefore(chosen, box);
    box.parentNode.insertBefore(filterField, box);
    box.appendChild(none);
    group.appendChild(status);

    var words = boxes.map(function (input) {
      var item = input.closest("li");
      return { input: input, item: item, text: fold(item.textContent) };
    });

    function title(input) { return input.dataset.chipTitle || input.value; }

    function drawChips(announce) {
      chosen.textContent = "";
      var count = 0;
      boxes.forEach(function (input) {
        if (!input.checked) return;
        count += 1;
        var li = document.createElement("li");
        var chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip";
        chip.dataset.value = input.value;
        chip.setAttribute("aria-label", group.dataset.removeLabel.replace("{title}", title(input)));
        var mark = document.createElement("span");
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = "×";
        chip.appendChild(mark);
        chip.appendChild(document.createTextNode(" " + title(input)));
        li.appendChild(chip);
        chosen.appendChild(li);
      });
      if (announce) status.textContent = group.dataset.countLabel.replace("{count}", String(count));
    }

    function applyFilter() {
      var wanted = fold(filter.value);
      var shown = 0;
      words.forEach(function (w) {
        var match = !wanted || w.text.indexOf(wanted) !== -1;
        w.item.hidden = !match;
        if (match) shown += 1;
      });
      none.hidden = shown > 0;
    }

    group.addEventListener("change", function (event) {
      if (event.target.type === "checkbox") drawChips(true);
    });
    chosen.addEventListener("click", function (event) {
      var chip = event.target.closest(".chip");
      if (!chip) return;
      var input = boxes.filter(function (b) { return b.value === chip.dataset.value; })[0];
      if (!input) return;
      // Where the focus goes once the chip is gone: the next chip, the previous one, the filter.
      var li = chip.parentNode;
      var next = li.nextElementSibling || li.previousElementSibling;
      var nextValue = next ? next.querySelector(".chip").dataset.value : null;
      input.checked = false;
      input.dispatchEvent(new Event("change", { bubbles: true }));  // drafts.js keeps it too
      var target = nextValue && chosen.querySelector('.chip[data-value="' + nextValue + '"]');
      (target || filter).focus();
    });
    filter.addEventListener("input", applyFilter);
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // not sending the form: tick the only choice left, if one
        event.preventDefault();
        var visible = words.filter(function (w) { return !w.item.hidden; });
        if (visible.length === 1) {
          visible[0].input.checked = !visible[0].input.checked;
          visible[0].input.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } else if (event.key === "Escape" && filter.value) {
        event.preventDefault();
        filter.value = "";
        applyFilter();
      }
    });
    // The form's own state and the filter's: the filter is no field of the form.
    filter.removeAttribute("name");
    drawChips(false);
    applyFilter();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chips]"), enhance);
})();
