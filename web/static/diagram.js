// Case diagrams: the drawing opens on the steps in progress at the width of its box; these
// buttons show the whole drawing or those steps again, and zoom (the box then scrolls to pan).
// No inline scripts: the CSP forbids them.
(function () {
  document.querySelectorAll(".diagram-tools").forEach(function (tools) {
    var box = document.getElementById(tools.getAttribute("data-for"));
    var svg = box && box.querySelector("svg[data-whole]");
    if (!svg) { tools.hidden = true; return; }
    var scale = 1;
    function show(view) {
      svg.setAttribute("viewBox", svg.getAttribute(view === "whole" ? "data-whole" : "data-focus"));
      scale = 1;
      svg.style.width = "100%";
      svg.style.maxHeight = "";
    }
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.hasAttribute("data-view")) {
        show(button.getAttribute("data-view"));
      } else if (button.hasAttribute("data-zoom")) {
        var centre = (box.scrollLeft + box.clientWidth / 2) / box.scrollWidth;
        scale = Math.min(8, Math.max(1, scale * parseFloat(button.getAttribute("data-zoom"))));
        svg.style.width = (scale * 100) + "%";
        svg.style.maxHeight = scale > 1 ? "none" : "";
        box.scrollLeft = centre * box.scrollWidth - box.clientWidth / 2;
      }
    });
  });
})();
