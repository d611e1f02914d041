// Accord's own small scripts. Everything works without them; they only add comfort.
(function () {
  "use strict";

  // Quick log: "Add my current location" fills the hidden latitude/longitude fields.
  function setUpGeolocation(form) {
    var toggle = form.querySelector("[data-geolocate-toggle]");
    var status = form.querySelector("[data-geolocate-status]");
    var lat = form.querySelector("input[name=latitude]");
    var lng = form.querySelector("input[name=longitude]");
    if (!toggle || !lat || !lng) return;
    if (!("geolocation" in navigator)) { toggle.disabled = true; return; }
    toggle.addEventListener("change", function () {
      if (!toggle.checked) { lat.value = ""; lng.value = ""; status.textContent = ""; return; }
      status.textContent = status.dataset.waiting || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lng.value = pos.coords.longitude.toFixed(6);
        status.textContent = lat.value + ", " + lng.value;
      }, function (err) {
        toggle.checked = false; lat.value = ""; lng.value = "";
        status.textContent = err.message;
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  // Pipeline board: dropping a card on a column submits the card's "Move to" form (htmx
  // swaps in the board the server returns: the card moved, or back with its errors).
  function setUpBoard(board) {
    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest && event.target.closest("[data-opp]");
      if (!card) return;
      event.dataTransfer.setData("text/plain", card.dataset.opp);
      event.dataTransfer.effectAllowed = "move";
    });
    board.addEventListener("dragover", function (event) {
      var col = event.target.closest && event.target.closest("[data-stage]");
      if (!col) return;
      event.preventDefault();
      board.querySelectorAll(".drop-target").forEach(function (c) { if (c !== col) c.classList.remove("drop-target"); });
      col.classList.add("drop-target");
    });
    board.addEventListener("dragleave", function (event) {
      var col = event.target.closest && event.target.closest("[data-stage]");
      if (col && !col.contains(event.relatedTarget)) col.classList.remove("drop-target");
    });
    board.addEventListener("drop", function (event) {
      var col = event.target.closest && event.target.closest("[data-stage]");
      if (!col) return;
      event.preventDefault();
      col.classList.remove("drop-target");
      var id = event.dataTransfer.getData("text/plain");
      var card = document.getElementById("opp-" + id);
      if (!card || card.closest("[data-stage]") === col) return;
      var form = card.querySelector("form.move");
      form.querySelector("select[name=stage]").value = col.dataset.stage;
      form.requestSubmit();
    });
  }

  // A control marked data-autosubmit submits its form when changed (no inline handlers:
  // the content security policy forbids them).
  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control.matches && control.matches("[data-autosubmit]") && control.form) {
      control.form.requestSubmit();
    }
  });

  // On a phone the main navigation and a list's filters fold behind a button
  // (button[data-disclosure] with aria-controls; the CSS folds .collapsible only on narrow
  // screens). Without this script nothing is folded.
  function setUpDisclosure(button) {
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) return;
    target.classList.add("collapsible");
    target.classList.toggle("open", button.getAttribute("aria-expanded") === "true");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      target.classList.toggle("open", open);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-disclosure]").forEach(setUpDisclosure);
    document.querySelectorAll("form[data-geolocate]").forEach(setUpGeolocation);
    document.querySelectorAll("[data-board]").forEach(setUpBoard);
  });
})();
